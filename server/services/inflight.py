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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import redis
from redis.client import Pipeline

from server.runtime import Runtime
from server.timeutil import isoformat_utc

__all__ = ["Arriving", "Tracked", "track_upload", "arriving_uploads", "STALE_SECONDS"]

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


class Tracked:
    """An upload registered by `track_upload`: `progress(bytes so far)` while the body arrives,
    `done_with(pipe)` once its row is committed."""

    def __init__(self, rt: Runtime, key: str, team: str, received_at: datetime) -> None:
        self.rt, self.key, self.field = rt, key, uuid.uuid4().hex
        self.team, self.received_at = team, received_at
        self.last, self.removed = 0.0, False

    def write(self, size: int) -> None:
        self.last = time.monotonic()
        value = json.dumps({"team": self.team, "received_at": isoformat_utc(self.received_at), "bytes": size,
                            "seen": time.time()})
        try:
            pipe = self.rt.redis.pipeline()
            pipe.hset(self.key, self.field, value)
            pipe.expire(self.key, STALE_SECONDS * 2)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not record an arriving upload (%s); a freeze will not wait for it", type(exc).__name__)

    def progress(self, size: int) -> None:
        if time.monotonic() - self.last >= _REFRESH_SECONDS:
            self.write(size)

    def done_with(self, pipe: Pipeline) -> None:
        """Remove the entry with the caller's pipeline (sent after the row's commit, with its job):
        one round trip fewer per upload. If that pipeline fails, the entry goes stale."""
        pipe.hdel(self.key, self.field)
        self.removed = True

    def remove(self) -> None:
        try:
            self.rt.redis.hdel(self.key, self.field)
        except redis.RedisError:
            pass  # the entry goes stale and is dropped


@contextmanager
def track_upload(rt: Runtime, competition_id: int, team: str, received_at: datetime) -> Iterator[Tracked]:
    """Register an upload for its whole handling (until `done_with`, or the end of the block)."""
    tracked = Tracked(rt, _key(rt, competition_id), team, received_at)
    tracked.write(0)
    try:
        yield tracked
    finally:
        if not tracked.removed:
            tracked.remove()


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
