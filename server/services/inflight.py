"""Uploads still arriving, so that a freeze waits for the on-time ones instead of refusing them.

Each upload registers in Redis (hash ``hackathon:<queue name>:inflight:<competition id>``, one field per
upload) from the moment it is received until its row is committed or it is refused. Entries
carry the receipt time and are refreshed while bytes arrive; one not refreshed for STALE_SECONDS
belongs to a process that died and is dropped when read. Redis trouble never blocks an upload:
it is logged, and the freeze then sees no upload arriving.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import redis

from server.runtime import Runtime
from server.timeutil import isoformat_utc

__all__ = ["Arriving", "track_upload", "arriving_uploads", "STALE_SECONDS"]

log = logging.getLogger(__name__)

# Longer than the web server's per-read idle timeout (30 s): a live upload refreshes sooner.
STALE_SECONDS = 60
_REFRESH_SECONDS = 1.0


def _key(rt: Runtime, competition_id: int) -> str:
    # Namespaced by the instance's queue name: instances (and test runs) may share one Redis.
    return f"hackathon:{rt.config['QUEUE_NAME']}:inflight:{competition_id}"


@dataclass(frozen=True)
class Arriving:
    team: str
    received_at: datetime
    bytes: int


@contextmanager
def track_upload(rt: Runtime, competition_id: int, team: str, received_at: datetime) -> Iterator[Callable[[int], None]]:
    """Register an upload for its whole handling; yield a progress callback (bytes so far)."""
    key, field = _key(rt, competition_id), uuid.uuid4().hex
    last = 0.0

    def write(size: int) -> None:
        nonlocal last
        last = time.monotonic()
        value = json.dumps({"team": team, "received_at": isoformat_utc(received_at), "bytes": size,
                            "seen": time.time()})
        try:
            pipe = rt.redis.pipeline()
            pipe.hset(key, field, value)
            pipe.expire(key, STALE_SECONDS * 2)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not record an arriving upload (%s); a freeze will not wait for it", type(exc).__name__)

    def progress(size: int) -> None:
        if time.monotonic() - last >= _REFRESH_SECONDS:
            write(size)

    write(0)
    try:
        yield progress
    finally:
        try:
            rt.redis.hdel(key, field)
        except redis.RedisError:
            pass  # the entry goes stale and is dropped


def arriving_uploads(rt: Runtime, competition_id: int, before: datetime) -> list[Arriving]:
    """Uploads received before `before` that are still arriving (stale entries are dropped)."""
    key = _key(rt, competition_id)
    try:
        entries = rt.redis.hgetall(key)
    except redis.RedisError as exc:
        log.warning("cannot see arriving uploads (%s); freezing without waiting", type(exc).__name__)
        return []
    found: list[Arriving] = []
    for field, raw in entries.items():
        data = json.loads(raw)
        if time.time() - data["seen"] > STALE_SECONDS:
            try:
                rt.redis.hdel(key, field)
            except redis.RedisError:
                pass
            continue
        received = datetime.fromisoformat(data["received_at"].replace("Z", "+00:00"))
        if received < before:
            found.append(Arriving(data["team"], received, int(data["bytes"])))
    return sorted(found, key=lambda a: a.received_at)
