"""`hackathon serve` supervises its embedded workers and Valkey (issue 10, item 4).

Real processes: the server, its Valkey and workers are killed with SIGKILL and must come back.
Recovery times are printed (run with -s) for the README; the waits below only bound how long a
test gives it before failing.
"""

from __future__ import annotations

import gzip
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import _fresh_postgres_database
from tests.server.conftest import tiny_predictions
from tests.server.served import Served, start_served


def _children(served: Served, word: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(served.proc.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(word in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def _workers(served: Served) -> list[psutil.Process]:
    """The scoring workers (code competitions' workers run on their own queue beside them)."""
    return [p for p in _children(served, "worker") if "serve" not in p.cmdline() and "code" not in p.cmdline()]


def _wait(what: str, check, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"gave up waiting: {what}"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"supervised-{request.param}")
    url = (f"sqlite:///{tmp / 'hackathon.db'}" if request.param == "sqlite"
           else _fresh_postgres_database(request.getfixturevalue("postgres_admin_url")))
    server = start_served(tmp, url)
    try:
        yield server
    finally:
        server.stop()


def _slow_file(tmp: Path) -> Path:
    """A gzip file whose scoring takes a while (millions of rows), so a worker can die mid-job."""
    path = tmp / "slow.csv.gz"
    with gzip.open(path, "wt", compresslevel=6) as fh:
        fh.write("id,y\n")
        fh.write("T000,1.0\n" * 3_000_000)
    return path


def test_a_worker_killed_mid_job_is_requeued_and_replaced(served: Served, tmp_path: Path) -> None:
    slug, token = served.competition(), served.team()
    _wait("two workers", lambda: len(_workers(served)) == 2, 30)
    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token,
                           body=_slow_file(tmp_path).read_bytes(), headers={"Content-Type": "application/gzip"})
    assert reply.status == 202, reply.body
    sub_id = reply.json()["id"]

    def current() -> dict:  # type: ignore[type-arg]
        return served.request("GET", f"/api/v1/submissions/{sub_id}", token=served.organizer).json()

    _wait("scoring to start", lambda: current()["status"] == "scoring", 30)
    from rq import SimpleWorker

    busy = [w for w in SimpleWorker.all(connection=served.rt.redis) if w.get_current_job_id() == f"score-{sub_id}"]
    assert busy, "no worker holds the job"
    os.kill(busy[0].pid, signal.SIGKILL)
    killed = time.monotonic()
    requeued = _wait("the job to be taken again", lambda: current()["attempts"] >= 2, 20)
    print(f"\n[{served.database_url.split(':')[0]}] worker killed mid-job: scoring again after {requeued:.1f} s")
    _wait("the worker to be replaced", lambda: len(_workers(served)) == 2, 20)
    print(f"worker replaced {time.monotonic() - killed:.1f} s after the kill")
    _wait("the submission to finish", lambda: current()["status"] not in ("queued", "scoring"), 60)
    assert current()["status"] in ("rejected", "scored")
    assert "exited" in served.output() and "restarted" in served.output()


def test_a_killed_valkey_is_restarted_and_uploads_are_scored(served: Served) -> None:
    slug, token = served.competition(), served.team()
    valkey = _children(served, "valkey")
    assert len(valkey) == 1
    valkey[0].kill()
    killed = time.monotonic()

    def back() -> bool:
        fresh = _children(served, "valkey")
        return bool(fresh) and fresh[0].pid != valkey[0].pid and served.request("GET", "/healthz").status == 200

    _wait("Valkey and /healthz to come back", back, 30)
    print(f"\nValkey killed: /healthz 200 again after {time.monotonic() - killed:.1f} s")
    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token,
                           body=tiny_predictions(0.5), headers={"Content-Type": "text/csv"})
    assert reply.status == 202, reply.body
    assert served.wait_scored(reply.json()["id"], timeout=60)["status"] == "scored"
    assert "Valkey restarted" in served.output()


def test_healthz_is_503_when_submissions_wait_and_no_worker_lives(tmp_path: Path) -> None:
    served = start_served(tmp_path, f"sqlite:///{tmp_path / 'hackathon.db'}", HACKATHON_EMBEDDED_WORKERS="0")
    try:
        body = served.request("GET", "/healthz").json()
        assert body["workers"] == 0 and body["oldest_queued_seconds"] is None and body["ok"] is True
        slug, token = served.competition(), served.team()
        reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token,
                               body=tiny_predictions(0.5), headers={"Content-Type": "text/csv"})
        assert reply.status == 202
        time.sleep(1.1)
        health = served.request("GET", "/healthz")
        assert health.status == 503, health.body
        assert health.json()["workers"] == 0 and health.json()["oldest_queued_seconds"] is not None
        assert "no scoring worker" in health.json()["scoring"]
    finally:
        served.stop()
