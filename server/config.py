"""Configuration: documented defaults, then the environment, then the caller's overrides.

Only this module reads the environment. Every key can be set as ``HACKATHON_<KEY>`` (values are
parsed as JSON when they look like JSON, as Flask's ``from_prefixed_env`` does); ``DATABASE_URL``
and ``REDIS_URL`` are also read without the prefix, as deployments usually name them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from server.errors import ConfigError

__all__ = ["DEFAULTS", "load_config", "instance_home"]

DEFAULTS: dict[str, Any] = {
    # Folder holding every piece of an instance's state (database, stored files, hidden labels,
    # the embedded queue's data). Default: ./instance in the current directory.
    "HOME": None,
    # SQLAlchemy URL. Default: SQLite file <HOME>/hackathon.db. PostgreSQL: postgresql+psycopg://...
    "DATABASE_URL": None,
    # Redis-protocol server for the queue. Default: the embedded Valkey server under <HOME>/valkey
    # that `hackathon serve`/`demo` start; other commands of the instance find it while it runs.
    "REDIS_URL": None,
    # RQ queue that carries submission ids to the scoring workers.
    "QUEUE_NAME": "scoring",
    # Seconds a scoring job may run before RQ kills it (a 1M-row file scores in a few seconds).
    "JOB_TIMEOUT": 600,
    # Seconds RQ keeps a finished job's result / a failed job's record (the database keeps ours).
    "RESULT_TTL": 3600,
    "FAILURE_TTL": 7 * 24 * 3600,
    # Scoring attempts per submission before it is shown as `failed` (our fault, not the team's).
    "MAX_ATTEMPTS": 3,
    # Seconds a RQ worker's registration lives without a heartbeat; a dead worker's jobs are
    # re-queued by the reconciler after at most this long (sooner when the worker ran on this host).
    "WORKER_TTL": 60,
    # Seconds between two reconciler passes run by each worker.
    "RECONCILE_INTERVAL": 30,
    # A queued submission younger than this is never re-queued (its job may be on the way).
    "RECONCILE_GRACE": 10,
    # Seconds a freeze waits for uploads received before end_at that are still arriving (then 409).
    "FREEZE_WAIT": 30,
    # Worker processes `hackathon serve` starts beside the web server when it runs the embedded queue.
    "EMBEDDED_WORKERS": 2,
    # Code competitions (README "Code competitions"): workers `hackathon serve` starts for the code
    # queue; where submit.zip requirements come from (none | wheelhouse | index; default none, or
    # wheelhouse when CODE_WHEELHOUSE is set); the base environment's python (default: this one).
    "EMBEDDED_CODE_WORKERS": 1,
    "CODE_INSTALL": None,
    "CODE_WHEELHOUSE": None,
    "CODE_INDEX_URL": None,
    "CODE_BASE_PYTHON": None,
    # Competition defaults: the built-in value of each setting of a new competition. The
    # organizer's flag and then the task's task.toml [defaults] win over these (one order for all,
    # in server/services/competition_defaults.py; README "Competition settings").
    # IANA zone for display, daily limits and times given without an offset.
    "TIMEZONE": "Asia/Seoul",
    # Counted submissions per team per local day.
    "DAILY_LIMIT": 3,
    # Counted submissions per team over the whole competition; 0: no limit.
    "TOTAL_LIMIT": 0,
    # Final picks per team.
    "MAX_FINAL": 2,
    # Decimals shown and ranked.
    "PRECISION": 6,
    # Share of rows on the public board when the hidden labels have no Usage column.
    "PUBLIC_FRACTION": 0.3,
    # Largest accepted upload, in MB (10^6 bytes).
    "MAX_UPLOAD_MB": 100,
    # Bootstrap replicates of the rank confidence computed after each freeze (seeded by the snapshot).
    "CONFIDENCE_REPLICATES": 1000,
    # What teams see of their public scores: exact | rounded | ladder (README "Public feedback").
    "PUBLIC_FEEDBACK": "exact",
    # Web server (serve/demo).
    "HOST": "127.0.0.1",
    "PORT": 8000,
    # Web server processes; 0: one per CPU core.
    "WEB_PROCESSES": 0,
    # Threads per web server process: each slow client holds one while it sends (README "Reliability").
    "WEB_THREADS": 256,
    "TESTING": False,
    # Key that signs the pages' session cookies. Default: a random key kept in <HOME>/secret_key.
    "SECRET_KEY": None,
    # Operations (README "Deploying"). Log lines of `serve` and `worker`: json (one object per
    # line) or text.
    "LOG_FORMAT": "json",
    # When set, GET /metrics needs `Authorization: Bearer <this>`; else anyone who reaches it
    # (restrict /metrics to the operators' network at the proxy).
    "METRICS_TOKEN": None,
    # Folder where this machine's processes write metric samples (PROMETHEUS_MULTIPROC_DIR wins).
    # Default: <HOME>/metrics, emptied when `serve` starts.
    "METRICS_DIR": None,
    # Where uploads, competition data files and hidden labels live: empty for the instance
    # folder, or s3://bucket/prefix (credentials from the standard AWS variables).
    "STORAGE_URL": None,
    # Hidden labels: s3://bucket/prefix readable by organizers and workers only. Default: the
    # `labels/` prefix beside STORAGE_URL's (restrict it with a bucket policy).
    "LABELS_STORAGE_URL": None,
    # Port on which `hackathon worker` serves this machine's metric samples at /metrics (0: off).
    # For worker machines that do not run the web server, whose /metrics adds up its own machine.
    "WORKER_METRICS_PORT": 0,
    # S3-compatible endpoint (MinIO, Ceph, ...); empty for AWS.
    "S3_ENDPOINT_URL": None,
    # MB of objects fetched from the bucket kept on this machine's disk (<HOME>/cache).
    "CACHE_MB": 2000,
}

_INT_KEYS = {
    "JOB_TIMEOUT", "RESULT_TTL", "FAILURE_TTL", "MAX_ATTEMPTS", "WORKER_TTL", "RECONCILE_INTERVAL",
    "RECONCILE_GRACE", "FREEZE_WAIT", "EMBEDDED_WORKERS", "PORT", "WEB_PROCESSES", "WEB_THREADS",
    "EMBEDDED_CODE_WORKERS", "CONFIDENCE_REPLICATES", "CACHE_MB", "WORKER_METRICS_PORT",
}


def instance_home(value: str | os.PathLike[str] | None = None) -> Path:
    """Return the instance folder: the given value, else HACKATHON_HOME, else ./instance."""
    raw = value or os.environ.get("HACKATHON_HOME") or "instance"
    return Path(raw).expanduser().resolve()


def _check_competition_defaults(config: dict[str, Any], sources: dict[str, str]) -> None:
    # Imported here: the settings table lives with the service that resolves them.
    from server.services.competition_defaults import SETTINGS, check, coerce

    for setting in SETTINGS:
        key = setting.config_key
        config[key] = coerce(setting.key, config[key])
        problem = check(setting.key, config[key], sources[key])
        if problem:
            raise ConfigError(key + problem[len(setting.key):])


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, environment and overrides, and check every value.

    Raises:
        ConfigError: naming the key, where it came from and what was expected.
    """
    config = dict(DEFAULTS)
    sources = {key: "default" for key in config}
    for key in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(key):
            config[key], sources[key] = os.environ[key], f"environment {key}"
    for name, value in os.environ.items():
        if name.startswith("HACKATHON_") and name[len("HACKATHON_"):] in DEFAULTS:
            key = name[len("HACKATHON_"):]
            config[key], sources[key] = value, f"environment {name}"
    for key, value in (overrides or {}).items():
        config[key], sources[key] = value, "application config"

    config["HOME"] = instance_home(config["HOME"])
    for key in _INT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} from {sources[key]} must be a whole number, found {config[key]!r}"
            ) from None
        if config[key] < 0:
            raise ConfigError(f"{key} from {sources[key]} must be >= 0, found {config[key]}")
    if config["MAX_ATTEMPTS"] < 1:
        raise ConfigError(f"MAX_ATTEMPTS from {sources['MAX_ATTEMPTS']} must be >= 1")
    _check_competition_defaults(config, sources)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{config['HOME'] / 'hackathon.db'}"
    url = str(config["DATABASE_URL"])
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        # Deployments hand out libpq URLs; SQLAlchemy needs the driver named.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(
            f"DATABASE_URL from {sources['DATABASE_URL']} must be a sqlite:// or postgresql:// URL, "
            f"found {url.split('://', 1)[0]}://..."
        )
    config["DATABASE_URL"] = url
    config["TESTING"] = str(config["TESTING"]).lower() in {"1", "true", "yes"}
    _check_operations(config, sources)
    return config


def _check_operations(config: dict[str, Any], sources: dict[str, str]) -> None:
    if config["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT from {sources['LOG_FORMAT']} must be json or text, found {config['LOG_FORMAT']!r}")
    for key in ("STORAGE_URL", "LABELS_STORAGE_URL"):
        value = config[key]
        if value in (None, ""):
            config[key] = None
        elif not (isinstance(value, str) and value.startswith("s3://") and len(value) > len("s3://")):
            raise ConfigError(f"{key} from {sources[key]} must be s3://bucket/prefix or empty, found {value!r}")
    if config["LABELS_STORAGE_URL"] and not config["STORAGE_URL"]:
        raise ConfigError(f"LABELS_STORAGE_URL from {sources['LABELS_STORAGE_URL']} needs STORAGE_URL set too")
    for key in ("METRICS_TOKEN", "S3_ENDPOINT_URL", "METRICS_DIR"):
        if config[key] in ("", None):
            config[key] = None
        else:
            config[key] = str(config[key])
