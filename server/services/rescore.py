"""Rescore (organizers, before the freeze): after a labels correction or a scorer fix.

Selected or all scored/rejected submissions are scored again from their stored files. The old
results go to score_history, standings are refreshed, and the report lists what changed and how
the ranks moved. A corrected labels file can be installed in the same step, so that no
submission is ever scored against a mix of old and new labels without it being recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scoring import SCORER_VERSION, Labels, LabelsError, SubmissionRejected, Task, read_labels, score
from server.db import LockKey
from server.errors import BadRequest, Conflict
from server.models import PENDING_STATUSES, Competition, FinalSelection, ScoreHistory, Submission
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.services.boards import build_boards
from server.services.competitions import competition_labels, competition_task, get_competition
from server.services.leaderboard import refresh_standing
from server.services.scoring_jobs import DECOMPRESSED_FACTOR
from server.statuses import SubmissionStatus

__all__ = ["rescore", "RESCORABLE"]

RESCORABLE = (SubmissionStatus.SCORED, SubmissionStatus.REJECTED)
BATCH = 500
MAX_LISTED = 1000  # changed submissions listed in the report (all are counted)


@dataclass(frozen=True)
class _Result:
    id: str
    sha256: str
    status: str
    public: float | None
    private: float | None
    rows: int | None
    message: str | None
    problems: str | None
    seconds: float


def _targets(rt: Runtime, comp: Competition, ids: list[str] | None) -> list[str]:
    with rt.session() as session:
        if ids is None:
            return list(session.execute(
                sa.select(Submission.id).where(Submission.competition_id == comp.id, Submission.status.in_(RESCORABLE))
                .order_by(Submission.received_at, Submission.id)).scalars())
        if not ids:
            raise BadRequest("no submissions selected: give submission ids, or choose all")
        ids = list(dict.fromkeys(ids))
        found = dict(session.execute(sa.select(Submission.id, Submission.status).where(
            Submission.competition_id == comp.id, Submission.id.in_(ids))).all())
    missing = [i for i in ids if i not in found]
    if missing:
        raise BadRequest(f"not submissions of '{comp.slug}': {', '.join(m[:64] for m in missing[:20])}")
    wrong = [f"{i} ({found[i]})" for i in ids if found[i] not in RESCORABLE]
    if wrong:
        raise BadRequest(f"only scored or rejected submissions can be rescored; found {', '.join(wrong[:20])}")
    return ids


def _new_labels(rt: Runtime, comp: Competition, task: Task, labels_file: Path) -> tuple[Labels, str, str]:
    """Parse and store a corrected labels file; return (labels, stored path, sha256)."""
    if not labels_file.is_file():
        raise BadRequest(f"labels file {labels_file} does not exist")
    try:
        labels = read_labels(labels_file, task, public_fraction=comp.public_fraction, seed=comp.split_seed)
    except LabelsError as exc:
        raise BadRequest(f"labels file {labels_file.name}: {exc}") from None
    stored, sha = rt.storage.save_labels(labels_file)
    if sha != labels.sha256:
        raise Conflict("labels file changed while it was being read; try again")
    return labels, stored, sha


def _score_all(rt: Runtime, comp: Competition, task: Task, labels: Labels, ids: list[str]) -> Iterator[_Result]:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        with rt.session() as session:
            shas = dict(session.execute(sa.select(Submission.id, Submission.sha256)
                                        .where(Submission.id.in_(chunk))).all())
        for sub_id in chunk:
            path = rt.storage.submission_path(shas[sub_id])
            began = time.perf_counter()
            try:
                result = score(path, labels, task, max_bytes=comp.max_upload_bytes * DECOMPRESSED_FACTOR)
            except SubmissionRejected as exc:
                problems = json.dumps([p.to_dict() for p in exc.problems], ensure_ascii=False) if exc.problems else None
                yield _Result(sub_id, shas[sub_id], SubmissionStatus.REJECTED, None, None, None, exc.message, problems,
                              time.perf_counter() - began)
                continue
            yield _Result(sub_id, shas[sub_id], SubmissionStatus.SCORED, result.public_score, result.private_score, result.rows,
                          None, None, time.perf_counter() - began)


def _rank_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    old = {e["team_id"]: e for e in before}
    new = {e["team_id"]: e for e in after}
    changes = []
    for team_id in sorted(set(old) | set(new), key=lambda t: (new.get(t) or old[t])["rank"]):
        a, b = old.get(team_id), new.get(team_id)
        if a is None or b is None or (a["rank"], a["score"], a["submission_id"]) != (b["rank"], b["score"], b["submission_id"]):
            changes.append({"team": (b or a or {})["team"], "team_id": team_id,
                            "rank_before": a and a["rank"], "rank_after": b and b["rank"],
                            "score_before": a and a["score"], "score_after": b and b["score"]})
    return changes


def rescore(rt: Runtime, slug: str, *, actor: str, submission_ids: list[str] | None = None,
            labels_file: Path | None = None) -> dict[str, Any]:
    """Score selected (or all, when None) scored/rejected submissions again; optionally install new labels.

    Raises:
        Conflict: the competition is frozen, or (with new labels) submissions still wait for a score.
        BadRequest: unknown ids, ids that are not scored/rejected, or an unusable labels file.
    """
    with rt.session() as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is not None:
            raise Conflict(f"competition '{slug}' is frozen; its scores can no longer change", code="frozen")
        pending = session.execute(sa.select(sa.func.count()).where(
            Submission.competition_id == comp.id, Submission.status.in_(PENDING_STATUSES))).scalar_one()
        before = build_boards(session, comp)
    task = competition_task(rt, comp)
    new_labels: tuple[Labels, str, str] | None = None
    if labels_file is not None:
        if submission_ids is not None:
            raise BadRequest("a labels correction rescores every scored and rejected submission (a board must not "
                             "mix labels); leave out the submission ids")
        if pending:
            raise Conflict(f"{pending} submissions are queued or being scored with the current labels; "
                           "replace the labels once the queue is empty", code="scoring_pending", pending=pending)
        new_labels = _new_labels(rt, comp, task, labels_file)
    labels = new_labels[0] if new_labels else competition_labels(rt, comp)
    ids = _targets(rt, comp, submission_ids)
    results = list(_score_all(rt, comp, task, labels, ids))
    now = rt.now()
    changed: list[dict[str, Any]] = []
    n_changed = 0
    dropped: list[str] = []
    with rt.write(LockKey.COMPETITION, comp.id) as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is not None:
            raise Conflict(f"competition '{slug}' was frozen while rescoring; nothing was changed", code="frozen")
        old_labels = comp.labels_sha256
        if new_labels is not None:
            comp.labels_file, comp.labels_sha256 = new_labels[1], new_labels[2]
            comp.labels_rows, comp.split_method = new_labels[0].rows, new_labels[0].split
            comp.public_rows = int(new_labels[0].public_mask.sum())
            comp.updated_at = now
        teams: set[int] = set()
        for start in range(0, len(results), BATCH):
            chunk = {r.id: r for r in results[start:start + BATCH]}
            for sub in session.execute(sa.select(Submission).where(Submission.id.in_(chunk))).scalars():
                r = chunk[sub.id]
                if sub.status not in RESCORABLE or sub.sha256 != r.sha256:
                    continue  # changed underneath us (cannot happen before the freeze, but never overwrite)
                session.add(ScoreHistory(submission_id=sub.id, status=sub.status, public_score=sub.public_score,
                                         private_score=sub.private_score, scorer_version=sub.scorer_version,
                                         labels_sha256=sub.labels_sha256, scored_at=sub.scored_at, replaced_at=now))
                if (sub.status, sub.public_score, sub.private_score) != (r.status, r.public, r.private):
                    n_changed += 1
                    if len(changed) < MAX_LISTED:
                        changed.append({"id": sub.id, "status_before": sub.status, "status_after": r.status,
                                        "public_before": sub.public_score, "public_after": r.public,
                                        "private_before": sub.private_score, "private_after": r.private})
                    if r.status != SubmissionStatus.SCORED:
                        dropped.append(sub.id)
                sub.status, sub.public_score, sub.private_score, sub.rows = r.status, r.public, r.private, r.rows
                sub.message, sub.problems = r.message, r.problems
                sub.scored_at, sub.duration_s = now, r.seconds
                sub.scorer_version, sub.labels_sha256 = SCORER_VERSION, labels.sha256
                teams.add(sub.team_id)
        if dropped:
            # A final pick that is no longer scored cannot count; the team falls back to its other picks.
            session.execute(sa.delete(FinalSelection).where(FinalSelection.submission_id.in_(dropped)))
        for team_id in sorted(teams):
            refresh_standing(session, comp, team_id)
        session.flush()
        after = build_boards(session, comp)
        payload = {"slug": slug, "rescored": len(results), "changed": n_changed, "scorer_version": SCORER_VERSION,
                   "labels": {"from": old_labels, "to": comp.labels_sha256} if new_labels else None,
                   "selection": "all" if submission_ids is None else ids[:100],
                   "selections_dropped": dropped[:100]}
        append_action(session, actor=actor, action="rescore", at=now, competition_id=comp.id, payload=payload)
    return {
        "competition": slug, "rescored": len(results), "changed": n_changed, "scorer_version": SCORER_VERSION,
        "labels": payload["labels"], "labels_sha256": labels.sha256, "submissions": changed,
        "selections_dropped": dropped,
        "rank_changes": {"public": _rank_changes(before.public, after.public),
                         "private": _rank_changes(before.private, after.private)},
    }
