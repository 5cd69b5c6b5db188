"""A real `hackathon serve` (gunicorn, embedded Valkey, 2 workers) on SQLite or PostgreSQL.

Tests talk to it over sockets; competitions and teams are made in-process on the same
database (that is what the CLI would do, minus a process start each).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from tests.server.conftest import TINY_TASK, tiny_labels

HACKATHON = [sys.executable, "-m", "server"]


def wait_until_healthy(url: str, proc: subprocess.Popen[Any] | None = None, seconds: float = 90) -> None:
    """Poll `url`'s /healthz until it answers ok; fail if `proc` (the server, when given) exits first."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc is None or proc.poll() is None, "server exited"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if json.loads(response.read())["ok"]:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become healthy"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HACKATHON_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env["HACKATHON_HOME"] = str(home)
    env.update(extra)
    return env


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    """One running server and an in-process runtime on its database and queue."""

    home: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    database_url: str
    organizer: str = ""
    rt: Any = None
    log: Path | None = None
    _tmp: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, *, token: str | None = None, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30) -> Reply:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=body, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, dict(exc.headers), exc.read())

    def raw(self, data: bytes, *, timeout: float = 30) -> bytes:
        """Send raw bytes, half-close, return everything the server answers."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def competition(self, slug: str | None = None, **settings: Any) -> str:
        from server.services.competitions import CompetitionSettings, create_competition

        slug = slug or "c" + uuid.uuid4().hex[:8]
        folder = self._tmp / f"task-{slug}"
        folder.mkdir(parents=True)
        (folder / "task.toml").write_text(TINY_TASK, encoding="utf-8")
        (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
        now = self.rt.now()
        settings.setdefault("start", (now - timedelta(days=1)).isoformat())
        settings.setdefault("end", (now + timedelta(days=7)).isoformat())
        create_competition(self.rt, actor="test", task_dir=folder, labels_file=folder / "labels.csv", slug=slug,
                           settings=CompetitionSettings(**settings), split_seed="test-seed")
        return slug

    def team(self, name: str | None = None) -> str:
        from server.services.teams import create_team

        return create_team(self.rt, name or "t" + uuid.uuid4().hex[:8], actor="test").token

    def statuses(self, slug: str) -> list[str]:
        reply = self.request("GET", f"/api/v1/competitions/{slug}/submissions", token=self.organizer)
        assert reply.status == 200, reply.body
        return [s["status"] for s in reply.json()["submissions"]]

    def wait_scored(self, submission_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.request("GET", f"/api/v1/submissions/{submission_id}", token=self.organizer).json()
            if body["status"] not in ("queued", "scoring") or time.monotonic() > deadline:
                return body
            time.sleep(0.2)

    def wait_healthy(self, timeout: float = 90, workers: int = 0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"serve exited: {self.tail()}"
            try:
                reply = self.request("GET", "/healthz", timeout=3)
                if reply.status == 200 and reply.json().get("workers", 0) >= workers:
                    return reply.json()
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server did not become healthy: {self.tail()}"
            time.sleep(0.2)

    def tail(self) -> str:
        return self.output()[-3000:]

    def output(self) -> str:
        """Everything the server has written (its log, one line per request too)."""
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def stop(self) -> None:
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        psutil.wait_procs(children, timeout=20)
        for child in children:
            if child.is_running():
                child.kill()
        if self.rt is not None:
            self.rt.dispose()


def start_served(tmp: Path, database_url: str, command: list[str] | None = None, **extra_env: str) -> Served:
    """`hackathon serve` (or `command` + the port, a program serving the same way) on a new instance."""
    from server import create_app
    from server.services.teams import create_token

    home = tmp / "inst"
    env = clean_environment(home, DATABASE_URL=database_url, **extra_env)
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*(command or [*HACKATHON, "serve", "--port"]), str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    served = Served(home, port, env, proc, database_url, log=log, _tmp=tmp)
    try:
        served.wait_healthy(workers=int(extra_env.get("HACKATHON_EMBEDDED_WORKERS", "2")))
        app = create_app({"HOME": home, "DATABASE_URL": database_url})
        served.rt = app.extensions["hackathon"]
        served.organizer = create_token(served.rt, "organizer", "Org", actor="test")
    except BaseException:
        served.stop()
        raise
    return served


def now_utc() -> datetime:
    from server.db import utcnow

    return utcnow()
