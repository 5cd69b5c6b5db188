"""Reachability of the database and the queue, for /healthz."""

from __future__ import annotations

from typing import Any

import redis
import sqlalchemy as sa

from server.runtime import Runtime

__all__ = ["health"]


def health(rt: Runtime) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": True, "database": "ok", "queue": "ok"}
    try:
        with rt.session() as session:
            session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        body["ok"], body["database"] = False, f"unreachable ({type(exc).__name__})"
    try:
        rt.redis.ping()
        body["queued"] = rt.queue.count
    except redis.RedisError as exc:
        body["ok"], body["queue"] = False, f"unreachable ({type(exc).__name__})"
    return body
