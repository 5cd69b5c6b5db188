"""Server fixtures: an app on a fresh database (SQLite and PostgreSQL) and a real queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.cli.app import init_database
from server.runtime import Runtime
from server.services.competitions import CompetitionSettings, create_competition
from server.services.teams import create_team, create_token

TINY_TASK = """
[task]
slug = "tiny"
title_ko = "작은 회귀 과제"
title_en = "Tiny regression task"
description_ko = "테스트용"
description_en = "for tests"
id_column = "id"

[metric]
name = "root_mean_squared_error"

[[targets]]
name = "y"
kind = "number"

[defaults]
daily_limit = 3
max_final = 2
precision = 4
public_fraction = 0.5
"""

N_ROWS = 20


def tiny_labels() -> str:
    lines = ["id,y,Usage"]
    for i in range(N_ROWS):
        lines.append(f"T{i:03d},{i * 1.5:.1f},{'Public' if i % 2 == 0 else 'Private'}")
    return "\n".join(lines) + "\n"


def tiny_predictions(offset: float = 0.0, private_offset: float | None = None) -> bytes:
    """Predictions off by `offset` on public rows and `private_offset` on private rows (RMSE = offset)."""
    private_offset = offset if private_offset is None else private_offset
    lines = ["id,y"]
    for i in range(N_ROWS):
        delta = offset if i % 2 == 0 else private_offset
        lines.append(f"T{i:03d},{i * 1.5 + delta}")
    return ("\n".join(lines) + "\n").encode()


def _read(response: Any) -> Any:
    """Read the whole body and close the response (file responses hold an open file)."""
    response.get_data()
    response.close()
    return response


@dataclass
class Env:
    """What a server test needs at hand."""

    app: Flask
    rt: Runtime
    client: FlaskClient
    tmp: Path
    organizer: str
    judge: str
    now: datetime

    def set_now(self, moment: datetime) -> None:
        self.now = moment
        self.rt.clock = lambda: self.now

    def advance(self, **delta: float) -> None:
        self.set_now(self.now + timedelta(**delta))

    def competition(self, slug: str = "tiny", *, labels: str | None = None, **settings: Any) -> str:
        task_dir = self.tmp / f"task-{slug}"
        task_dir.mkdir(exist_ok=True)
        (task_dir / "task.toml").write_text(TINY_TASK, encoding="utf-8")
        labels_file = task_dir / "labels.csv"
        labels_file.write_text(labels or tiny_labels(), encoding="utf-8")
        settings.setdefault("start", (self.now - timedelta(days=1)).isoformat())
        settings.setdefault("end", (self.now + timedelta(days=7)).isoformat())
        create_competition(self.rt, actor="test", task_dir=task_dir, labels_file=labels_file, slug=slug,
                           settings=CompetitionSettings(**settings), split_seed="test-seed")
        return slug

    def team(self, name: str, **kwargs: Any) -> str:
        return create_team(self.rt, name, actor="test", **kwargs).token

    def upload(self, token: str, data: bytes, slug: str = "tiny", note: str | None = None) -> Any:
        query = f"?note={note}" if note else ""
        return _read(self.client.post(f"/api/v1/competitions/{slug}/submissions{query}", data=data,
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}))

    def get(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return _read(self.client.get(path, headers=headers))

    def work(self) -> None:
        """Run a real RQ worker in this process until the queue is empty (burst mode)."""
        from server.serve import run_worker

        run_worker(self.rt, burst=True)


@pytest.fixture
def make_env(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[Callable[..., Env]]:
    apps: list[Flask] = []

    def factory(**config: Any) -> Env:
        queue = f"scoring-{uuid.uuid4().hex[:8]}"
        settings = {"HOME": tmp_path / "instance", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                    "QUEUE_NAME": queue, "RECONCILE_GRACE": 0, "TESTING": True, **config}
        app = create_app(settings)
        apps.append(app)
        rt: Runtime = app.extensions["hackathon"]
        init_database(rt)
        env = Env(app, rt, app.test_client(), tmp_path, "", "", datetime(2026, 8, 1, 3, 0, tzinfo=UTC))
        env.set_now(env.now)
        env.organizer = create_token(rt, "organizer", "Org", actor="test")
        env.judge = create_token(rt, "judge", "Judge", actor="test")
        return env

    yield factory
    for app in apps:
        rt = app.extensions["hackathon"]
        try:
            rt.redis.delete(f"rq:queue:{rt.config['QUEUE_NAME']}")
        except redis.RedisError:
            pass
        rt.dispose()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()
