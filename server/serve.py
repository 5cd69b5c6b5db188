"""Process orchestration: the web server under gunicorn, the embedded queue, worker processes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from server.runtime import Runtime

__all__ = ["serve", "run_worker", "embedded_stack", "start_worker_processes", "prepare_process"]

log = logging.getLogger(__name__)


def run_worker(rt: Runtime, *, burst: bool = False, log_level: str | None = None, queue: str = "scoring") -> bool:
    """Run a worker in this process until stopped (or, with burst, until the queue is empty).

    `queue`: "scoring" (CSV uploads, then verify runs: server.queue.verify_queue) or "code" (code
    competitions' submit.zip runs; a host with bubblewrap and the base environment).
    """
    from server.db import sqlite_sync_normal
    from server.queue import ScoringWorker, bind_runtime, code_queue, worker_queues

    sqlite_sync_normal(rt.engine)
    bind_runtime(rt)
    worker = ScoringWorker([code_queue(rt)] if queue == "code" else worker_queues(rt), connection=rt.redis,
                           worker_ttl=rt.config["WORKER_TTL"],
                           maintenance_interval=rt.config["RECONCILE_INTERVAL"],
                           default_result_ttl=rt.config["RESULT_TTL"])
    worker.runtime = rt
    return worker.work(burst=burst, logging_level=log_level or ("WARNING" if burst else "INFO"))


def start_worker_processes(rt: Runtime, redis_url: str, count: int, log_level: str = "WARNING",
                           queue: str = "scoring") -> list[subprocess.Popen[bytes]]:
    """Start `count` `hackathon worker` processes of one queue for this instance (the embedded
    mode's workers; `queue` "code": code competitions' submit.zip runs)."""
    env = dict(os.environ, HACKATHON_HOME=str(rt.home), REDIS_URL=redis_url,
               DATABASE_URL=rt.config["DATABASE_URL"], HACKATHON_QUEUE_NAME=rt.config["QUEUE_NAME"])
    command = [sys.executable, "-m", "server", "worker", "--log-level", log_level, "--queue", queue]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


@contextmanager
def embedded_stack(rt: Runtime, workers: int | None = None) -> Iterator[str]:
    """Start what REDIS_URL would otherwise provide: a Valkey server and worker processes,
    watched by a supervisor that restarts them (see server/supervisor.py)."""
    from server.embedded import start_embedded_queue
    from server.supervisor import Supervisor

    server: Any = None
    url = rt.config.get("REDIS_URL")
    if not url:
        server, url = start_embedded_queue(rt.home)
        rt.config["REDIS_URL"] = url
    count = rt.config["EMBEDDED_WORKERS"] if workers is None else workers
    count = count if server is not None or workers else 0
    # Each slot is one process the supervisor keeps alive: the scoring workers, then (when there
    # are any) the code competitions' workers on their own queue.
    slots = [("scoring", lambda: start_worker_processes(rt, url, 1)[0])] * count
    if count:
        slots += [("code", lambda: start_worker_processes(rt, url, 1, queue="code")[0])] * rt.config["EMBEDDED_CODE_WORKERS"]
    supervisor = Supervisor(rt, server, slots)
    supervisor.start()
    try:
        yield url
    finally:
        supervisor.stop()


def _after_fork(rt: Runtime) -> None:
    """In the gunicorn worker: drop what the serving process's supervisor thread opened.

    The engine's pool and the Redis client hold the parent's sockets, and a lock may have been
    held by that thread at the fork; the child builds its own.
    """
    import threading

    rt.engine.dispose(close=False)
    rt._redis = None
    rt._lock = threading.Lock()


def serve(app: Flask, *, host: str, port: int, workers: int | None = None, ready: Any = None) -> None:
    """Serve the app with gunicorn (WEB_PROCESSES × WEB_THREADS), beside the embedded stack if needed."""
    from gunicorn.app.base import BaseApplication

    from server.metrics import mark_process_dead

    rt: Runtime = app.extensions["hackathon"]

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            # Every core: the app is CPU-bound per request (boards, JSON), threads share one GIL.
            # Nothing a request needs lives only in one process: limits, in-flight uploads and
            # failed-authentication counts are in the database or Redis.
            self.cfg.set("workers", rt.config["WEB_PROCESSES"] or os.cpu_count() or 1)
            # gthread with a large pool, per-read timeouts and JSON errors: see server/http_worker.py.
            self.cfg.set("worker_class", "server.http_worker.HackathonWorker")
            self.cfg.set("threads", rt.config["WEB_THREADS"])
            self.cfg.set("worker_connections", max(1000, 4 * rt.config["WEB_THREADS"]))
            self.cfg.set("timeout", 300)  # the worker's heartbeat, not a request's
            self.cfg.set("keepalive", 5)
            # The longest request line gunicorn allows; long notes go in a header or form field.
            self.cfg.set("limit_request_line", 8190)
            self.cfg.set("limit_request_field_size", 16384)
            self.cfg.set("accesslog", None)  # server/request_log.py writes one line per request
            self.cfg.set("logger_class", _quiet_gunicorn_logger())
            # A gunicorn worker that exits leaves its metric files; its live gauges are dropped.
            self.cfg.set("child_exit", lambda _server, worker: mark_process_dead(worker.pid))
            if ready is not None:
                self.cfg.set("when_ready", lambda _server: ready())
            self.cfg.set("post_fork", lambda _server, _worker: _after_fork(rt))

        def load(self) -> Flask:
            return app

    with embedded_stack(rt, workers) as url:
        log.info("queue at %s", url)
        _Gunicorn().run()


def prepare_process(rt: Runtime, *, clean_metrics: bool, log_level: str = "INFO") -> None:
    """What `serve` and `worker` set up before anything else: metric files, log format and level."""
    import atexit

    from server.logs import configure_logging
    from server.metrics import enable_multiprocess, mark_process_dead

    enable_multiprocess(Path(rt.config["METRICS_DIR"] or rt.home / "metrics"), clean=clean_metrics)
    pid = os.getpid()
    atexit.register(lambda: mark_process_dead(pid) if os.getpid() == pid else None)
    configure_logging(rt.config["LOG_FORMAT"], log_level)


def serve_worker_metrics(port: int) -> None:
    """On a worker machine: this machine's metric samples on http://0.0.0.0:<port>/metrics."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:
        # Another worker of this machine serves it already; it reads the same files, ours included.
        log.info("worker metrics port %s not opened (%s); another worker of this machine serves it", port,
                 exc.strerror)


def _quiet_gunicorn_logger() -> type:
    """gunicorn's logger with its error log sent through ours (JSON or text, one format for all)."""
    from gunicorn.glogging import Logger

    class _Logger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in list(self.error_log.handlers):
                self.error_log.removeHandler(handler)
            self.error_log.propagate = True

    return _Logger
