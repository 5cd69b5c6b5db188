"""What a scoring job does to a submission: states queued → scoring → scored | rejected | failed.

Idempotent: a job that finds its submission already finished does nothing, and the result is
written with a guard on the status, so scoring the same submission twice leaves one result.
"""

from __future__ import annotations

import json
import logging
import time

from scoring import SCORER_VERSION, ScoringError, SubmissionRejected, score
from server.logs import bind_submission
from server.metrics import metrics
from server.models import PENDING_STATUSES, Competition, Submission
from server.runtime import Runtime
from server.services.competitions import competition_labels, competition_task
from server.services.leaderboard import refresh_standing

__all__ = ["run_scoring", "record_failure", "DECOMPRESSED_FACTOR"]

log = logging.getLogger(__name__)

# A gzip upload may expand to at most this many times the competition's upload limit.
DECOMPRESSED_FACTOR = 10


def run_scoring(rt: Runtime, submission_id: str) -> str:
    """Score one submission; return its final status. Unexpected errors propagate (RQ records them)."""
    bind_submission(submission_id)
    with rt.write() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            log.warning("submission %s does not exist; nothing to score", submission_id)
            return "missing"
        if sub.status not in PENDING_STATUSES:
            return sub.status
        sub.status = "scoring"
        sub.attempts += 1
        sub.started_at = rt.now()
        comp = session.get_one(Competition, sub.competition_id)
    path = rt.storage.submission_path(sub.sha256)
    started = time.perf_counter()
    try:
        task = competition_task(rt, comp)
        labels = competition_labels(rt, comp)
        result = score(path, labels, task, max_bytes=comp.max_upload_bytes * DECOMPRESSED_FACTOR)
    except SubmissionRejected as exc:
        seconds = time.perf_counter() - started
        _finish(rt, submission_id, comp, status="rejected", message=exc.message,
                problems=[p.to_dict() for p in exc.problems], seconds=seconds, labels_sha256=labels.sha256)
        metrics().scoring_duration.labels(task.slug, "rejected").observe(seconds)
        return "rejected"
    except ScoringError as exc:
        # Not the team's fault and not transient (e.g. a metric undefined on our split): retrying
        # cannot help. The organizers see the log; the team sees a short reason, no label detail.
        log.error("submission %s cannot be scored: %s", submission_id, exc)
        record_failure(rt, submission_id, f"the metric could not be computed ({type(exc).__name__})", final=True)
        return "failed"
    seconds = time.perf_counter() - started
    _finish(rt, submission_id, comp, status="scored", public=result.public_score, private=result.private_score,
            rows=result.rows, seconds=seconds, labels_sha256=labels.sha256)
    metrics().scoring_duration.labels(task.slug, "scored").observe(seconds)
    return "scored"


def _finish(rt: Runtime, submission_id: str, comp: Competition, *, status: str, labels_sha256: str,
            seconds: float, public: float | None = None, private: float | None = None, rows: int | None = None,
            message: str | None = None, problems: list[dict[str, object]] | None = None) -> None:
    with rt.write() as session:
        sub = session.get_one(Submission, submission_id)
        if sub.status != "scoring":
            return  # another attempt finished first: keep its result
        sub.status, sub.public_score, sub.private_score, sub.rows = status, public, private, rows
        sub.message = message
        sub.problems = json.dumps(problems, ensure_ascii=False) if problems else None
        sub.scored_at, sub.duration_s = rt.now(), seconds
        sub.scorer_version, sub.labels_sha256 = SCORER_VERSION, labels_sha256
        refresh_standing(session, comp, sub.team_id)
    # One line per result written (never the scores: the private one is secret until published).
    log.info("submission %s %s in %.3f s", submission_id, status, seconds)


def record_failure(rt: Runtime, submission_id: str, reason: str, *, final: bool) -> None:
    """After an unexpected error: back to `queued` for another attempt, or `failed` for good."""
    with rt.write() as session:
        sub = session.get(Submission, submission_id)
        if sub is None or sub.status not in PENDING_STATUSES:
            return
        if final:
            sub.status = "failed"
            sub.message = f"scoring failed after {sub.attempts} attempts ({reason}); the organizers have been notified"
            sub.scored_at = rt.now()
            comp = session.get_one(Competition, sub.competition_id)
            refresh_standing(session, comp, sub.team_id)
        else:
            sub.status = "queued"
