"""Probe detection: signs recorded by each scoring job, and the organizers' list of flagged teams.

Each scored submission records how many rows changed since the team's previous scored
submission and whether its predictions are near-constant (scoring.probes). The probing
signature is a change of a few rows repeated many times (each such submission asks whether those
rows are public and what their labels are); near-constant files read off a split's base rate.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import Labels, Task
from scoring.errors import ScoringError
from scoring.predictions import Predictions, read_predictions
from scoring.probes import changed_fingerprints, few_rows, is_near_constant, row_fingerprints
from server.models import Competition, Submission, Team
from server.runtime import Runtime
from server.timeutil import isoformat_utc

__all__ = ["probe_signs", "previous_scored_sha256", "probe_report", "FLAG_AFTER", "FLAG_CONSTANT_AFTER"]

log = logging.getLogger(__name__)

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
    store = _Fingerprints(rt.home / "cache" / "fingerprints")
    mine = row_fingerprints(predictions)
    store.save(_cache_key(comp, sub.sha256), mine)  # the team's next file compares with these
    changed = None
    if previous == sub.sha256:
        changed = 0  # the same bytes again: nothing to read
    elif previous is not None:
        key = _cache_key(comp, previous)
        before = store.load(key)
        if before is None:  # scored on another machine, or before a change of the labels
            try:
                before = row_fingerprints(read_predictions(rt.storage.submission_path(previous), labels, task,
                                                           max_bytes=comp.max_upload_bytes * 10))
            except (ScoringError, OSError):
                before = None  # the previous file no longer reads: no comparison, not an error of this one
        if before is not None:
            changed = changed_fingerprints(before, mine)
            store.drop(key)  # the team's later files compare with this one: the folder holds a file per team
    return changed, is_near_constant(predictions)


def _cache_key(comp: Competition, sha256: str) -> str:
    # What the values read from a file depend on: its bytes, the labels and their split, the task.
    parts = (sha256, comp.labels_sha256, comp.split_seed, comp.public_fraction, comp.task_toml)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class _Fingerprints:
    """Row fingerprints of scored files on this machine's disk, shared by all its workers: a team's
    next file is usually scored by another worker than its previous one (or, with many teams, long
    after), and reading that file again would cost as much as scoring it. A missing or unreadable
    entry only means reading the file; the entry of a compared file is removed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.u64"  # the numbers' bytes as this machine holds them

    def save(self, key: str, fingerprints: np.ndarray) -> None:
        tmp = self.folder / f".part-{uuid.uuid4().hex}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(fingerprints.astype(np.uint64, copy=False).tobytes())
            os.replace(tmp, self.path(key))  # readers see a whole file or none
        except OSError as exc:  # e.g. a full disk: only a cache, so the scoring goes on
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            log.warning("could not keep a file's row fingerprints (%s); the next file reads it again", exc)

    def load(self, key: str) -> np.ndarray | None:
        try:
            return np.fromfile(self.path(key), dtype=np.uint64)
        except (OSError, ValueError):
            return None

    def drop(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove a compared file's row fingerprints (%s)", exc)


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
