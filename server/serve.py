"""Process orchestration: the web server under gunicorn, the embedded queue, worker processes."""

from __future__ import annotations

import logging
import os
import signal
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


def run_worker(rt: Runtime, *, burst: bool = False, log_level: str | None = None) -> bool:
    """Run a scoring worker in this process until stopped (or, with burst, until the queue is empty)."""
    from server.queue import ScoringWorker, bind_runtime

    bind_runtime(rt)
    worker = ScoringWorker([rt.queue], connection=rt.redis, worker_ttl=rt.config["WORKER_TTL"],
                           maintenance_interval=rt.config["RECONCILE_INTERVAL"],
                           default_result_ttl=rt.config["RESULT_TTL"])
    worker.runtime = rt
    return worker.work(burst=burst, logging_level=log_level or ("WARNING" if burst else "INFO"))


def start_worker_processes(rt: Runtime, redis_url: str, count: int,
                           log_level: str = "WARNING") -> list[subprocess.Popen[bytes]]:
    """Start `hackathon worker` processes for this instance (the embedded mode's workers)."""
    env = dict(os.environ, HACKATHON_HOME=str(rt.home), REDIS_URL=redis_url,
               DATABASE_URL=rt.config["DATABASE_URL"], HACKATHON_QUEUE_NAME=rt.config["QUEUE_NAME"])
    command = [sys.executable, "-m", "server", "worker", "--log-level", log_level]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


@contextmanager
def embedded_stack(rt: Runtime, workers: int | None = None) -> Iterator[str]:
    """Start what REDIS_URL would otherwise provide: a Valkey server and worker processes."""
    from server.embedded import start_embedded_queue

    server: Any = None
    url = rt.config.get("REDIS_URL")
    if not url:
        server, url = start_embedded_queue(rt.home)
        rt.config["REDIS_URL"] = url
    count = rt.config["EMBEDDED_WORKERS"] if workers is None else workers
    procs = start_worker_processes(rt, url, count) if server is not None or workers else []
    try:
        yield url
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            from server.metrics import mark_process_dead

            mark_process_dead(proc.pid)
        if server is not None:
            server.stop()


def serve(app: Flask, *, host: str, port: int, workers: int | None = None, ready: Any = None) -> None:
    """Serve the app with gunicorn (threads in one process), beside the embedded stack if needed."""
    from gunicorn.app.base import BaseApplication

    from server.metrics import mark_process_dead

    rt: Runtime = app.extensions["hackathon"]

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", rt.config["WEB_THREADS"])
            self.cfg.set("timeout", 300)  # large uploads on slow links
            self.cfg.set("accesslog", None)  # server/request_log.py writes one line per request
            self.cfg.set("logger_class", _quiet_gunicorn_logger())
            # A gunicorn worker that exits leaves its metric files; its live gauges are dropped.
            self.cfg.set("child_exit", lambda _server, worker: mark_process_dead(worker.pid))
            if ready is not None:
                self.cfg.set("when_ready", lambda _server: ready())
            # The engine's pool must not cross the fork into the gunicorn worker.
            self.cfg.set("post_fork", lambda _server, _worker: rt.engine.dispose(close=False))

        def load(self) -> Flask:
            return app

    with embedded_stack(rt, workers) as url:
        log.info("queue at %s", url)
        _Gunicorn().run()


def prepare_process(rt: Runtime, *, clean_metrics: bool) -> None:
    """What `serve` and `worker` set up before anything else: metric files, log format."""
    import atexit

    from server.logs import configure_logging
    from server.metrics import enable_multiprocess, mark_process_dead

    enable_multiprocess(Path(rt.config["METRICS_DIR"] or rt.home / "metrics"), clean=clean_metrics)
    pid = os.getpid()
    atexit.register(lambda: mark_process_dead(pid) if os.getpid() == pid else None)
    configure_logging(rt.config["LOG_FORMAT"], logging.INFO)


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
