"""The shared clients of one process: config, database, storage, queue, clock, caches.

A Flask app keeps its Runtime in ``app.extensions["hackathon"]``; a worker process builds one
from the environment. Nothing here connects at import time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from flask import current_app
from rq import Queue
from sqlalchemy.orm import Session

from server.db import LockKey, make_engine, make_session_factory, utcnow, write_transaction
from server.object_storage import make_storage
from server.storage import Storage

__all__ = ["Runtime", "current_runtime"]


class Runtime:
    """Everything a request, a job or a command needs, created once per process."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.home: Path = config["HOME"]
        self.engine = make_engine(config["DATABASE_URL"])
        self.sessions = make_session_factory(self.engine)
        # Commit hooks find the process's clients here (e.g. services.board_version's).
        self.sessions.configure(info={"runtime": self})
        self.storage: Storage = make_storage(config)  # the instance folder, or a bucket (STORAGE_URL)
        # Tests move time by replacing the clock; everything that asks "now" asks here.
        self.clock: Callable[[], datetime] = utcnow
        self._redis: redis.Redis | None = None
        self._queues: dict[str, Queue] = {}
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads (and plain writes committed by the caller)."""
        with self.sessions() as session:
            yield session

    def write(self, lock: LockKey | None = None, *ids: int) -> Any:
        """A serialised write transaction, e.g. `write(LockKey.TEAM_UPLOAD, comp_id, team_id)`
        (see db.write_transaction)."""
        return write_transaction(self.sessions, lock, *ids)

    # -- queue -------------------------------------------------------------------------------
    @property
    def redis_url(self) -> str | None:
        if self.config.get("REDIS_URL"):
            return str(self.config["REDIS_URL"])
        from server.embedded import running_embedded_url

        return running_embedded_url(self.home)

    @property
    def redis(self) -> redis.Redis:
        with self._lock:
            if self._redis is None:
                url = self.redis_url
                if url is None:
                    raise redis.ConnectionError(
                        "no queue: set REDIS_URL, or start `hackathon serve` which runs an embedded one"
                    )
                self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                                   health_check_interval=30)
            return self._redis

    @property
    def queue(self) -> Queue:
        """The scoring queue (QUEUE_NAME)."""
        return self.named_queue(self.config["QUEUE_NAME"])

    def named_queue(self, name: str) -> Queue:
        """One Queue object per name and Redis client, not one per call: a new Queue asks the
        server's version (INFO) on its first enqueue, a round trip per upload."""
        connection = self.redis
        queue = self._queues.get(name)
        if queue is None or queue.connection is not connection:
            queue = self._queues[name] = Queue(name, connection=connection,
                                               default_timeout=self.config["JOB_TIMEOUT"])
        return queue

    # -- small LRU cache for parsed tasks and hidden labels ---------------------------------------
    def cached(self, key: tuple[Any, ...], build: Callable[[], Any], size: int = 8) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = build()  # outside the lock: parsing labels can take a second
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > size:
                self._cache.popitem(last=False)
        return value

    def dispose(self) -> None:
        self.engine.dispose()
        if self._redis is not None:
            self._redis.close()


def current_runtime() -> Runtime:
    return current_app.extensions["hackathon"]
