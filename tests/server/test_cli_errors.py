"""One-line errors (exit 2) from the `hackathon` command, as real processes.

- An organizer command where the instance is missing or not initialised says what to do.
- `hackathon submit` needs none of the server's configuration, accepts host:port (assuming
  http://, and says so), and refuses a malformed or unreachable --server in one line.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from tests.server.conftest import Env, tiny_predictions

HACKATHON = [sys.executable, "-m", "server"]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HACKATHON, *args], check=False, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **env))


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr[-2000:]
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


# -- the instance -----------------------------------------------------------------------------------

def test_organizer_command_without_an_instance_says_what_to_do(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    line = _one_line_error(_run("team", "create", "X", HACKATHON_HOME=str(home)))
    assert "HACKATHON_HOME" in line and "hackathon init" in line and str(home) in line
    assert not home.exists()  # the check creates nothing (no empty database file)
    result = _run("freeze", "antenna", "--json", HACKATHON_HOME=str(home))
    assert result.returncode == 2 and result.stderr == ""
    assert json.loads(result.stdout)["error"] == "no_instance"


def test_organizer_command_on_an_empty_database_says_run_init(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()  # the file exists, with no tables
    env = {"HACKATHON_HOME": str(tmp_path / "inst"), "DATABASE_URL": database_url}
    line = _one_line_error(_run("token", "create", "--role", "judge", "--name", "J", **env))
    assert "not initialised" in line and "hackathon init" in line
    result = _run("competition", "update", "x", "--daily-limit", "2", "--json", **env)
    assert result.returncode == 2 and json.loads(result.stdout)["error"] == "not_initialised"
    assert _run("init", **env).returncode == 0
    created = _run("token", "create", "--role", "judge", "--name", "J", **env)
    assert created.returncode == 0 and created.stdout.startswith("lgh_"), created.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://user:secret@127.0.0.1:{_closed_port()}/hackathon"
    line = _one_line_error(_run("reconcile", HACKATHON_HOME=str(tmp_path), DATABASE_URL=url))
    assert "cannot open the database" in line and "DATABASE_URL" in line and "secret" not in line


# -- the team's client --------------------------------------------------------------------------------

@pytest.fixture
def http_server(env: Env) -> Iterator[str]:
    """The test app served over real HTTP (host:port, no scheme), as a team reaches it."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, env.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_submit_ignores_server_configuration_and_accepts_host_port(env: Env, http_server: str) -> None:
    env.competition()
    token = env.team("Alpha")
    predictions = env.tmp / "pred.csv"
    predictions.write_bytes(tiny_predictions(0.5))
    # A team's shell may hold anything under HACKATHON_*: the client reads none of it.
    result = _run("submit", "--server", http_server, "--token", token, "--competition", "tiny", str(predictions),
                  "--json", HACKATHON_JOB_TIMEOUT="abc", HACKATHON_HOME=str(env.tmp / "nowhere"),
                  DATABASE_URL="mysql://not-used")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "queued"
    assert result.stderr.strip() == f"note: --server {http_server} has no scheme; using http://{http_server}"


@pytest.mark.parametrize("server", ["ftp://127.0.0.1:8000", "127.0.0.1:port", "http://", "http://host:8000/?x=1"])
def test_submit_refuses_a_malformed_server_address(tmp_path: Path, server: str) -> None:
    file = tmp_path / "pred.csv"
    file.write_text("id,y\n")
    line = _one_line_error(_run("submit", "--server", server, "--token", "t", "--competition", "c", str(file)))
    assert line == (f"Error: --server: expected the server's address such as http://127.0.0.1:8000 "
                    f"(or 127.0.0.1:8000), found {server!r}")


def test_submit_to_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    file = tmp_path / "pred.csv"
    file.write_text("id,y\n")
    url = f"http://127.0.0.1:{_closed_port()}"
    line = _one_line_error(_run("submit", "--server", url, "--token", "t", "--competition", "c", str(file)))
    assert line == f"Error: cannot reach the server at {url}: Connection refused"
    result = _run("submit", "--server", url, "--token", "t", "--competition", "c", str(file), "--json")
    assert result.returncode == 2 and json.loads(result.stdout) == {
        "status_code": 0, "error": "unreachable", "message": f"cannot reach the server at {url}: Connection refused"}
