"""Reachability of the database and the queue, live workers and queue age, for /healthz."""

from __future__ import annotations

from typing import Any

import redis
import sqlalchemy as sa

from server.models import Submission
from server.runtime import Runtime

__all__ = ["health"]


def health(rt: Runtime) -> dict[str, Any]:
    """`ok` is false (503) when the database or queue is unreachable, or when submissions wait and
    no worker lives to score them."""
    body: dict[str, Any] = {"ok": True, "database": "ok", "queue": "ok"}
    oldest = None
    try:
        with rt.session() as session:
            oldest = session.execute(
                sa.select(sa.func.min(Submission.received_at)).where(Submission.status == "queued")).scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        body["ok"], body["database"] = False, f"unreachable ({type(exc).__name__})"
    body["oldest_queued_seconds"] = None
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite may hand back a naive UTC value in an aggregate
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        body["oldest_queued_seconds"] = round(max((rt.now() - oldest).total_seconds(), 0.0), 1)
    try:
        rt.redis.ping()
        body["queued"] = rt.queue.count
        from server.queue import live_workers

        body["workers"] = live_workers(rt)
    except redis.RedisError as exc:
        body["ok"], body["queue"] = False, f"unreachable ({type(exc).__name__})"
    if body["oldest_queued_seconds"] is not None and body.get("workers") == 0:
        body["ok"] = False
        body["scoring"] = "submissions are waiting and no scoring worker is alive"
    return body
