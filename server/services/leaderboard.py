"""Public standings (kept per team, so reading the board is an index seek) and the leaderboard
as a caller may see it. Final picks and the private board are built by services.boards; the
ranking rule itself (rounding, direction, ties) is services.ranking's.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.caller import Caller
from server.db import LockKey, advisory_lock
from server.models import COUNTED_STATUSES, Competition, Submission, Team, TeamStanding
from server.services.board_version import standings_changed
from server.services.boards import build_boards
from server.services.ladder import ladder_best_id
from server.services.ranking import best as best_ranked
from server.services.ranking import rank_key, shown, sort_key
from server.statuses import SubmissionStatus
from server.timeutil import isoformat_utc

__all__ = ["refresh_standing", "standing_after_upload", "standing_after_scored", "public_board", "leaderboard_view"]


def refresh_standing(session: Session, comp: Competition, team_id: int) -> None:
    """Recompute one team's row from its submissions (at most a few hundred rows, indexed).

    Under the team's upload lock (PostgreSQL; a no-op on SQLite, whose writers are serial): an
    upload adds its entry to the stored row (standing_after_upload), so a recount must not count
    without an upload that commits before it writes. Callers recounting several teams go in team
    id order, as the freeze does, so that their locks cannot deadlock.
    """
    advisory_lock(session, LockKey.TEAM_UPLOAD, comp.id, team_id)
    rows = session.execute(
        sa.select(Submission.id, Submission.status, Submission.public_score, Submission.received_at,
                  Submission.ladder_score)
        .where(Submission.competition_id == comp.id, Submission.team_id == team_id)
    ).all()
    counted = [r for r in rows if r.status in COUNTED_STATUSES]
    scored = [r for r in rows if r.status == SubmissionStatus.SCORED and r.public_score is not None]
    best = best_ranked(comp, scored, lambda r: r.public_score, lambda r: r.received_at, lambda r: r.id)
    ladder_id = None
    if comp.public_feedback == "ladder":
        # The board shows the Ladder value: the public score of the team's last significant improvement.
        ladder_id = ladder_best_id(session, comp, team_id)
        if ladder_id is not None:
            best = next((r for r in scored if r.id == ladder_id), None)
    standing = session.get(TeamStanding, (comp.id, team_id))
    if standing is None:
        standing = TeamStanding(competition_id=comp.id, team_id=team_id)
        session.add(standing)
    standing.entries = len(counted)
    standing.last_submission_at = max((r.received_at for r in counted), default=None)
    standing.best_submission_id = best.id if best else None
    score = None if best is None else best.ladder_score if ladder_id is not None else best.public_score
    standing.best_score = score
    standing.sort_key = sort_key(comp, score) if score is not None else None
    standing.best_received_at = best.received_at if best else None
    standings_changed(session, comp.id)


def standing_after_upload(session: Session, comp: Competition, sub: Submission) -> None:
    """The team's row after `sub` arrived, without reading the team's submissions: a queued
    submission is counted, so one more entry and perhaps a later last submission; the best is
    unchanged until it is scored. The same row as refresh_standing gives
    (tests/server/test_standings_incremental.py); a team's first upload makes the row by the recount."""
    standing = session.get(TeamStanding, (comp.id, sub.team_id))
    if standing is None or standing.entries is None:
        refresh_standing(session, comp, sub.team_id)
        return
    standing.entries += 1
    if standing.last_submission_at is None or sub.received_at > standing.last_submission_at:
        standing.last_submission_at = sub.received_at
    standings_changed(session, comp.id)


def standing_after_scored(session: Session, comp: Competition, sub: Submission) -> None:
    """The team's row after `sub` went scoring → scored, without reading the team's submissions.

    Both statuses are counted, so entries and the last submission stay; the best changes only if
    `sub` ranks above it, and the stored row holds the best's whole rank key (sort key, receipt,
    id) to compare with. The same row as refresh_standing gives (tests/server/test_standings_incremental.py);
    the Ladder, a missing row or score take the full recount. The boards' version is bumped only
    when something they show may have changed: the standing, or the chart's steps (a submission
    received before the team's best can add a step of best-so-far even when it is not the best).
    """
    standing = session.get(TeamStanding, (comp.id, sub.team_id))
    if comp.public_feedback == "ladder" or sub.public_score is None or standing is None:
        refresh_standing(session, comp, sub.team_id)
        return
    new = rank_key(comp, sub.public_score, sub.received_at, sub.id)
    held = (standing.sort_key, standing.best_received_at, standing.best_submission_id)
    if None not in held and held < new:  # type: ignore[operator]
        if held[1:] > (sub.received_at, sub.id):  # type: ignore[operator]
            standings_changed(session, comp.id)  # the chart may gain a step
        return
    standing.best_submission_id = sub.id
    standing.best_score = sub.public_score
    standing.sort_key = new[0]
    standing.best_received_at = sub.received_at
    standings_changed(session, comp.id)


def public_board(session: Session, comp: Competition) -> list[dict[str, Any]]:
    """Each team's best public score, ranked."""
    rows = session.execute(
        sa.select(TeamStanding, Team.name)
        .join(Team, Team.id == TeamStanding.team_id)
        .where(TeamStanding.competition_id == comp.id, TeamStanding.best_submission_id.is_not(None))
        # ranking.rank_key's order, read from the index.
        .order_by(TeamStanding.sort_key, TeamStanding.best_received_at, TeamStanding.best_submission_id)
    ).all()
    return [
        {"rank": i, "team": name, "team_id": st.team_id, "score": shown(comp, st.best_score),
         "submission_id": st.best_submission_id, "received_at": isoformat_utc(st.best_received_at),
         "entries": st.entries, "last_submission_at": isoformat_utc(st.last_submission_at)}
        for i, (st, name) in enumerate(rows, start=1)
    ]


_PUBLIC_FIELDS = ("rank", "team", "score", "submission_id", "received_at", "entries", "last_submission_at")
_PRIVATE_FIELDS = ("rank", "team", "score", "submission_id", "received_at", "entries", "final",
                   "public_rank", "move")


def leaderboard_view(session: Session, comp: Competition, caller: Caller, split: str) -> dict[str, Any]:
    """The leaderboard as the caller may see it; after the freeze, read from the snapshot."""
    from server.services.access import can_see_public_scores, check_private_board
    from server.services.snapshot import snapshot_boards

    if split == "private":
        check_private_board(caller, comp)
    frozen = snapshot_boards(session, comp) if comp.frozen_at is not None else None
    if frozen is not None and split == "public" and not can_see_public_scores(caller, comp):
        entries = public_board(session, comp)  # the Ladder board: the snapshot's holds raw public scores
    elif frozen is not None:
        entries = frozen[1] if split == "public" else frozen[2]
    else:
        entries = public_board(session, comp) if split == "public" else build_boards(session, comp).private
    fields = _PUBLIC_FIELDS if split == "public" else _PRIVATE_FIELDS
    if split == "private":
        from server.services.confidence import confidence_by_team

        # Rank interval, P(beats next) and tied flags, once the post-freeze job has stored them.
        confidence = (confidence_by_team(session, comp) if frozen is not None else None) or {}
        entries = [{**e, "confidence": confidence.get(e["team_id"])} for e in entries]
        fields = (*fields, "confidence")
    return {
        "competition": comp.slug, "split": split, "frozen": comp.frozen_at is not None,
        "published": comp.published_at is not None,
        "snapshot_sha256": frozen[0] if frozen is not None else None,
        "metric": comp.metric, "greater_is_better": comp.greater_is_better,
        "entries": [{k: e.get(k) for k in fields} for e in entries],
    }
