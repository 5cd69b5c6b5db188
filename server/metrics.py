"""Prometheus metrics: counters and histograms observed in every process, gauges read at scrape time.

Multiprocess mode: `serve` and `worker` call `enable_multiprocess` before any metric exists, so
every process (gunicorn's workers, scoring workers on this machine) writes its samples to
memory-mapped files in one folder (`PROMETHEUS_MULTIPROC_DIR`, else `<HOME>/metrics`) and a scrape
of any web process adds them up. Whatever the database and the queue know is read when scraped
(submissions by status, queue depth, workers alive): exact, and the same seen from every machine.

Names (README "Deploying" lists them): see `_Metrics` and `StateCollector`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.runtime import Runtime

__all__ = ["enable_multiprocess", "multiprocess_dir", "mark_process_dead", "metrics", "render", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: scoring spans a 300-row file (ms) to a 1M-row file (seconds) and slow code tasks (minutes).
SCORING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)


def multiprocess_dir() -> str | None:
    return os.environ.get(ENV) or None


def enable_multiprocess(folder: Path, *, clean: bool) -> Path:
    """Make this process (and the children it starts) write metrics to `folder`.

    `clean` (at `serve` start): remove the files of processes from an earlier run, so counters
    restart with the server as Prometheus expects. An already set PROMETHEUS_MULTIPROC_DIR wins.
    """
    folder = Path(os.environ.get(ENV) or folder)
    if clean and folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(folder)
    from prometheus_client import values

    # prometheus_client picks its value class at import; metrics created after this line use files.
    values.ValueClass = values.MultiProcessValue()
    return folder


def mark_process_dead(pid: int) -> None:
    """A process of this machine has exited: drop its live gauge files (counters are kept)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _Metrics:
    """The metrics processes observe; created on first use (after `enable_multiprocess`)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.http_duration = Histogram(
            "hackathon_http_request_duration_seconds", "HTTP requests by route (URL rule) and status",
            ["method", "route", "status"], buckets=HTTP_BUCKETS)
        self.upload_bytes = Counter("hackathon_upload_bytes", "Bytes of accepted submission uploads")
        self.uploads = Counter("hackathon_uploads", "Accepted submission uploads")
        self.scoring_duration = Histogram(
            "hackathon_scoring_duration_seconds", "Time to score one submission, by task (observed in the worker)",
            ["task", "status"], buckets=SCORING_BUCKETS)


_metrics: _Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        # Locked: the first requests of a web process arrive together, and a second _Metrics
        # would register the same names again (DuplicateTimeseries: a 500 to an upload).
        with _metrics_lock:
            if _metrics is None:
                _metrics = _Metrics()
    return _metrics


class StateCollector:
    """Gauges read from the database and the queue when scraped."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        yield from self._submissions(GaugeMetricFamily)
        yield from self._queue(GaugeMetricFamily)

    def _submissions(self, family: Any) -> Iterator[Any]:
        import sqlalchemy as sa

        from server.models import Competition, Submission

        by_status = family("hackathon_submissions", "Submissions by competition and status (from the database)",
                           labels=["competition", "status"])
        up = family("hackathon_database_up", "1 when the database answered this scrape")
        try:
            with self.rt.session() as session:
                rows = session.execute(
                    sa.select(Competition.slug, Submission.status, sa.func.count())
                    .join(Competition, Competition.id == Submission.competition_id)
                    .group_by(Competition.slug, Submission.status)).all()
            for slug, status, count in rows:
                by_status.add_metric([slug, status], count)
            up.add_metric([], 1)
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0)
        yield by_status
        yield up

    def _queue(self, family: Any) -> Iterator[Any]:
        import redis
        from rq import Queue, Worker

        depth = family("hackathon_queue_depth", "Jobs waiting per queue", labels=["queue"])
        oldest = family("hackathon_queue_oldest_job_age_seconds",
                        "Age of the oldest waiting job per queue (0 when empty)", labels=["queue"])
        alive = family("hackathon_workers_alive", "Scoring workers with a live registration (heartbeat)",
                       labels=["queue"])
        up = family("hackathon_queue_up", "1 when the queue server answered this scrape")
        try:
            connection = self.rt.redis
            names = {q.name for q in Queue.all(connection=connection)} | {self.rt.config["QUEUE_NAME"]}
            now = time.time()
            for name in sorted(names):
                queue = Queue(name, connection=connection)
                depth.add_metric([name], queue.count)
                age = 0.0
                first = queue.get_job_ids(0, 1)
                if first:
                    job = queue.fetch_job(first[0])
                    if job is not None and job.enqueued_at is not None:
                        enqueued = job.enqueued_at
                        if enqueued.tzinfo is None:  # RQ stores UTC, naive in some versions
                            enqueued = enqueued.replace(tzinfo=UTC)
                        age = max(now - enqueued.timestamp(), 0.0)
                oldest.add_metric([name], age)
                alive.add_metric([name], Worker.count(queue=queue))
            up.add_metric([], 1)
        except redis.RedisError:
            up.add_metric([], 0)
        yield from (depth, oldest, alive, up)


def render(rt: Runtime) -> bytes:
    """The exposition text: every process's samples (multiprocess mode) or this one's, plus the state."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    metrics()  # the series exist (at 0) from the first scrape on
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(rt))
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry) + generate_latest(state)
    return generate_latest(REGISTRY) + generate_latest(state)
