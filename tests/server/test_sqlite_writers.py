"""SQLite writers of one process wait their turn instead of racing in SQLite's busy handler.

The deadline rush (benchmarks/bench_rush.py) gave 31 of 2,000 uploads a 500 "database is
locked": the busy handler polls, so a writer can wait past the busy timeout while later ones get
in. Here the busy timeout is cut to 20 ms and ten threads each hold the write lock 50 ms: every
one must still commit.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from server.db import make_engine, make_session_factory, write_transaction


def test_threads_of_one_process_all_commit_however_long_each_holds_the_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA busy_timeout=20")

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    factory = make_session_factory(engine)
    errors: list[str] = []

    def writer(n: int) -> None:
        try:
            with write_transaction(factory) as session:
                session.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
                time.sleep(0.05)
        except sa.exc.OperationalError as exc:
            errors.append(str(exc.orig))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 10
    engine.dispose()
