"""Probe detection: signs recorded by each scoring job, and the organizers' list of flagged teams.

Each scored submission records how many rows changed since the team's previous scored
submission and whether its predictions are near-constant (scoring.probes). The probing
signature is a change of a few rows repeated many times (each such submission asks whether those
rows are public and what their labels are); near-constant files read off a split's base rate.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import Labels, Task
from scoring.errors import ScoringError
from scoring.predictions import Predictions, read_predictions
from scoring.probes import changed_rows, few_rows, is_near_constant
from server.models import Competition, Submission, Team
from server.runtime import Runtime
from server.timeutil import isoformat_utc

__all__ = ["probe_signs", "previous_scored_sha256", "probe_report", "FLAG_AFTER", "FLAG_CONSTANT_AFTER"]

# A team is flagged after this many few-row changes, or this many near-constant submissions.
FLAG_AFTER = 3
FLAG_CONSTANT_AFTER = 3


def previous_scored_sha256(session: Session, comp: Competition, sub: Submission) -> str | None:
    """The file of the team's scored submission received just before `sub` (None: the first)."""
    return session.execute(
        sa.select(Submission.sha256).where(
            Submission.competition_id == comp.id, Submission.team_id == sub.team_id,
            Submission.status == "scored", Submission.id != sub.id,
            sa.or_(Submission.received_at < sub.received_at,
                   sa.and_(Submission.received_at == sub.received_at, Submission.id < sub.id)))
        .order_by(Submission.received_at.desc(), Submission.id.desc()).limit(1)).scalar_one_or_none()


def probe_signs(rt: Runtime, comp: Competition, task: Task, labels: Labels, sub: Submission,
                predictions: Predictions, previous: str | None) -> tuple[int | None, bool]:
    """Return (rows changed since the team's previous scored submission or None, near-constant).

    `previous`: that submission's sha256 (`previous_scored_sha256`, which the scoring job reads in
    the transaction that claims the submission), None when this is the team's first.
    """
    key = _cache_key(comp, sub.sha256)
    _recent.put(key, predictions)  # the team's next file on this worker compares with it unread
    changed = None
    if previous == sub.sha256:
        changed = 0  # the same bytes again: nothing to read
    elif previous is not None:
        try:
            before = _recent.get(_cache_key(comp, previous))
            if before is None:
                before = read_predictions(rt.storage.submission_path(previous), labels, task,
                                          max_bytes=comp.max_upload_bytes * 10)
            changed = changed_rows(before, predictions)
        except (ScoringError, OSError):
            changed = None  # the previous file no longer reads: no comparison, not an error of this one
    return changed, is_near_constant(predictions)


def _cache_key(comp: Competition, sha256: str) -> tuple[object, ...]:
    # What the values read from a file depend on: its bytes, the labels and their split, the task.
    return (sha256, comp.labels_sha256, comp.split_seed, comp.public_fraction, comp.task_toml)


class _RecentPredictions:
    """The last files this process read, by their values' size (a team's next submission is
    compared with its previous one: kept here, that one is not read and parsed again)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[object, ...], Predictions] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Predictions | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[object, ...], value: Predictions) -> None:
        size = value.public.nbytes + value.private.nbytes
        if size > self.max_bytes // 4:
            return  # large files: kept once would evict every small one; read again instead
        for array in (value.public, value.private):
            array.setflags(write=False)  # shared with later jobs: a change in place would be an error
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.public.nbytes + old.private.nbytes
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.public.nbytes + dropped.private.nbytes


_recent = _RecentPredictions(64 * 1024 * 1024)


def probe_report(session: Session, comp: Competition) -> dict[str, Any]:
    """Per team: scored submissions, few-row changes, near-constant files, and whether it is flagged."""
    few = few_rows(comp.labels_rows)
    rows = session.execute(
        sa.select(Submission.team_id, Team.name, Submission.changed_rows, Submission.near_constant,
                  Submission.received_at)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.competition_id == comp.id, Submission.status == "scored")
        .order_by(Submission.received_at)).all()
    teams: dict[int, dict[str, Any]] = {}
    for r in rows:
        t = teams.setdefault(r.team_id, {"team_id": r.team_id, "team": r.name, "scored": 0, "few_row_changes": 0,
                                         "near_constant": 0, "min_changed_rows": None, "last_at": None})
        t["scored"] += 1
        t["last_at"] = isoformat_utc(r.received_at)
        if r.changed_rows is not None:
            if 0 < r.changed_rows <= few:
                t["few_row_changes"] += 1
            t["min_changed_rows"] = r.changed_rows if t["min_changed_rows"] is None else min(t["min_changed_rows"], r.changed_rows)
        if r.near_constant:
            t["near_constant"] += 1
    out = []
    for t in teams.values():
        reasons = []
        if t["few_row_changes"] >= FLAG_AFTER:
            reasons.append(f"{t['few_row_changes']} submissions changed at most {few} rows from the previous one")
        if t["near_constant"] >= FLAG_CONSTANT_AFTER:
            reasons.append(f"{t['near_constant']} near-constant submissions")
        out.append({**t, "flagged": bool(reasons), "reasons": reasons})
    out.sort(key=lambda t: (not t["flagged"], -t["few_row_changes"], t["team_id"]))
    return {"competition": comp.slug, "few_rows": few, "flag_after": FLAG_AFTER, "teams": out}
