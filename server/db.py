"""Engine, session factory and transaction helpers for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

__all__ = [
    "Base", "UTCDateTime", "LockKey", "advisory_lock", "make_engine", "make_session_factory",
    "write_transaction", "utcnow", "sqlite_sync_normal",
]


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones; PostgreSQL's timestamptz does. Naive datetimes are refused so that
    a local time can never be stored by mistake.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take a write lock up front;
    # we emit BEGIN ourselves so that quota checks can use BEGIN IMMEDIATE (SQLAlchemy recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


_sync_normal: weakref.WeakSet[Engine] = weakref.WeakSet()


def sqlite_sync_normal(engine: Engine) -> None:
    """SQLite `synchronous=NORMAL` on this engine's connections (scoring workers only).

    In WAL mode a commit then skips its fsync (3 ms of a 10 ms job here): it survives a crash of
    the process, and only an OS crash or power loss can undo the last commits, never corrupt the
    file. What a worker commits is recomputable: an undone claim or result leaves the row
    `queued`/`scoring`, which the reconciler re-queues, and scoring is deterministic. The web
    processes keep FULL: an accepted upload's row must survive a power loss.
    """
    if engine.dialect.name != "sqlite" or engine in _sync_normal:
        return
    _sync_normal.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    engine.dispose()  # connections opened before keep FULL otherwise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class LockKey(Enum):
    """Named PostgreSQL advisory-lock namespaces, and the ids each one is keyed by.

    Keys are PostgreSQL's two-int form; the namespaces cannot collide because ids are >= 1:
    INSTANCE is (0, 0), COMPETITION (competition, 0), TEAM_UPLOAD (competition, team). These are
    the keys every release has used, so old and new processes of one instance still agree.
    """

    # Instance-wide writes: the action log's hash chain, teams, tokens, competitions, awards.
    INSTANCE = ()
    # One competition's freeze, publish and rescore.
    COMPETITION = ("competition_id",)
    # One team's uploads and final selections in one competition (the freeze takes them all).
    TEAM_UPLOAD = ("competition_id", "team_id")

    @property
    def fields(self) -> tuple[str, ...]:
        # Not `self.value`: Python 3.11.2 (Debian bookworm's, the image's) gives the member
        # whose value is `()` a bare object() as its value.
        return _LOCK_FIELDS[self.name]

    def pair(self, *ids: int) -> tuple[int, int]:
        """The (int4, int4) key for these ids; refuses a wrong count or an id outside 1..2^31-1."""
        fields = self.fields
        if len(ids) != len(fields):
            raise ValueError(f"{self.name} lock takes {', '.join(fields) or 'no ids'}, found {ids!r}")
        for name, value in zip(fields, ids, strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
                raise ValueError(f"{self.name} lock: {name} must be a whole number from 1 to 2^31-1, found {value!r}")
        return (tuple(ids) + (0, 0))[:2]  # type: ignore[return-value]


_LOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "INSTANCE": (), "COMPETITION": ("competition_id",), "TEAM_UPLOAD": ("competition_id", "team_id")}


def advisory_lock(session: Session, key: LockKey, *ids: int, wait: bool = True) -> bool:
    """Take a transaction-scoped advisory lock (released at commit or rollback).

    PostgreSQL only: SQLite's write transactions (BEGIN IMMEDIATE) already exclude each other,
    so there it does nothing and returns True. With `wait=False` it returns whether the lock was
    free instead of waiting for it. Re-taking a lock the transaction holds returns at once.
    """
    a, b = key.pair(*ids)
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": a, "b": b})
        return True
    return bool(session.execute(sa.text("SELECT pg_try_advisory_xact_lock(:a, :b)"), {"a": a, "b": b}).scalar())


@contextmanager
def write_transaction(factory: sessionmaker[Session], lock: LockKey | None = None, *ids: int) -> Iterator[Session]:
    """Open a session whose transaction serialises with other writers of the same lock.

    SQLite: BEGIN IMMEDIATE takes the database write lock before the first read, so a
    check-then-insert cannot interleave. PostgreSQL: the advisory lock `lock` on `ids` (e.g.
    TEAM_UPLOAD, competition id, team id) serialises just those writers.
    """
    if lock is not None:
        lock.pair(*ids)  # a wrong key fails before any transaction opens
    engine = factory.kw["bind"]
    if engine.dialect.name == "sqlite":
        # One writer per process at a time, waiting in a lock rather than in SQLite's busy handler:
        # that handler polls, so with 50 uploads at once some waited past the busy timeout
        # ("database is locked") while later ones got in. Across processes it still polls, but
        # among a handful of writers instead of hundreds of threads.
        with _sqlite_writer(engine), _ProcessWriterLock.of(engine):
            session = factory(bind=engine.execution_options(sqlite_begin="IMMEDIATE"))
            try:
                with session.begin():
                    yield session
            finally:
                session.close()
        return
    session = factory()
    try:
        with session.begin():
            if lock is not None:
                advisory_lock(session, lock, *ids)
            yield session
    finally:
        session.close()


class _ProcessWriterLock:
    """Across processes (web, workers, commands), writers of one SQLite file take turns at an
    flock on `<database>-writer.lock` before BEGIN IMMEDIATE. A process blocked in flock is woken
    by the kernel when the lock is released; in SQLite's busy handler it sleeps 1, 2, 5 ... 100 ms
    between polls, so while uploads kept the web processes writing, a worker's result waited
    through most of those sleeps (10 scored/s while uploading, 100/s after: bench_queue.py).
    Taken inside the process's writer lock, so one thread per process waits here; re-entrant.
    """

    _by_engine: ClassVar[weakref.WeakKeyDictionary[Engine, _ProcessWriterLock]] = weakref.WeakKeyDictionary()

    def __init__(self, path: str | None) -> None:
        self.path, self.pid, self.fd, self.depth = path, 0, -1, 0

    @classmethod
    def of(cls, engine: Engine) -> _ProcessWriterLock:
        with _writers_lock:
            lock = cls._by_engine.get(engine)
            if lock is None:
                database = engine.url.database
                memory = not database or database == ":memory:" or database.startswith("file::memory:")
                lock = cls._by_engine[engine] = cls(None if memory else f"{database}-writer.lock")
            return lock

    def __enter__(self) -> None:
        if self.path is None:
            return
        if self.pid != os.getpid():  # a forked child must not share its parent's open lock file
            self._open()
        if self.depth == 0 and self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.depth += 1

    def __exit__(self, *_exc: object) -> None:
        if self.path is None:
            return
        self.depth -= 1
        if self.depth == 0 and self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _open(self) -> None:
        assert self.path is not None
        if self.fd >= 0:
            os.close(self.fd)  # the parent's descriptor: closing the child's copy keeps the parent's lock
        self.pid, self.depth = os.getpid(), 0
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        except OSError as exc:  # e.g. another user's file: SQLite's busy handler still serialises
            log.warning("no SQLite writer lock file %s (%s); writers of other processes poll", self.path, exc.strerror)
            self.fd = -1


_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _fresh_locks_after_fork() -> None:
    # A child forked while a thread of its parent wrote would inherit that thread's lock, held for good.
    global _writers_lock
    _writers_lock = threading.Lock()
    _writers.clear()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


def _sqlite_writer(engine: Engine) -> threading.RLock:
    with _writers_lock:
        lock = _writers.get(engine)
        if lock is None:
            lock = _writers[engine] = threading.RLock()
        return lock
