"""The README's product commands as real processes: `hackathon demo` and `hackathon serve` alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis

from codecomp.run import bwrap_problem
from tests.server.conftest import TINY_TASK, tiny_labels, tiny_predictions
from tests.server.served import wait_until_healthy

HACKATHON = [sys.executable, "-m", "server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HACKATHON_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env["HACKATHON_HOME"] = str(home)
    return env


@pytest.mark.slow
def test_demo_sets_up_and_scores_everything_through_the_real_path(tmp_path: Path) -> None:
    result = subprocess.run([*HACKATHON, "demo", "--no-serve", "--port", "0", "--rows", "60", "--json"],
                            env=_environment(tmp_path / "inst"), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    statuses = [(s["competition"], s["team"], s["status"]) for s in summary["submissions"]]
    code = [s for s in statuses if s[0] == "lead-conversion-code"]  # issue 12; skipped without bwrap
    if bwrap_problem() is None:
        assert code == [("lead-conversion-code", "Team Alpha", "scored"),
                        ("lead-conversion-code", "Team Beta", "install_error")], code
    statuses = [s for s in statuses if s not in code]
    assert len(statuses) == 20 and {s for _, _, s in statuses} == {"scored"}, statuses
    assert {c for c, _, _ in statuses} == {"antenna", "product-quality", "sales-forecast", "lead-conversion",
                                            "product-anomaly"}
    assert summary["tokens"]["organizer"].startswith("lgh_") and len(summary["tokens"]["teams"]) == 4
    # The embedded queue server it started is stopped again.
    queue_url = (tmp_path / "inst" / "valkey" / "url").read_text().strip()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(queue_url, socket_connect_timeout=1).ping()


def test_serve_alone_runs_queue_and_workers_and_stops_cleanly(tmp_path: Path) -> None:
    home, port = tmp_path / "inst", _free_port()
    env = _environment(home)
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "task.toml").write_text(TINY_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    subprocess.run([*HACKATHON, "init"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([*HACKATHON, "competition", "create", "--task", str(folder), "--labels", str(folder / "labels.csv"),
                    "--start", "2020-01-01T00:00", "--end", "2099-01-01T00:00"], env=env, check=True,
                   capture_output=True, timeout=120)
    token = subprocess.run([*HACKATHON, "team", "create", "Alpha"], env=env, check=True, capture_output=True,
                           text=True, timeout=120).stdout.strip()
    server = subprocess.Popen([*HACKATHON, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, seconds=60)
        pred = tmp_path / "pred.csv"
        pred.write_bytes(tiny_predictions(0.5))
        submitted = subprocess.run([*HACKATHON, "submit", "--server", url, "--token", token, "--competition", "tiny",
                                    str(pred), "--wait", "--json"], env=env, capture_output=True, text=True, timeout=120)
        assert submitted.returncode == 0, submitted.stderr
        assert json.loads(submitted.stdout)["status"] == "scored"
        assert json.loads(submitted.stdout)["public_score"] == 0.5
    finally:
        children = psutil.Process(server.pid).children(recursive=True)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"left running after serve stopped: {[p.cmdline() for p in alive]}"
