"""What a scoring job does to a submission: states queued → scoring → scored | rejected | failed.

Idempotent: a job that finds its submission already finished does nothing, and the result is
written with a guard on the status, so scoring the same submission twice leaves one result.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import sqlalchemy as sa

from scoring import SCORER_VERSION, ScoringError, SubmissionRejected
from scoring.score import score_with_predictions
from server.db import LockKey
from server.logs import bind_submission
from server.metrics import metrics
from server.models import PENDING_STATUSES, Competition, Submission
from server.runtime import Runtime
from server.services.competitions import competition_labels, competition_task
from server.services.ladder import judge_submission
from server.services.leaderboard import refresh_standing, standing_after_scored
from server.services.probes import previous_scored_sha256, probe_signs
from server.statuses import SubmissionStatus

__all__ = ["run_scoring", "record_failure", "DECOMPRESSED_FACTOR"]

log = logging.getLogger(__name__)

# A gzip upload may expand to at most this many times the competition's upload limit.
DECOMPRESSED_FACTOR = 10


def run_scoring(rt: Runtime, submission_id: str) -> str:
    """Score one submission; return its final status. Unexpected errors propagate (RQ records them)."""
    bind_submission(submission_id)
    # The claim is committed before scoring: a file that kills the worker still counts an attempt.
    with rt.write() as session:
        row = session.execute(sa.select(Submission, Competition)
                              .join(Competition, Competition.id == Submission.competition_id)
                              .where(Submission.id == submission_id)).first()
        if row is None:
            log.warning("submission %s does not exist; nothing to score", submission_id)
            return "missing"
        sub, comp = row
        if sub.status not in PENDING_STATUSES:
            return sub.status
        sub.status = SubmissionStatus.SCORING
        sub.attempts += 1
        sub.started_at = rt.now()
        task = competition_task(rt, comp)
        # Read here rather than in a session of its own: the probe signs compare with this file.
        previous = previous_scored_sha256(session, comp, sub) if task.kind != "code" else None
    path = rt.storage.submission_path(sub.sha256)
    started = time.perf_counter()
    if task.kind == "code":
        from server.services.code_jobs import run_code_scoring

        return run_code_scoring(rt, submission_id, comp, task, path)
    try:
        labels = competition_labels(rt, comp)
        result, predictions = score_with_predictions(path, labels, task,
                                                     max_bytes=comp.max_upload_bytes * DECOMPRESSED_FACTOR)
    except SubmissionRejected as exc:
        seconds = time.perf_counter() - started
        _finish(rt, submission_id, comp, status=SubmissionStatus.REJECTED, message=exc.message,
                problems=[p.to_dict() for p in exc.problems], seconds=seconds, labels_sha256=labels.sha256)
        metrics().scoring_duration.labels(task.slug, "rejected").observe(seconds)
        return SubmissionStatus.REJECTED
    except ScoringError as exc:
        # Not the team's fault and not transient (e.g. a metric undefined on our split): retrying
        # cannot help. The organizers see the log; the team sees a short reason, no label detail.
        log.error("submission %s cannot be scored: %s", submission_id, exc)
        record_failure(rt, submission_id, f"the metric could not be computed ({type(exc).__name__})", final=True)
        return SubmissionStatus.FAILED
    changed, constant = probe_signs(rt, comp, task, labels, sub, predictions, previous)

    def record(session: Any, row: Submission) -> None:
        row.changed_rows, row.near_constant = changed, constant
        if comp.public_feedback == "ladder":
            judge_submission(session, comp, task, labels, row, predictions, result.public_score, rt.now())

    seconds = time.perf_counter() - started
    _finish(rt, submission_id, comp, status=SubmissionStatus.SCORED, public=result.public_score,
            private=result.private_score, rows=result.rows, seconds=seconds,
            labels_sha256=labels.sha256, team_id=sub.team_id, extra=record)
    metrics().scoring_duration.labels(task.slug, "scored").observe(seconds)
    return SubmissionStatus.SCORED


def _finish(rt: Runtime, submission_id: str, comp: Competition, *, status: str, labels_sha256: str,
            seconds: float, public: float | None = None, private: float | None = None, rows: int | None = None,
            message: str | None = None, problems: list[dict[str, object]] | None = None,
            team_id: int | None = None, extra: Any = None) -> None:
    # The team's upload lock: the Ladder judges against the team's best, one submission at a time.
    lock = (LockKey.TEAM_UPLOAD, comp.id, team_id) if team_id is not None else ()
    with rt.write(*lock) as session:
        sub = session.get_one(Submission, submission_id)
        if sub.status != SubmissionStatus.SCORING:
            return  # another attempt finished first: keep its result
        sub.status, sub.public_score, sub.private_score, sub.rows = status, public, private, rows
        sub.message = _storable(message)
        sub.problems = _storable(json.dumps(problems, ensure_ascii=False)) if problems else None
        sub.scored_at, sub.duration_s = rt.now(), seconds
        sub.scorer_version, sub.labels_sha256 = SCORER_VERSION, labels_sha256
        if extra is not None:
            extra(session, sub)
        if status == SubmissionStatus.SCORED:
            standing_after_scored(session, comp, sub)  # compares with the stored best: no recount
        else:
            refresh_standing(session, comp, sub.team_id)
    # One line per result written (never the scores: the private one is secret until published).
    log.info("submission %s %s in %.3f s", submission_id, status, seconds)


def _storable(text: str | None) -> str | None:
    # A team's file may put NUL in a column name that a message quotes; PostgreSQL text cannot
    # hold NUL (the result would fail to save and the file end `failed` instead of `rejected`).
    return text.replace("\x00", "\\x00") if text else text


def record_failure(rt: Runtime, submission_id: str, reason: str, *, final: bool) -> None:
    """After an unexpected error: back to `queued` for another attempt, or `failed` for good."""
    with rt.write() as session:
        sub = session.get(Submission, submission_id)
        if sub is None or sub.status not in PENDING_STATUSES:
            return
        if final:
            sub.status = SubmissionStatus.FAILED
            sub.message = f"scoring failed after {sub.attempts} attempts ({reason}); the organizers have been notified"
            sub.scored_at = rt.now()
            comp = session.get_one(Competition, sub.competition_id)
            refresh_standing(session, comp, sub.team_id)
        else:
            sub.status = SubmissionStatus.QUEUED
