"""The `hackathon` commands of SPEC §3 (in-process through Flask's CLI runner, and one real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from server.cli import cli, register_commands
from tests.server.conftest import TINY_TASK, Env, tiny_labels

register_commands()


def _run(env: Env, *args: str) -> tuple[int, str]:
    result = env.app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _task(env: Env) -> tuple[Path, Path]:
    folder = env.tmp / "cli-task"
    folder.mkdir(exist_ok=True)
    (folder / "task.toml").write_text(TINY_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    return folder, folder / "labels.csv"


def test_competition_create_and_update(env: Env) -> None:
    folder, labels = _task(env)
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels),
                     "--slug", "cli-comp", "--start", "2026-07-01T10:00", "--end", "2026-08-31T10:00",
                     "--daily-limit", "5")
    assert code == 0 and out.strip() == "cli-comp"
    code, out = _run(env, "competition", "update", "cli-comp", "--end", "2026-09-01T10:00:00+09:00",
                     "--daily-limit", "4", "--json")
    data = json.loads(out)
    assert code == 0 and data["daily_limit"] == 4 and data["end_at"] == "2026-09-01T01:00:00Z"
    assert data["start_at_local"] == "2026-07-01T10:00:00+09:00"  # no offset: read in Asia/Seoul


def test_competition_create_errors_are_clear(env: Env) -> None:
    folder, labels = _task(env)
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels),
                     "--start", "2026-09-01T00:00", "--end", "2026-08-01T00:00", "--json")
    assert code == 2 and "end must be after start" in json.loads(out)["message"]
    bad = folder / "bad.csv"
    bad.write_text("id,z\nT1,1\n")
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(bad))
    assert code == 2 and "bad.csv" in out
    code, out = _run(env, "competition", "update", "missing", "--daily-limit", "2")
    assert code == 2 and "no competition 'missing'" in out


def test_team_and_token_create_print_the_token_once(env: Env) -> None:
    code, out = _run(env, "team", "create", "한국 팀", "--member", "김철수", "--member", "이영희", "--json")
    data = json.loads(out)
    assert code == 0 and data["name"] == "한국 팀" and data["members"] == ["김철수", "이영희"]
    assert data["eligible"] is True and data["token"].startswith("lgh_")
    code, out = _run(env, "team", "create", "Other", "--member", "김철수")
    assert code == 2 and "already in another team" in out
    code, out = _run(env, "team", "create", "Guests", "--not-eligible", "--json")
    assert json.loads(out)["eligible"] is False
    code, out = _run(env, "token", "create", "--role", "judge", "--name", "Committee")
    token = out.strip()
    assert code == 0 and token.startswith("lgh_")
    assert env.get("/api/v1/competitions", token).status_code == 200
    # Stored hashed: the token itself is nowhere in the database file.
    db = env.rt.config["DATABASE_URL"]
    if db.startswith("sqlite"):
        assert token.encode() not in Path(db.removeprefix("sqlite:///")).read_bytes()


def test_api_team_creation_is_for_organizers(env: Env) -> None:
    body = {"name": "API team", "members": ["a"]}
    assert env.client.post("/api/v1/teams", json=body).status_code == 401
    assert env.client.post("/api/v1/teams", json=body,
                           headers={"Authorization": f"Bearer {env.judge}"}).status_code == 403
    created = env.client.post("/api/v1/teams", json=body, headers={"Authorization": f"Bearer {env.organizer}"})
    assert created.status_code == 201 and created.json["token"].startswith("lgh_")
    dup = env.client.post("/api/v1/teams", json=body, headers={"Authorization": f"Bearer {env.organizer}"})
    assert dup.status_code == 409


def test_init_and_reconcile_json(env: Env) -> None:
    code, out = _run(env, "init", "--json")
    assert code == 0 and json.loads(out)["home"] == str(env.rt.home)
    code, out = _run(env, "reconcile", "--json")
    assert code == 0 and json.loads(out) == {"checked": 0, "requeued": [], "failed": []}


def test_console_script_runs_as_a_real_process(tmp_path: Path) -> None:
    env = dict(os.environ, HACKATHON_HOME=str(tmp_path / "inst"))
    result = subprocess.run([sys.executable, "-m", "server", "init", "--json"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["home"] == str(tmp_path / "inst")
    bad = subprocess.run([sys.executable, "-m", "server", "team", "create", ""], env=env, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "team name must be" in bad.stderr and "Traceback" not in bad.stderr
