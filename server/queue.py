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
from redis.client import Pipeline
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from server.models import PENDING_STATUSES, Competition, Submission
from server.runtime import Runtime
from server.services.scoring_jobs import record_failure, run_scoring

__all__ = ["job_id", "enqueue_scoring", "code_queue", "score_job", "enqueue_confidence", "confidence_job", "bind_runtime",
           "worker_runtime", "verify_queue", "worker_queues", "ScoringWorker", "reconcile", "ReconcileReport",
           "live_workers"]

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


def worker_runtime() -> Runtime:
    """The runtime of this worker process (built from the environment on first use)."""
    return _worker_runtime()


def verify_queue(rt: Runtime) -> Queue:
    """Verify runs wait here, apart from scoring: workers take scoring jobs first (RQ reads its
    queues in order), so a long verify never holds up a team's score while another worker is free."""
    return rt.named_queue(f"{rt.config['QUEUE_NAME']}-verify")


def worker_queues(rt: Runtime) -> list[Queue]:
    """What `hackathon worker` listens on, in priority order."""
    return [rt.queue, verify_queue(rt)]


def job_id(submission_id: str) -> str:
    return f"score-{submission_id}"


def code_queue(rt: Runtime) -> Queue:
    """The queue of code competitions' jobs (`hackathon worker --queue code`)."""
    from server.services.code_jobs import CODE_QUEUE_NAME

    # "code" beside the default "scoring"; an instance with its own QUEUE_NAME gets "<name>-code".
    name = rt.config["QUEUE_NAME"]
    return rt.named_queue(CODE_QUEUE_NAME if name == "scoring" else f"{name}-{CODE_QUEUE_NAME}")


def _route(rt: Runtime, submission_id: str, comp: Competition | None = None) -> tuple[Queue, int]:
    """The queue and job timeout for a submission: code competitions have their own."""
    from server.services.code_jobs import code_job_timeout
    from server.services.competitions import competition_task

    if comp is None:
        with rt.session() as session:
            sub = session.get(Submission, submission_id)
            comp = session.get(Competition, sub.competition_id) if sub is not None else None
    if comp is not None:
        task = competition_task(rt, comp)
        if task.kind == "code":
            return code_queue(rt), code_job_timeout(task)
    return rt.queue, rt.config["JOB_TIMEOUT"]


def enqueue_scoring(rt: Runtime, submission_id: str, competition: Competition | None = None,
                    pipeline: Pipeline | None = None) -> bool:
    """Queue a submission (after its row is committed). A queue outage is logged, not raised:
    the row stays `queued` and the reconciler queues it later. `competition`: its row, when the
    caller holds it (an upload), which saves a database round trip. `pipeline`: a transaction to
    send the job with (executed here), carrying what else the caller has to say after its commit."""
    queue, timeout = _route(rt, submission_id, competition)
    try:
        queue.enqueue(
            score_job, submission_id, job_id=job_id(submission_id),
            # Not result_ttl 0: RQ then deletes the finished job with ~7 more Redis round trips
            # (registries, executions) than keeping its result for RESULT_TTL in one pipeline.
            job_timeout=timeout, result_ttl=rt.config["RESULT_TTL"],
            failure_ttl=rt.config["FAILURE_TTL"],
            retry=Retry(max=max(rt.config["MAX_ATTEMPTS"] - 1, 0)) if rt.config["MAX_ATTEMPTS"] > 1 else None,
            description=f"score submission {submission_id}", pipeline=pipeline,
        )
        if pipeline is not None:
            pipeline.execute()
        return True
    except redis.RedisError as exc:
        log.warning("could not queue submission %s (%s); the reconciler will retry", submission_id,
                    type(exc).__name__)
        return False


def enqueue_confidence(rt: Runtime, competition_id: int) -> bool:
    """Queue the rank confidence of a frozen competition; an outage is logged (`hackathon verify`
    reports a missing one, and the next freeze-time job or a re-queue computes it)."""
    try:
        rt.queue.enqueue(confidence_job, competition_id, job_id=f"confidence-{competition_id}",
                         job_timeout=rt.config["JOB_TIMEOUT"], result_ttl=rt.config["RESULT_TTL"],
                         failure_ttl=rt.config["FAILURE_TTL"], description=f"rank confidence of competition {competition_id}")
        return True
    except redis.RedisError as exc:
        log.warning("could not queue the rank confidence of competition %s (%s)", competition_id, type(exc).__name__)
        return False


def confidence_job(competition_id: int) -> str:
    """The RQ job computing a frozen competition's rank confidence."""
    from server.services.confidence import compute_confidence

    return compute_confidence(_worker_runtime(), competition_id)


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


def live_workers(rt: Runtime) -> int:
    """Workers registered on this instance's queue that are alive (by pid when on this host)."""
    workers = SimpleWorker.all(connection=rt.redis, queue=rt.queue)
    return sum(1 for w in workers if not _worker_is_dead(rt, w.name))


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
        limit = job.timeout if isinstance(job.timeout, int | float) and job.timeout > 0 else rt.config["JOB_TIMEOUT"]
        timed_out = sub.started_at is not None and rt.now() - sub.started_at > timedelta(seconds=limit + 60)
        return timed_out or _worker_is_dead(rt, job.worker_name)
    return True  # finished/failed/stopped/canceled while our row still waits: the result was lost


def reconcile(rt: Runtime, *, grace_seconds: int | None = None) -> ReconcileReport:
    """Re-queue submissions stuck in queued/scoring whose job or worker is gone."""
    grace = rt.config["RECONCILE_GRACE"] if grace_seconds is None else grace_seconds
    cutoff = rt.now() - timedelta(seconds=grace)
    report = ReconcileReport()
    with rt.session() as session:
        # The grace protects a queued row whose job is on its way; a row being scored has had
        # its job taken, so a dead worker there is caught at once, however young the row.
        pending = list(session.execute(
            sa.select(Submission).where(Submission.status.in_(PENDING_STATUSES),
                                        sa.or_(Submission.received_at <= cutoff, Submission.status == "scoring"))
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
    _queue_missing_confidence(rt)
    return report


def _queue_missing_confidence(rt: Runtime) -> None:
    """Queue the rank confidence of a frozen competition that has none and no job (e.g. the queue
    was down at the freeze). A failed job is kept by RQ and not retried here: verify reports it."""
    from server.models import Competition, RankConfidence

    with rt.session() as session:
        missing = list(session.execute(
            sa.select(Competition.id).outerjoin(RankConfidence, RankConfidence.competition_id == Competition.id)
            .where(Competition.frozen_at.is_not(None), RankConfidence.competition_id.is_(None))).scalars())
    for competition_id in missing:
        try:
            Job.fetch(f"confidence-{competition_id}", connection=rt.redis)
        except NoSuchJobError:
            enqueue_confidence(rt, competition_id)
