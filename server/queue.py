"""The thin RQ layer: enqueue by id, the job function, the worker, and the reconciler.

Worker choice: `ScoringWorker` is an RQ `SimpleWorker` (no fork per job). Hidden labels are
parsed once per worker process and cached (a forked work horse would lose its cache with every
job); measured with rq 3.0 here: forking Worker ~87 no-op jobs/s (11 ms p50) vs SimpleWorker
~240 jobs/s (4 ms). The price is crash isolation: a job that kills the process takes the worker
with it. That is covered by the database being the source of truth: the reconciler re-queues a
submission whose job or worker is gone, and gives up with `failed` after MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psutil
import redis
import sqlalchemy as sa
from rq import Retry, SimpleWorker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from server.models import PENDING_STATUSES, Submission
from server.runtime import Runtime
from server.services.scoring_jobs import record_failure, run_scoring

__all__ = ["job_id", "enqueue_scoring", "score_job", "bind_runtime", "ScoringWorker", "reconcile", "ReconcileReport"]

log = logging.getLogger(__name__)

_runtime: Runtime | None = None


def bind_runtime(rt: Runtime) -> None:
    """Set the runtime that jobs of this process use (the worker command and tests call it)."""
    global _runtime
    _runtime = rt


def _worker_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        from server.config import load_config

        _runtime = Runtime(load_config())
    return _runtime


def job_id(submission_id: str) -> str:
    return f"score-{submission_id}"


def enqueue_scoring(rt: Runtime, submission_id: str) -> bool:
    """Queue a submission (after its row is committed). A queue outage is logged, not raised:
    the row stays `queued` and the reconciler queues it later."""
    try:
        rt.queue.enqueue(
            score_job, submission_id, job_id=job_id(submission_id),
            job_timeout=rt.config["JOB_TIMEOUT"], result_ttl=rt.config["RESULT_TTL"],
            failure_ttl=rt.config["FAILURE_TTL"],
            retry=Retry(max=max(rt.config["MAX_ATTEMPTS"] - 1, 0)) if rt.config["MAX_ATTEMPTS"] > 1 else None,
            description=f"score submission {submission_id}",
        )
        return True
    except redis.RedisError as exc:
        log.warning("could not queue submission %s (%s); the reconciler will retry", submission_id,
                    type(exc).__name__)
        return False


def score_job(submission_id: str) -> str:
    """The RQ job: everything is loaded from the database and storage by id."""
    rt = _worker_runtime()
    try:
        return run_scoring(rt, submission_id)
    except Exception as exc:
        with rt.session() as session:
            sub = session.get(Submission, submission_id)
            attempts = sub.attempts if sub else 0
        final = attempts >= rt.config["MAX_ATTEMPTS"]
        record_failure(rt, submission_id, f"internal error {type(exc).__name__}", final=final)
        log.exception("scoring %s failed (attempt %s)", submission_id, attempts)
        job = get_current_job()
        if final and job is not None:
            job.retries_left = 0  # our attempts include lost workers; stop RQ retrying too
        raise


class ScoringWorker(SimpleWorker):
    """SimpleWorker that also runs the reconciler as part of RQ's maintenance tasks."""

    runtime: Runtime | None = None

    def execute_job(self, job: Job, queue: Any) -> Any:
        # Every log line of this job (ours and RQ's) names the submission; cleared after.
        from server.logs import bind_submission

        bind_submission(str(job.args[0]) if job.args else None)
        try:
            return super().execute_job(job, queue)
        finally:
            bind_submission(None)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if self.runtime is not None:
            try:
                report = reconcile(self.runtime)
                if report.requeued or report.failed:
                    log.info("reconciler: requeued %s, failed %s", report.requeued, report.failed)
            except (redis.RedisError, sa.exc.SQLAlchemyError) as exc:
                log.warning("reconciler pass skipped: %s", type(exc).__name__)


@dataclass
class ReconcileReport:
    checked: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "requeued": self.requeued, "failed": self.failed}


def _worker_is_dead(rt: Runtime, worker_name: str | None) -> bool:
    if not worker_name:
        return True
    key = SimpleWorker.redis_worker_namespace_prefix + worker_name
    data = {_text(k): _text(v) for k, v in rt.redis.hgetall(key).items()}
    if not data:
        return True  # registration expired: no heartbeat for WORKER_TTL
    host = data.get("hostname", "")
    pid = int(data.get("pid") or 0)
    if host == socket.gethostname() and pid and pid != os.getpid():
        try:
            proc = psutil.Process(pid)
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    return False


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _job_is_lost(rt: Runtime, sub: Submission) -> bool:
    try:
        job = Job.fetch(job_id(sub.id), connection=rt.redis)
    except NoSuchJobError:
        return True
    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return False
    if status == JobStatus.STARTED:
        timed_out = sub.started_at is not None and rt.now() - sub.started_at > timedelta(
            seconds=rt.config["JOB_TIMEOUT"] + 60)
        return timed_out or _worker_is_dead(rt, job.worker_name)
    return True  # finished/failed/stopped/canceled while our row still waits: the result was lost


def reconcile(rt: Runtime, *, grace_seconds: int | None = None) -> ReconcileReport:
    """Re-queue submissions stuck in queued/scoring whose job or worker is gone."""
    grace = rt.config["RECONCILE_GRACE"] if grace_seconds is None else grace_seconds
    cutoff = rt.now() - timedelta(seconds=grace)
    report = ReconcileReport()
    with rt.session() as session:
        pending = list(session.execute(
            sa.select(Submission).where(Submission.status.in_(PENDING_STATUSES), Submission.received_at <= cutoff)
            .order_by(Submission.received_at)
        ).scalars())
    for sub in pending:
        report.checked += 1
        if not _job_is_lost(rt, sub):
            continue
        if sub.attempts >= rt.config["MAX_ATTEMPTS"]:
            record_failure(rt, sub.id, "the scoring worker stopped before finishing", final=True)
            report.failed.append(sub.id)
            continue
        record_failure(rt, sub.id, "job lost", final=False)
        try:
            Job.fetch(job_id(sub.id), connection=rt.redis).delete()
        except NoSuchJobError:
            pass
        if enqueue_scoring(rt, sub.id):
            report.requeued.append(sub.id)
    return report
