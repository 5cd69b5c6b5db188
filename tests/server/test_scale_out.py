"""Scale-out on real components, with no shared folder: PostgreSQL (embedded), Valkey, an S3 endpoint
(moto's server), 2 web processes and 3 worker processes, each with its own instance folder.

300 uploads spread over both web processes; mid-run one worker and one web process are SIGKILLed.
Every submission is scored exactly once, and `audit` and `verify` (on yet another machine) are clean.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from rq import Worker as RQWorker

from tests.conftest import _fresh_postgres_database
from tests.server.conftest import TINY_TASK, tiny_labels, tiny_predictions
from tests.server.s3_server import CREDENTIALS, S3Endpoint, s3_endpoint  # noqa: F401  (fixture)
from tests.server.served import wait_until_healthy
from tests.server.test_processes import _free_port

HACKATHON = [sys.executable, "-m", "server"]
UPLOADS = 300
TEAMS = 10


def _env(base: dict[str, str], home: Path) -> dict[str, str]:
    return {**base, "HACKATHON_HOME": str(home)}


def _request(method: str, url: str, token: str, body: bytes | None = None, content_type: str = "text/csv") -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = content_type
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method=method),
                                timeout=30) as response:
        return json.loads(response.read())


def _written_by(log: Path) -> set[str]:
    return {m.group(1) for m in re.finditer(r"submission ([0-9a-f]{32}) scored in", log.read_text())}


@pytest.mark.slow
def test_300_uploads_over_two_web_and_three_workers_survive_sigkill(
        tmp_path: Path, redis_url: str, postgres_admin_url: str, s3_endpoint: S3Endpoint) -> None:  # noqa: F811
    files_bucket, labels_bucket = s3_endpoint.new_bucket("files"), s3_endpoint.new_bucket("labels")
    base = {k: v for k, v in os.environ.items() if not k.startswith("HACKATHON_") and k not in ("REDIS_URL", "DATABASE_URL")}
    base.update(CREDENTIALS)
    database_url = _fresh_postgres_database(postgres_admin_url)
    base.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, HACKATHON_QUEUE_NAME=f"scale-{uuid.uuid4().hex[:8]}",
        HACKATHON_STORAGE_URL=f"s3://{files_bucket}/inst", HACKATHON_LABELS_STORAGE_URL=f"s3://{labels_bucket}/hidden",
        HACKATHON_S3_ENDPOINT_URL=s3_endpoint.url, HACKATHON_LOG_FORMAT="json",
        # A dead worker's job is found within seconds: short dequeue waits and reconciler passes.
        HACKATHON_WORKER_TTL="17", HACKATHON_RECONCILE_INTERVAL="2", HACKATHON_RECONCILE_GRACE="3")
    admin = tmp_path / "admin"
    task = tmp_path / "task"
    task.mkdir()
    (task / "task.toml").write_text(TINY_TASK, encoding="utf-8")
    (task / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    run = {"env": _env(base, admin), "check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run([*HACKATHON, "init"], **run)  # type: ignore[call-overload]
    subprocess.run([*HACKATHON, "competition", "create", "--task", str(task), "--labels", str(task / "labels.csv"),
                    "--start", "2020-01-01T00:00", "--end", "2099-01-01T00:00", "--daily-limit", "1000"],
                   **run)  # type: ignore[call-overload]
    organizer = subprocess.run([*HACKATHON, "token", "create", "--role", "organizer", "--name", "ops"],
                               **run).stdout.strip()  # type: ignore[call-overload]

    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        logs[name] = tmp_path / f"{name}.log"
        with open(logs[name], "wb") as out:
            procs[name] = subprocess.Popen([*HACKATHON, *args], env=_env(base, tmp_path / name), stdout=out, stderr=out)
        return procs[name]

    ports = [_free_port(), _free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for i, port in enumerate(ports):
            start(f"web{i}", "serve", "--port", str(port))
        for i in range(3):
            start(f"worker{i}", "worker")
        for url in urls:
            wait_until_healthy(url)
        tokens = [_request("POST", urls[0] + "/api/v1/teams", organizer, json.dumps({"name": f"team {t}"}).encode(),
                           "application/json")["token"] for t in range(TEAMS)]

        accepted: dict[str, float] = {}  # submission id -> the public RMSE it must get
        lock = threading.Lock()
        killed = threading.Event()
        live = [0, 1]

        def upload(n: int) -> None:
            offset = round((n + 1) / 1000, 3)
            body = tiny_predictions(offset)
            for attempt in range(20):
                url = urls[live[(n + attempt) % len(live)]]
                try:
                    answer = _request("POST", f"{url}/api/v1/competitions/tiny/submissions", tokens[n % TEAMS], body)
                    with lock:
                        accepted[answer["id"]] = offset
                    return
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.2)  # that web process is gone: the client tries the other one
            raise AssertionError(f"upload {n} failed 20 times")

        victim_job: list[str | None] = [None]

        def chaos() -> None:
            while len(accepted) < UPLOADS // 3:
                time.sleep(0.05)
            # Kill worker0 in the middle of a job when we can catch it busy (jobs take ~10-30 ms).
            connection = redis.Redis.from_url(redis_url)
            workers = RQWorker.all(queue=Queue(base["HACKATHON_QUEUE_NAME"], connection=connection))
            mine = next(w for w in workers if w.pid == procs["worker0"].pid)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                running = connection.smembers(mine.executions_key)  # "<job id>:<execution id>"
                if running:
                    victim_job[0] = next(iter(running)).decode().split(":")[0]
                    break
                time.sleep(0.001)
            procs["worker0"].send_signal(signal.SIGKILL)
            connection.close()
            web = psutil.Process(procs["web1"].pid)
            victims = [web, *web.children(recursive=True)]
            live.remove(1)
            for victim in victims:  # the gunicorn master and its worker: the machine is gone
                victim.send_signal(signal.SIGKILL)
            killed.set()

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, range(UPLOADS)))
        chaos_thread.join()
        assert killed.is_set() and len(accepted) == UPLOADS

        engine = sa.create_engine(database_url)
        try:
            deadline = time.monotonic() + 90
            while True:
                with engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT id, status, public_score, attempts FROM submissions")).all()
                if rows and all(r.status == "scored" for r in rows):
                    break
                assert time.monotonic() < deadline, f"not all scored: {sorted({r.status for r in rows})}"
                time.sleep(0.5)
        finally:
            engine.dispose()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    # Every accepted upload is a scored submission with its own score; an upload whose answer was
    # lost with the killed web process may exist once more (the client sent it again), also scored.
    by_id = {r.id: r for r in rows}
    assert accepted.keys() <= by_id.keys()
    assert len(by_id) - len(accepted) <= 8, "at most the requests in flight on the killed web process"
    retried = sum(1 for r in rows if r.attempts > 1)
    print(f"scale-out: {len(by_id)} submissions ({len(by_id) - len(accepted)} sent again after the web kill), "
          f"{retried} scored on a second attempt")
    for sub_id, offset in accepted.items():
        assert by_id[sub_id].public_score == pytest.approx(offset, abs=1e-9), sub_id
    # Exactly once: one result written per submission ("submission <id> scored" is logged after the
    # write; the killed worker may have died between its write and its log line, never twice).
    written: dict[str, int] = {}
    for path in logs.values():
        for line in path.read_text().splitlines():
            entry = json.loads(line)  # every line of every process is one JSON object
            match = re.fullmatch(r"submission ([0-9a-f]{32}) scored in .*", entry["message"])
            if match:
                written[match.group(1)] = written.get(match.group(1), 0) + 1
    assert max(written.values()) == 1, {k: v for k, v in written.items() if v > 1}
    assert len(by_id) - len(written) <= 1 and written.keys() <= by_id.keys()
    if victim_job[0]:  # the job the killed worker held: scored once, by it (before dying) or after a retry
        victim = victim_job[0].removeprefix("score-")
        print(f"scale-out: worker0 killed holding {victim} (attempts {by_id[victim].attempts})")
        assert by_id[victim].status == "scored"
        # Written once (checked above for every submission). With one attempt either worker0 wrote it
        # (its log line may have died with it) or worker0 died after RQ handed it the job but before
        # it claimed the row, so the retry was the first claim; with two, another worker finished it.
        others = set().union(*(_written_by(path) for name, path in logs.items() if name != "worker0"))
        assert by_id[victim].attempts == 1 or victim in others
    for secret in (organizer, *tokens):
        assert all(secret not in p.read_text() for p in logs.values())

    # The judges' tools on another machine (its own empty folder): audit lists every submission,
    # verify re-scores every file from the bucket and finds no difference.
    judge = {"env": _env(base, tmp_path / "judge"), "capture_output": True, "text": True, "timeout": 300}
    audit = subprocess.run([*HACKATHON, "audit", "tiny", "--format", "json"], **judge)  # type: ignore[call-overload]
    assert audit.returncode == 0, audit.stderr[-2000:]
    audited = json.loads(audit.stdout)
    assert sorted(s["submission_id"] for s in audited["submissions"]) == sorted(by_id)
    verified = subprocess.run([*HACKATHON, "verify", "tiny", "--json"], **judge)  # type: ignore[call-overload]
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    report = json.loads(verified.stdout)
    assert report["ok"] and report["submissions"] == len(by_id)
