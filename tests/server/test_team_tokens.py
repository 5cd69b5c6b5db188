"""Organizers revoke and reissue a team's token; the team list; the 401 says what to do (issue 8)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from server.cli import cli, register_commands
from server.models import ActionLogEntry
from tests.server.conftest import Env

register_commands()


def _call(env: Env, method: str, path: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = env.client.open(path, method=method, headers=headers)
    response.close()
    return response


def _team_id(env: Env, name: str) -> int:
    teams = env.get("/api/v1/teams", env.organizer).get_json()["teams"]
    return next(t["id"] for t in teams if t["name"] == name)


def _works(env: Env, token: str) -> int:
    return env.get("/api/v1/competitions/tiny/submissions", token).status_code


def _actions(env: Env) -> list[tuple[str, str, dict[str, object]]]:
    with env.rt.session() as session:
        rows = session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars().all()
        return [(r.action, r.actor, json.loads(r.payload)) for r in rows if r.action.startswith("team.token")]


def test_reissue_stops_the_old_token_at_once_and_the_new_one_works(env: Env) -> None:
    env.competition()
    old = env.team("Lost Token", members=["김민수"])
    team_id = _team_id(env, "Lost Token")
    assert _works(env, old) == 200
    response = env.client.post(f"/api/v1/teams/{team_id}/token", headers={"Authorization": f"Bearer {env.organizer}"})
    body = response.get_json()
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert body["team"]["name"] == "Lost Token" and body["token"].startswith("lgh_") and body["token"] != old
    refused = env.get("/api/v1/competitions/tiny/submissions", old)
    assert refused.status_code == 401
    assert "ask the organizers for a new team token" in refused.get_json()["message"]
    assert "revoked it or issued a new one" in refused.get_json()["message"]
    assert _works(env, body["token"]) == 200
    assert _actions(env) == [("team.token.reissue", "organizer:Org",
                              {"team_id": team_id, "name": "Lost Token", "revoked": 1})]
    assert body["token"] not in json.dumps(_actions(env))


def test_revoke_locks_the_team_out_until_reissued(env: Env) -> None:
    env.competition()
    token = env.team("Revoked")
    team_id = _team_id(env, "Revoked")
    response = env.client.delete(f"/api/v1/teams/{team_id}/token", headers={"Authorization": f"Bearer {env.organizer}"})
    assert response.status_code == 200 and response.get_json()["revoked"] == 1
    assert _works(env, token) == 401
    teams = env.get("/api/v1/teams", env.organizer).get_json()["teams"]
    assert next(t for t in teams if t["id"] == team_id)["token_active"] is False
    new = env.client.post(f"/api/v1/teams/{team_id}/token", headers={"Authorization": f"Bearer {env.organizer}"})
    assert _works(env, new.get_json()["token"]) == 200 and _works(env, token) == 401
    assert [a[0] for a in _actions(env)] == ["team.token.revoke", "team.token.reissue"]


def test_only_organizers_and_only_real_teams(env: Env) -> None:
    token = env.team("Curious")
    team_id = _team_id(env, "Curious")
    for method in ("POST", "DELETE"):
        assert _call(env, method, f"/api/v1/teams/{team_id}/token", token).status_code == 403
        assert _call(env, method, f"/api/v1/teams/{team_id}/token", env.judge).status_code == 403
        assert _call(env, method, f"/api/v1/teams/{team_id}/token", None).status_code == 401
        for bad in ("999999", "12345678901234567890123", "abc", "-1", "0"):
            response = env.client.open(f"/api/v1/teams/{bad}/token", method=method,
                                       headers={"Authorization": f"Bearer {env.organizer}"})
            assert response.status_code == 404, (bad, response.get_json())
            assert response.get_json()["error"] == "not_found"
    assert env.get("/api/v1/teams", token).status_code == 403
    # The other route with a team id in its path: it answered 500 on both databases.
    response = env.client.put("/api/v1/teams/12345678901234567890123/eligibility", json={"eligible": False},
                              headers={"Authorization": f"Bearer {env.organizer}"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert _works(env, token) in (200, 404)  # untouched: still authenticates (404: no competition yet)


def test_team_list_has_members_and_no_token_material(env: Env) -> None:
    token = env.team("Listed", members=["A", "B"], eligible=False)
    body = env.get("/api/v1/teams", env.organizer).get_json()
    assert body["teams"] == [{"id": body["teams"][0]["id"], "name": "Listed", "eligible": False,
                              "members": ["A", "B"], "created_at": body["teams"][0]["created_at"],
                              "token_active": True, "submissions": 0, "scored": 0}]
    assert token not in json.dumps(body) and "hash" not in json.dumps(body)


def test_unknown_token_message_says_what_to_do(env: Env) -> None:
    response = env.get("/api/v1/competitions/x/submissions", "lgh_not-a-real-token")
    assert response.status_code == 401
    assert "copied whole" in response.get_json()["message"]


def _run(env: Env, *args: str) -> tuple[int, str]:
    result = env.app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_reissues_and_revokes_by_name_or_id(env: Env) -> None:
    env.competition()
    old = env.team("CLI Team")
    team_id = _team_id(env, "CLI Team")
    code, out = _run(env, "team", "token", "CLI Team", "--reissue", "--json")
    data = json.loads(out)
    assert code == 0 and data["team"]["id"] == team_id and data["token"].startswith("lgh_")
    assert _works(env, old) == 401 and _works(env, data["token"]) == 200
    code, out = _run(env, "team", "token", str(team_id), "--revoke")
    assert code == 0 and "revoked the token of team CLI Team" in out
    assert _works(env, data["token"]) == 401
    code, out = _run(env, "team", "token", "nobody", "--revoke", "--json")
    assert code == 2 and json.loads(out)["error"] == "not_found"
    code, out = _run(env, "team", "token", "CLI Team")
    assert code == 2 and "--reissue" in out
    code, out = _run(env, "team", "list", "--json")
    assert code == 0 and json.loads(out)["teams"][0]["token_active"] is False
    assert [(a, actor) for a, actor, _ in _actions(env)] == [("team.token.reissue", "cli"), ("team.token.revoke", "cli")]
