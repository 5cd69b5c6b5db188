"""What an operator watches: /metrics across processes, JSON log lines, request ids."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from server.logs import JsonFormatter, request_id_var, sane_request_id
from tests.server.conftest import TINY_TASK, Env, tiny_labels, tiny_predictions
from tests.server.served import wait_until_healthy
from tests.server.test_processes import _environment, _free_port

HACKATHON = [sys.executable, "-m", "server"]


def _post(url: str, token: str, body: bytes, request_id: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    if request_id:
        headers["X-Request-ID"] = request_id
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return {"body": json.loads(response.read()), "request_id": response.headers["X-Request-ID"]}


def _get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


def test_metrics_and_logs_of_a_real_server_and_worker(tmp_path: Path, redis_url: str) -> None:
    """serve (gunicorn) and a separate `hackathon worker` process: /metrics adds up both; logs are JSON."""
    home, port = tmp_path / "inst", _free_port()
    env = _environment(home)
    env.update(REDIS_URL=redis_url, HACKATHON_QUEUE_NAME=f"ops-{uuid.uuid4().hex[:8]}", HACKATHON_RECONCILE_GRACE="0")
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "task.toml").write_text(TINY_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    run = {"env": env, "check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run([*HACKATHON, "init"], **run)  # type: ignore[call-overload]
    subprocess.run([*HACKATHON, "competition", "create", "--task", str(folder), "--labels", str(folder / "labels.csv"),
                    "--start", "2020-01-01T00:00", "--end", "2099-01-01T00:00"], **run)  # type: ignore[call-overload]
    token = subprocess.run([*HACKATHON, "team", "create", "Alpha"], **run).stdout.strip()  # type: ignore[call-overload]
    organizer = subprocess.run([*HACKATHON, "token", "create", "--role", "organizer", "--name", "ops"],
                               **run).stdout.strip()  # type: ignore[call-overload]
    (home / "metrics").mkdir(parents=True, exist_ok=True)
    (home / "metrics" / "counter_99999.db").write_bytes(b"stale")  # from an earlier run: removed at start
    serve_log, worker_log = tmp_path / "serve.log", tmp_path / "worker.log"
    with open(serve_log, "wb") as out:
        server = subprocess.Popen([*HACKATHON, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    worker: subprocess.Popen[bytes] | None = None
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, seconds=60)
        assert not (home / "metrics" / "counter_99999.db").exists()
        with open(worker_log, "wb") as out:
            worker = subprocess.Popen([*HACKATHON, "worker"], env=env, stdout=out, stderr=out)
        good = tiny_predictions(0.5, private_offset=0.875)  # public 0.5, private 0.875
        bad = b"id,y\nT000,abc\n"
        first = _post(url + "/api/v1/competitions/tiny/submissions", token, good, request_id="client-req-42")
        assert first["request_id"] == "client-req-42"
        second = _post(url + "/api/v1/competitions/tiny/submissions", token, bad, request_id="bad id\twith tab")
        assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"])
        ids = [first["body"]["id"], second["body"]["id"]]
        deadline = time.monotonic() + 60
        while {_get_json(f"{url}/api/v1/submissions/{i}", token)["status"] for i in ids} - {"scored", "rejected"}:
            assert time.monotonic() < deadline, "not scored"
            time.sleep(0.2)
        scored = _get_json(f"{url}/api/v1/submissions/{ids[0]}", organizer)
        assert scored["private_score"] == 0.875

        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            text = response.read().decode()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    queue = env["HACKATHON_QUEUE_NAME"]
    assert _sample(text, "hackathon_submissions", competition="tiny", status="scored") == 1
    assert _sample(text, "hackathon_submissions", competition="tiny", status="rejected") == 1
    assert _sample(text, "hackathon_upload_bytes_total") == len(good) + len(bad)
    assert _sample(text, "hackathon_uploads_total") == 2
    # Observed in the worker process, read by the web process: multiprocess mode works.
    assert _sample(text, "hackathon_scoring_duration_seconds_count", task="tiny", status="scored") == 1
    assert _sample(text, "hackathon_scoring_duration_seconds_count", task="tiny", status="rejected") == 1
    route = "/api/v1/competitions/<slug>/submissions"
    assert _sample(text, "hackathon_http_request_duration_seconds_count", method="POST", route=route,
                   status="202") == 2
    assert _sample(text, "hackathon_http_request_duration_seconds_count", method="GET",
                   route="/api/v1/submissions/<submission_id>", status="200") >= 2  # type: ignore[operator]
    assert ids[0] not in text  # routes are URL rules, never raw paths
    assert _sample(text, "hackathon_queue_depth", queue=queue) == 0
    assert _sample(text, "hackathon_queue_oldest_job_age_seconds", queue=queue) == 0
    assert _sample(text, "hackathon_workers_alive", queue=queue) == 1
    assert _sample(text, "hackathon_database_up") == 1 and _sample(text, "hackathon_queue_up") == 1

    # Logs: every line one JSON object; no token, no Authorization header, no private score.
    lines = serve_log.read_text().splitlines() + worker_log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    access = [r for r in records if r["logger"] == "hackathon.access"]
    upload = next(r for r in access if r.get("request_id") == "client-req-42")
    assert upload["method"] == "POST" and upload["route"] == route and upload["status"] == 202
    assert upload["submission_id"] == ids[0] and isinstance(upload["duration_ms"], int | float)
    assert any(r.get("submission_id") == ids[0] and r["logger"].startswith("rq") for r in records), \
        "the worker's lines name the submission"
    everything = serve_log.read_text() + worker_log.read_text()
    for secret in (token, organizer, "Bearer", "Authorization", "0.875"):
        assert secret not in everything, secret


def test_request_ids_are_echoed_or_made(env: Env) -> None:
    given = env.client.get("/healthz", headers={"X-Request-ID": "edge-7f3a"})
    assert given.headers["X-Request-ID"] == "edge-7f3a"
    for bad in ("", "x" * 200, "a b", "lgh_" + "a" * 40):
        made = env.client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"]), bad
    assert sane_request_id("trace:01.ab-c_d") == "trace:01.ab-c_d"


def test_the_json_formatter_writes_one_object_with_the_context() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.route, record.status = "/healthz", 200  # type: ignore[attr-defined]
    record.password = "never"  # type: ignore[attr-defined]  # only the named extra fields are written
    reset = request_id_var.set("r1")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(reset)
    entry = json.loads(line)
    assert "\n" not in line and entry["message"] == "hello world" and entry["level"] == "warning"
    assert entry["request_id"] == "r1" and entry["route"] == "/healthz" and entry["status"] == 200
    assert "password" not in entry and entry["time"].endswith("Z")


def test_metrics_token_when_configured(make_env: Any) -> None:
    env = make_env(METRICS_TOKEN="s3cret-metrics")
    assert env.client.get("/metrics").status_code == 401
    assert env.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = env.client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert response.status_code == 200 and b"hackathon_workers_alive" in response.data


def test_metrics_are_open_without_a_token(env: Env) -> None:
    response = env.client.get("/metrics")
    assert response.status_code == 200 and b"hackathon_queue_depth" in response.data
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None  # the test process stays single-process
