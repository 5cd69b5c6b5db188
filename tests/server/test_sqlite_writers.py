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


WRITER_PROCESS = """
import sys, time
import sqlalchemy as sa
from sqlalchemy import event
from server.db import make_engine, make_session_factory, write_transaction
engine = make_engine(sys.argv[1])

@event.listens_for(engine, "connect")
def _short_busy_timeout(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA busy_timeout=20")

factory = make_session_factory(engine)
errors = 0
for n in range(5):
    try:
        with write_transaction(factory) as session:
            session.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
            time.sleep(0.03)
    except sa.exc.OperationalError:
        errors += 1
print(errors)
"""


def test_writers_of_several_processes_take_turns_without_polling(tmp_path: Path) -> None:
    """Across processes SQLite's busy handler polls (a worker's result waited behind the web
    processes' uploads): writers take an flock first, so four processes each holding the write lock
    30 ms, five times, all commit with a busy timeout of 20 ms."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    root = str(Path(__file__).resolve().parents[2])
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_PROCESS, url], cwd=root, stdout=subprocess.PIPE,
                              text=True) for _ in range(4)]
    errors = [int(p.communicate(timeout=120)[0].strip() or -1) for p in procs]
    assert errors == [0, 0, 0, 0]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 20
    engine.dispose()
