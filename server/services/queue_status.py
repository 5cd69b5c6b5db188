"""The organizers' queue dashboard: submissions by status, the oldest waiting one, the workers alive
(RQ's registry of the scoring queue) and recent failures with their reasons.

The database answers the counts (it is the source of truth); RQ answers who is working. A queue
that cannot be reached is reported, not raised: the counts still help.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
import sqlalchemy as sa
from rq import Worker

from server.models import Competition, Submission, Team
from server.runtime import Runtime
from server.timeutil import isoformat_utc

__all__ = ["queue_dashboard", "STATUSES", "FAILED_LISTED"]

STATUSES = ("queued", "scoring", "scored", "rejected", "failed")
FAILED_LISTED = 20
SCORE_JOB_PREFIX = "score-"
VERIFY_JOB_PREFIX = "verify-"


def _counts(session: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(Competition.slug, Submission.status, sa.func.count())
        .join(Competition, Competition.id == Submission.competition_id)
        .group_by(Competition.slug, Submission.status)).all()
    slugs = session.execute(sa.select(Competition.slug).order_by(Competition.start_at, Competition.id)).scalars()
    by_slug: dict[str, dict[str, int]] = {slug: dict.fromkeys(STATUSES, 0) for slug in slugs}
    for slug, status, n in rows:
        by_slug[slug][status] = by_slug[slug].get(status, 0) + int(n)
    return [{"competition": slug, "counts": counts, "total": sum(counts.values())} for slug, counts in by_slug.items()]


def _oldest_waiting(session: Any, now: datetime) -> dict[str, Any] | None:
    row = session.execute(
        sa.select(Submission.id, Submission.status, Submission.received_at, Submission.attempts,
                  Competition.slug, Team.name)
        .join(Competition, Competition.id == Submission.competition_id)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.status == "queued")
        .order_by(Submission.received_at, Submission.id).limit(1)).first()
    if row is None:
        return None
    return {"id": row.id, "competition": row.slug, "team": row.name, "status": row.status,
            "received_at": isoformat_utc(row.received_at), "attempts": row.attempts,
            "age_seconds": round(max((now - row.received_at).total_seconds(), 0.0), 3)}


def _failed(session: Any, limit: int) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(Submission.id, Submission.received_at, Submission.scored_at, Submission.message,
                  Submission.attempts, Competition.slug, Team.name)
        .join(Competition, Competition.id == Submission.competition_id)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.status == "failed")
        .order_by(Submission.scored_at.desc(), Submission.id).limit(limit)).all()
    return [{"id": r.id, "competition": r.slug, "team": r.name, "received_at": isoformat_utc(r.received_at),
             "failed_at": isoformat_utc(r.scored_at), "attempts": r.attempts, "reason": r.message} for r in rows]


def _job_subject(job_id: str | None) -> tuple[str | None, int | None]:
    """(submission id, verify run id) a worker's current job is about."""
    if not job_id:
        return None, None
    if job_id.startswith(SCORE_JOB_PREFIX):
        return job_id[len(SCORE_JOB_PREFIX):], None
    if job_id.startswith(VERIFY_JOB_PREFIX) and job_id[len(VERIFY_JOB_PREFIX):].isdigit():
        return None, int(job_id[len(VERIFY_JOB_PREFIX):])
    return None, None


def _state(state: Any) -> str:
    return str(getattr(state, "value", state))  # rq's WorkerStatus is an enum; a worker may store a plain string


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _workers(rt: Runtime) -> list[dict[str, Any]]:
    workers = []
    for w in sorted(Worker.all(queue=rt.queue), key=lambda w: w.name):
        job_id = w.get_current_job_id()
        submission_id, verification_id = _job_subject(job_id)
        workers.append({"name": w.name, "host": w.hostname, "pid": w.pid, "state": _state(w.get_state()),
                        "queues": [q.name for q in w.queues], "current_job": job_id,
                        "submission_id": submission_id, "verification_id": verification_id,
                        "last_heartbeat": isoformat_utc(_aware(w.last_heartbeat))})
    return workers


def queue_dashboard(rt: Runtime, *, failed_limit: int = FAILED_LISTED) -> dict[str, Any]:
    """Counts per competition and status, the oldest queued submission, workers, recent failures."""
    now = rt.now()
    with rt.session() as session:
        body: dict[str, Any] = {
            "now": isoformat_utc(now), "competitions": _counts(session),
            "oldest_waiting": _oldest_waiting(session, now), "failed": _failed(session, failed_limit),
        }
    body["totals"] = {s: sum(c["counts"][s] for c in body["competitions"]) for s in STATUSES}
    try:
        body["workers"] = _workers(rt)
        body["jobs_waiting"] = len(rt.queue)
        body["queue"] = "ok"
    except redis.RedisError as exc:
        body["workers"], body["jobs_waiting"] = None, None
        body["queue"] = f"unreachable ({type(exc).__name__})"
    return body
