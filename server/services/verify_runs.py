"""Verify as a background job: a run row in `verify_runs`, an RQ job that runs services.verify with a
progress callback (files re-hashed and re-scored out of N, written to the row as it goes), and the
report kept on the row when it ends.

The job runs on the scoring workers (`hackathon worker`), from their second queue
(server.queue.verify_queue): scoring jobs always go first. A run whose job vanished (its worker
died) is marked failed when it is next read. Starting a run changes no competition state, so
judges may start one once the competition is frozen (access.can_verify); it is no action-log entry.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from server.caller import Caller
from server.errors import AppError, Conflict, NotFound
from server.models import Competition, VerifyRun
from server.queue import verify_queue, worker_runtime
from server.runtime import Runtime
from server.services.access import check_verify
from server.services.competitions import get_competition
from server.services.verify import VerifyReport, verify
from server.timeutil import isoformat_local, isoformat_utc

__all__ = ["start_verification", "list_verifications", "get_verification", "verify_job", "run_to_dict",
           "VERIFY_JOB_TIMEOUT", "ACTIVE"]

log = logging.getLogger(__name__)

VERIFY_JOB_TIMEOUT = 6 * 3600  # 20,000 submissions take ~20 s here; real files are larger
ACTIVE = ("queued", "running")
PROGRESS_EVERY_S = 0.5


def verify_job_id(run_id: int) -> str:
    return f"verify-{run_id}"


def run_to_dict(run: VerifyRun, comp: Competition, *, with_report: bool = False,
                with_templates: bool = False) -> dict[str, Any]:
    """The API's run object; `with_templates` keeps each stored difference's message template and
    parameters (for the pages, which show them in Korean; the API's report is the CLI's)."""
    total = run.total
    body: dict[str, Any] = {
        "id": run.id, "competition": comp.slug, "status": run.status, "requested_by": run.requested_by,
        "created_at": isoformat_utc(run.created_at), "created_at_local": isoformat_local(run.created_at, comp.timezone),
        "started_at": isoformat_utc(run.started_at), "finished_at": isoformat_utc(run.finished_at),
        "total": total, "checked": run.checked, "files": run.files, "rescored": run.rescored,
        "progress": 1.0 if run.status == "done" else None if not total else round(min(run.checked / total, 1.0), 4),
        "ok": run.ok, "differences": run.differences, "error": run.error,
        "url": f"/api/v1/competitions/{comp.slug}/verifications/{run.id}",
    }
    if with_report:
        report = json.loads(run.report) if run.report else None
        if report is not None and not with_templates:
            report["differences"] = [{k: v for k, v in d.items() if k not in ("template", "params")}
                                     for d in report.get("differences", [])]
        body["report"] = report
    return body


def start_verification(rt: Runtime, slug: str, caller: Caller) -> dict[str, Any]:
    """Queue a verify run of the competition; one at a time per competition.

    Raises:
        Conflict: a run of this competition is still queued or running (`verification_running`).
    """
    now = rt.now()
    actor = f"{caller.role.value}:{caller.name}"
    with rt.write() as session:
        comp = get_competition(session, slug)
        check_verify(caller, comp)
        active = session.execute(sa.select(VerifyRun).where(VerifyRun.competition_id == comp.id,
                                                            VerifyRun.status.in_(ACTIVE))).scalars().first()
        if active is not None and not _reap(rt, session, active, now):
            raise Conflict(f"verification {active.id} of '{slug}' is still {active.status}; watch it at "
                           f"/api/v1/competitions/{slug}/verifications/{active.id}",
                           code="verification_running", verification_id=active.id)
        run = VerifyRun(competition_id=comp.id, status="queued", requested_by=actor, created_at=now,
                        checked=0, files=0, rescored=0)
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        verify_queue(rt).enqueue(verify_job, run_id, job_id=verify_job_id(run_id), job_timeout=VERIFY_JOB_TIMEOUT,
                                 result_ttl=rt.config["RESULT_TTL"], failure_ttl=rt.config["FAILURE_TTL"],
                                 description=f"verify {slug} (run {run_id})")
    except redis.RedisError as exc:
        _finish(rt, run_id, status="failed", error=f"the queue is unreachable ({type(exc).__name__}); start it again "
                                                     "once `GET /healthz` says the queue is ok")
    with rt.session() as session:
        return run_to_dict(session.get_one(VerifyRun, run_id), comp, with_report=True)


def _reap(rt: Runtime, session: Session, run: VerifyRun, now: Any) -> bool:
    """Mark an active run failed if its job is gone (a worker died, the queue lost it); True if so."""
    try:
        job = Job.fetch(verify_job_id(run.id), connection=rt.redis)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        status = None
    except redis.RedisError:
        return False  # cannot tell: leave it
    if status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return False
    if status == JobStatus.FINISHED:
        session.refresh(run)  # it ended while we looked
        if run.status not in ACTIVE:
            return True
    run.status, run.finished_at = "failed", now
    run.error = f"the worker stopped before finishing (job {status.value if status else 'lost'}); start it again"
    return True


def _reap_active(rt: Runtime, comp_id: int) -> None:
    """Before reading: a run still marked active whose job is gone becomes failed."""
    with rt.session() as session:
        active = session.execute(sa.select(VerifyRun.id).where(VerifyRun.competition_id == comp_id,
                                                               VerifyRun.status.in_(ACTIVE))).first()
    if active is None:
        return
    now = rt.now()
    with rt.write() as session:
        for run in session.execute(sa.select(VerifyRun).where(VerifyRun.competition_id == comp_id,
                                                              VerifyRun.status.in_(ACTIVE))).scalars():
            _reap(rt, session, run, now)


def _readable(rt: Runtime, slug: str, caller: Caller) -> int:
    with rt.session() as session:
        comp = get_competition(session, slug)
        check_verify(caller, comp)
        return comp.id


def list_verifications(rt: Runtime, slug: str, caller: Caller) -> dict[str, Any]:
    """The competition's runs, newest first (without their reports)."""
    _reap_active(rt, _readable(rt, slug, caller))
    with rt.session() as session:
        comp = get_competition(session, slug)
        runs = session.execute(sa.select(VerifyRun).where(VerifyRun.competition_id == comp.id)
                               .order_by(VerifyRun.id.desc())).scalars()
        return {"competition": slug, "verifications": [run_to_dict(r, comp) for r in runs]}


def get_verification(rt: Runtime, slug: str, run_id: int, caller: Caller, *,
                     with_templates: bool = False) -> dict[str, Any]:
    """One run: its progress, and its report once done (see run_to_dict for `with_templates`)."""
    _reap_active(rt, _readable(rt, slug, caller))
    with rt.session() as session:
        comp = get_competition(session, slug)
        run = session.get(VerifyRun, run_id) if 0 < run_id < 2**31 else None
        if run is None or run.competition_id != comp.id:
            raise NotFound(f"competition '{slug}' has no verification {run_id}")
        return run_to_dict(run, comp, with_report=True, with_templates=with_templates)


def _finish(rt: Runtime, run_id: int, *, status: str, error: str | None = None,
            report: VerifyReport | None = None) -> None:
    with rt.write() as session:
        run = session.get_one(VerifyRun, run_id)
        run.status, run.finished_at, run.error = status, rt.now(), error
        if report is not None:
            run.total = max(run.total or 0, report.submissions)
            run.checked, run.files, run.rescored = report.submissions, report.files, report.rescored
            run.ok, run.differences = report.ok, report.differences_total
            run.report = json.dumps(report.to_record(), ensure_ascii=False)


class _Progress:
    """Writes files re-hashed and re-scored out of N to the run row, at most every PROGRESS_EVERY_S."""

    def __init__(self, rt: Runtime, run_id: int) -> None:
        self.rt, self.run_id, self.last = rt, run_id, 0.0

    def __call__(self, report: VerifyReport, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and report.submissions not in (0, total):
            return
        self.last = now
        with self.rt.write() as session:
            session.execute(sa.update(VerifyRun).where(VerifyRun.id == self.run_id).values(
                total=total, checked=report.submissions, files=report.files, rescored=report.rescored))


def verify_job(run_id: int) -> str:
    """The RQ job: run verify for the run's competition, recording progress and the report."""
    rt = worker_runtime()
    with rt.write() as session:
        run = session.get(VerifyRun, run_id)
        if run is None or run.status not in ACTIVE:
            return "gone" if run is None else run.status
        run.status, run.started_at = "running", rt.now()
        slug = session.get_one(Competition, run.competition_id).slug
    try:
        report = verify(rt, slug, progress=_Progress(rt, run_id))
    except AppError as exc:
        _finish(rt, run_id, status="failed", error=exc.message)
        return "failed"
    except Exception as exc:
        _finish(rt, run_id, status="failed", error=f"verify stopped: {type(exc).__name__}: {exc}")
        log.exception("verify run %s failed", run_id)
        raise
    _finish(rt, run_id, status="done", report=report)
    return "done"
