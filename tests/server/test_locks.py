"""db.advisory_lock: named PostgreSQL advisory locks that serialise writers of one key (no-op on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from server.db import LockKey, advisory_lock, make_engine, make_session_factory, write_transaction


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_key_of_each_namespace_and_its_ids_are_checked() -> None:
    assert LockKey.INSTANCE.pair() == (0, 0)
    assert LockKey.COMPETITION.pair(7) == (7, 0)
    assert LockKey.TEAM_UPLOAD.pair(7, 3) == (7, 3)
    with pytest.raises(ValueError, match="TEAM_UPLOAD lock takes competition_id, team_id"):
        LockKey.TEAM_UPLOAD.pair(7)
    with pytest.raises(ValueError, match="team_id must be a whole number from 1"):
        LockKey.TEAM_UPLOAD.pair(7, 0)  # 0 would be the competition's own key
    with pytest.raises(ValueError, match="INSTANCE lock takes no ids"):
        LockKey.INSTANCE.pair(1)


def test_a_held_lock_excludes_the_same_key_only(database_url: str, factory: sessionmaker[Session]) -> None:
    if not database_url.startswith("postgresql"):
        # SQLite: write transactions already exclude each other; the helper takes nothing.
        with write_transaction(factory, LockKey.TEAM_UPLOAD, 1, 2) as session:
            assert advisory_lock(session, LockKey.TEAM_UPLOAD, 1, 2, wait=False)
        return
    with write_transaction(factory, LockKey.TEAM_UPLOAD, 1, 2) as holder:
        assert advisory_lock(holder, LockKey.TEAM_UPLOAD, 1, 2, wait=False)  # re-entrant
        other = factory()
        try:
            for key, ids, free in [(LockKey.TEAM_UPLOAD, (1, 2), False), (LockKey.TEAM_UPLOAD, (1, 3), True),
                                   (LockKey.TEAM_UPLOAD, (2, 2), True), (LockKey.COMPETITION, (1,), True),
                                   (LockKey.INSTANCE, (), True)]:
                with other.begin():
                    assert advisory_lock(other, key, *ids, wait=False) is free, (key, ids)
        finally:
            other.close()
    # Released at commit.
    with factory() as session, session.begin():
        assert advisory_lock(session, LockKey.TEAM_UPLOAD, 1, 2, wait=False)


def test_a_second_writer_waits_until_the_first_commits(database_url: str, factory: sessionmaker[Session]) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises with BEGIN IMMEDIATE")
    order: list[str] = []
    done = threading.Event()

    def second() -> None:
        with write_transaction(factory, LockKey.COMPETITION, 5):
            order.append("second")
        done.set()

    with write_transaction(factory, LockKey.COMPETITION, 5):
        thread = threading.Thread(target=second)
        thread.start()
        # Wait (no clock) until PostgreSQL shows the second writer queued behind our lock.
        with factory() as watcher:
            while not watcher.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND classid = 5 AND objid = 0")).scalar():
                assert thread.is_alive() and not done.is_set()
                watcher.rollback()
        order.append("first")
    thread.join(timeout=60)
    assert done.is_set() and order == ["first", "second"]
