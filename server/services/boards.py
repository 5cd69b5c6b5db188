"""Final standings built in one pass over submission rows: public board, final picks, private board.

The freeze writes these into the snapshot and `verify` rebuilds them from the database to compare;
both call this one builder so the two can never drift apart. It reads scores from submission rows
(not the cached team standings) and keeps a few items per team, so memory grows with teams, not
with submissions. The ranking rule (shown score, direction, ties to the earliest) is
services.ranking's, shared with the live public board.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import COUNTED_STATUSES, Competition, FinalSelection, Submission, Team
from server.services.ranking import rank_key, ranked, shown
from server.statuses import SubmissionStatus
from server.timeutil import isoformat_utc

__all__ = ["Row", "Boards", "BoardBuilder", "ROW_COLUMNS", "build_boards", "chosen_finals"]

# The submission columns the builder needs, in Row's field order.
ROW_COLUMNS = (Submission.id, Submission.team_id, Submission.status, Submission.received_at,
               Submission.public_score, Submission.private_score)


@dataclass(frozen=True)
class Row:
    id: str
    team_id: int
    status: str
    received_at: datetime
    public_score: float | None
    private_score: float | None


@dataclass
class _Team:
    entries: int = 0
    last_at: datetime | None = None
    best: tuple[Any, ...] | None = None  # (rank key, row) of the best public score
    top: list[tuple[Any, ...]] = field(default_factory=list)  # max_final best public, for auto picks
    chosen: list[Row] = field(default_factory=list)
    has_scored: bool = False


@dataclass(frozen=True)
class Boards:
    public: list[dict[str, Any]]
    private: list[dict[str, Any]]
    finals: list[dict[str, Any]]  # per team: team_id, team, mode (chosen|auto), submission_ids

    def final_flags(self) -> dict[str, str]:
        """Map submission id → "chosen"/"auto" for every final pick."""
        return {sid: f["mode"] for f in self.finals for sid in f["submission_ids"]}


class BoardBuilder:
    """Feed every submission row of one competition (any order), then call `finish`."""

    def __init__(self, comp: Competition, chosen: dict[str, int], names: dict[int, str]) -> None:
        self.comp = comp
        self.chosen = chosen  # submission id → team id, from final_selections
        self.chosen_teams = set(chosen.values())
        self.names = names
        self.teams: dict[int, _Team] = {}

    def _key(self, score: float, row: Row) -> tuple[Any, ...]:
        return rank_key(self.comp, score, row.received_at, row.id)

    def add(self, row: Row) -> None:
        state = self.teams.setdefault(row.team_id, _Team())
        if row.status in COUNTED_STATUSES:
            state.entries += 1
            state.last_at = row.received_at if state.last_at is None else max(state.last_at, row.received_at)
        if row.status != SubmissionStatus.SCORED:
            return
        state.has_scored = True
        if row.id in self.chosen:
            state.chosen.append(row)
        if row.public_score is None:
            return
        key = self._key(row.public_score, row)
        if state.best is None or key < state.best[0]:
            state.best = (key, row)
        state.top.append((key, row))
        state.top.sort(key=lambda item: item[0])
        del state.top[self.comp.max_final:]

    def finish(self) -> Boards:
        comp = self.comp
        leaders = ((s.best[0], s.best[1], t, s) for t, s in self.teams.items() if s.best is not None)
        public: list[dict[str, Any]] = []
        by_team: dict[int, dict[str, Any]] = {}
        for rank, (_, row, team_id, state) in ranked(leaders, key=lambda item: item[0]):
            entry = {"rank": rank, "team": self.names[team_id], "team_id": team_id,
                     "score": shown(comp, row.public_score), "submission_id": row.id,
                     "received_at": isoformat_utc(row.received_at), "entries": state.entries,
                     "last_submission_at": isoformat_utc(state.last_at)}
            public.append(entry)
            by_team[team_id] = entry
        finals: list[dict[str, Any]] = []
        best_private: list[tuple[tuple[Any, ...], Row, str]] = []
        for team_id in sorted(t for t, s in self.teams.items() if s.has_scored):
            state = self.teams[team_id]
            if team_id in self.chosen_teams:
                mode, picks = "chosen", sorted(state.chosen, key=lambda r: (r.received_at, r.id))
            else:
                mode, picks = "auto", [row for _, row in state.top]
            finals.append({"team_id": team_id, "team": self.names[team_id], "mode": mode,
                           "submission_ids": [r.id for r in picks]})
            keyed = [(self._key(r.private_score, r), r) for r in picks if r.private_score is not None]
            if keyed:
                key, row = min(keyed, key=lambda item: item[0])
                best_private.append((key, row, mode))
        private: list[dict[str, Any]] = []
        for rank, (_, row, mode) in ranked(best_private, key=lambda item: item[0]):
            pub = by_team.get(row.team_id)
            prank = pub["rank"] if pub else None
            private.append({
                "rank": rank, "team": self.names[row.team_id], "team_id": row.team_id,
                "score": shown(comp, row.private_score), "submission_id": row.id,
                "received_at": isoformat_utc(row.received_at), "final": mode,
                "entries": pub["entries"] if pub else None, "public_rank": prank,
                "move": (prank - rank) if prank is not None else None,
            })
        return Boards(public, private, finals)


def chosen_finals(session: Session, comp: Competition) -> dict[str, int]:
    """Map each chosen final's submission id to its team."""
    return dict(session.execute(sa.select(FinalSelection.submission_id, FinalSelection.team_id)
                                .where(FinalSelection.competition_id == comp.id)).all())


def team_names(session: Session) -> dict[int, str]:
    return dict(session.execute(sa.select(Team.id, Team.name)).all())


def team_ids_named(session: Session, names: Iterable[str]) -> dict[int, str]:
    """The ids of the teams with these names (a few, by the unique index on names)."""
    return dict(session.execute(sa.select(Team.id, Team.name).where(Team.name.in_(list(names)))).all())


def build_boards(session: Session, comp: Competition, rows: Iterable[Row] | None = None,
                 team_id: int | None = None) -> Boards:
    """Build the boards from `rows`, or stream this competition's submissions from the database
    (only one team's with `team_id`: enough for its final picks, and an index seek)."""
    builder = BoardBuilder(comp, chosen_finals(session, comp), team_names(session))
    if rows is None:
        query = sa.select(*ROW_COLUMNS).where(Submission.competition_id == comp.id)
        if team_id is not None:
            query = query.where(Submission.team_id == team_id)
        rows = (Row(*r) for r in session.execute(query.execution_options(yield_per=2000)))
    for row in rows:
        builder.add(row)
    return builder.finish()
