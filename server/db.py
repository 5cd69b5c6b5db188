"""Engine, session factory and transaction helpers for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base", "UTCDateTime", "LockKey", "advisory_lock", "make_engine", "make_session_factory",
    "write_transaction", "utcnow",
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
        with _sqlite_writer(engine):
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


_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _sqlite_writer(engine: Engine) -> threading.RLock:
    with _writers_lock:
        lock = _writers.get(engine)
        if lock is None:
            lock = _writers[engine] = threading.RLock()
        return lock
