"""What `hackathon serve` (and `demo`) watch beside the web server: the embedded Valkey and workers.

A thread of the serving process checks them every POLL_SECONDS. A process that exited is
started again after a backoff (0.5 s, then doubling up to 30 s while it keeps dying within a
minute of its start), and every restart is logged. After a worker dies, and every
RECONCILE_SECONDS anyway, the reconciler runs: a job whose worker is gone on this host is
re-queued at once (the pid is checked), so a worker killed mid-job costs seconds, not the
worker TTL. Valkey comes back on the same port with its append-only file, so every client's URL
stays valid and queued jobs survive; anything lost in between is re-queued from the database.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
import sqlalchemy as sa

from server.runtime import Runtime

__all__ = ["Supervisor", "Backoff"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
RECONCILE_SECONDS = 5.0
_STABLE_SECONDS = 60.0
_MAX_DELAY = 30.0


@dataclass
class Backoff:
    """Restart delay of one supervised process: grows while it keeps dying soon after start."""

    started: float = field(default_factory=time.monotonic)
    failures: int = 0
    restart_at: float | None = None

    def died(self, now: float) -> float:
        self.failures = self.failures + 1 if now - self.started < _STABLE_SECONDS else 1
        delay = min(0.5 * 2 ** (self.failures - 1), _MAX_DELAY)
        self.restart_at = now + delay
        return delay

    def due(self, now: float) -> bool:
        return self.restart_at is not None and now >= self.restart_at

    def restarted(self, now: float) -> None:
        self.started, self.restart_at = now, None


class Supervisor:
    """Keeps the embedded Valkey (when there is one) and one worker process per slot running; a
    slot is (queue name, function starting one worker of that queue)."""

    def __init__(self, rt: Runtime, valkey: Any,
                 slots: list[tuple[str, Callable[[], subprocess.Popen[bytes]]]]) -> None:
        self.rt = rt
        self.valkey = valkey
        self.valkey_port: int | None = valkey.port if valkey is not None else None
        self.valkey_backoff = Backoff()
        self.slots = slots
        self.workers: list[subprocess.Popen[bytes] | None] = [start() for _, start in slots]
        self.backoffs = [Backoff() for _ in slots]
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._last_reconcile = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, then stop the workers (SIGTERM, then SIGKILL after 10 s) and Valkey."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        live = [p for p in self.workers if p is not None and p.poll() is None]
        for proc in live:
            proc.terminate()
        for proc in live:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        from server.metrics import mark_process_dead

        for worker in self.workers:
            if worker is not None:
                mark_process_dead(worker.pid)  # its metric files stay; its live gauges go
        if self.valkey is not None:
            try:
                self.valkey.stop()
            except Exception:  # already gone: nothing to stop
                pass

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.check()
            except Exception:  # the watcher must outlive any one bad pass
                log.exception("supervisor pass failed")

    def check(self) -> None:
        now = time.monotonic()
        self._check_valkey(now)
        died = self._check_workers(now)
        if died or now - self._last_reconcile >= RECONCILE_SECONDS:
            self._last_reconcile = now
            self._reconcile()

    def _check_valkey(self, now: float) -> None:
        if self.valkey is None:
            return
        process = getattr(self.valkey, "_process", None)
        if process is not None and process.poll() is None:
            return
        if self.valkey_backoff.restart_at is None:
            delay = self.valkey_backoff.died(now)
            log.error("embedded Valkey (port %s) exited; restarting it in %.1f s", self.valkey_port, delay)
            return
        if not self.valkey_backoff.due(now):
            return
        from server.embedded import start_embedded_queue

        try:
            self.valkey, _ = start_embedded_queue(self.rt.home, port=self.valkey_port)
        except Exception as exc:
            delay = self.valkey_backoff.died(now)
            log.error("embedded Valkey did not start again (%s); next try in %.1f s", exc, delay)
            return
        self.valkey_backoff.restarted(now)
        self.restarts += 1
        log.warning("embedded Valkey restarted on port %s", self.valkey_port)

    def _check_workers(self, now: float) -> bool:
        died = False
        for i, proc in enumerate(self.workers):
            backoff = self.backoffs[i]
            if proc is not None:
                code = proc.poll()  # 0 also when gunicorn's arbiter reaped it first
                if code is None:
                    continue
                delay = backoff.died(now)
                died = True
                self.workers[i] = None
                from server.metrics import mark_process_dead

                mark_process_dead(proc.pid)
                log.error("%s worker %s (pid %s) exited with code %s; restarting it in %.1f s",
                          self.slots[i][0], i + 1, proc.pid, code, delay)
            if backoff.due(now):
                fresh = self.slots[i][1]()
                self.workers[i] = fresh
                backoff.restarted(now)
                self.restarts += 1
                log.warning("%s worker %s restarted (pid %s)", self.slots[i][0], i + 1, fresh.pid)
        return died

    def _reconcile(self) -> None:
        from server.queue import reconcile

        try:
            report = reconcile(self.rt)
        except (redis.RedisError, sa.exc.SQLAlchemyError) as exc:
            log.debug("reconciler pass skipped: %s", type(exc).__name__)
            return
        if report.requeued or report.failed:
            log.warning("reconciler: re-queued %s, failed %s", report.requeued, report.failed)
