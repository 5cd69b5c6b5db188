"""The organizer console and the judges' area over the test client, on SQLite and PostgreSQL:
sign-in by role, headers, CSRF, confirmation steps, refusals on the form, the action log's actor,
403 for judges (recording nothing), no private score for teams. Browser flows: tests/web."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from server.auth import hash_token
from server.models import ActionLogEntry, Competition, Team, Token
from tests.server.conftest import Env, tiny_predictions


def _csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _staff(env: Env, token: str) -> FlaskClient:
    client = env.app.test_client()
    response = client.post("/console/signin", data={"token": token, "csrf_token": _csrf(client, "/console/signin")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _post(client: FlaskClient, path: str, data: dict[str, Any], form_page: str = "/console/") -> Any:
    return client.post(path, data={**data, "csrf_token": _csrf(client, form_page)})


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _log(env: Env) -> list[ActionLogEntry]:
    with env.rt.session() as session:
        return list(session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars())


def test_sign_in_by_role_and_the_session_ends_on_revoke(env: Env) -> None:
    env.competition()
    team = env.team("Alpha")
    client = env.app.test_client()
    assert client.get("/console/").status_code == 302  # the public: sent to sign in
    bad = client.post("/console/signin", data={"token": team, "csrf_token": _csrf(client, "/console/signin")})
    assert bad.status_code == 401  # a team token does not open the console
    assert "lgh_" not in _text(bad).replace("lgh_)", "")
    org = _staff(env, env.organizer)
    assert org.get("/console/").status_code == 200
    assert org.get("/console/signin").headers["Cache-Control"] == "no-store"
    judge = _staff(env, env.judge)
    assert judge.get("/judge/").status_code == 200
    refused = judge.get("/console/")  # a read: sent to sign in as an organizer, nothing shown
    assert refused.status_code == 302 and "/console/signin" in refused.headers["Location"]
    assert judge.post("/console/teams", data={"name": "X", "csrf_token": _csrf(judge, "/judge/")}).status_code == 403
    # Team pages do not take a staff session for a team's.
    assert org.get("/competitions/tiny/submit").status_code == 302
    with env.rt.write() as session:
        session.execute(sa.update(Token).where(Token.token_hash == hash_token(env.organizer)).values(revoked_at=env.now))
    assert org.get("/console/").status_code == 302  # revoked: the session ends at once


def test_every_console_page_is_no_store_and_every_form_needs_csrf(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    sid = env.upload(alpha, tiny_predictions(0.1)).json["id"]
    env.work()
    org = _staff(env, env.organizer)
    with env.rt.session() as session:
        team_id = session.execute(sa.select(Team.id)).scalar_one()
    pages = ["/console/", "/console/teams", "/console/teams?q=alp", "/console/competitions/tiny",
             "/console/competitions/tiny/submissions", "/console/competitions/tiny/final",
             "/console/competitions/tiny/freeze", "/console/competitions/tiny/publish",
             "/console/competitions/tiny/award", "/console/log", "/judge/", "/judge/competitions/tiny",
             "/judge/competitions/tiny/submissions", "/judge/competitions/tiny/award"]
    for path in pages:
        response = org.get(path)
        assert response.status_code == 200, (path, _text(response)[:500])
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Content-Security-Policy" in response.headers and " style=" not in _text(response), path
        assert 'lang="ko"' in _text(response)
    assert sid[:12] in _text(org.get("/console/competitions/tiny/submissions"))
    assert "채점 완료 1" in _text(org.get("/console/"))
    raw = org.get(f"/api/v1/submissions/{sid}/file")  # the page's raw-file link
    assert raw.status_code == 200
    raw.close()
    before = len(_log(env))
    for path, data in [("/console/teams", {"name": "Gamma"}), (f"/console/teams/{team_id}/token", {"action": "revoke", "confirmed": "yes"}),
                       ("/console/competitions/tiny", {"daily_limit": "9"}), ("/console/competitions/tiny/freeze", {})]:
        assert org.post(path, data=data).status_code == 400, path  # no CSRF token
    assert len(_log(env)) == before


def test_schedule_edit_in_the_competitions_zone_and_errors_on_the_form(env: Env) -> None:
    env.competition()
    org = _staff(env, env.organizer)
    form = {"start": "2026-07-01T09:00", "end": "2026-08-20T18:00", "daily_limit": "7", "total_limit": "0",
            "max_final": "2", "precision": "4", "max_upload_mb": "20", "title_ko": "작은 대회", "title_en": "Tiny"}
    response = _post(org, "/console/competitions/tiny", form, "/console/competitions/tiny")
    assert response.status_code == 302, _text(response)
    with env.rt.session() as session:
        comp = session.execute(sa.select(Competition)).scalar_one()
        assert comp.end_at.isoformat().startswith("2026-08-20T09:00")  # 18:00 in Seoul
        assert comp.daily_limit == 7 and comp.title_ko == "작은 대회"
    entry = _log(env)[-1]
    assert entry.action == "competition.update" and entry.actor == "organizer:Org"
    page = _text(org.get("/console/competitions/tiny"))
    assert 'value="2026-08-20T18:00"' in page
    bad = _post(org, "/console/competitions/tiny", {**form, "end": "2026-06-01T00:00"}, "/console/competitions/tiny")
    assert bad.status_code == 400 and "종료 시각은 시작 시각보다 뒤여야 합니다" in _text(bad)
    assert 'value="2026-06-01T00:00"' in _text(bad)  # what was typed stays on the form
    bad = _post(org, "/console/competitions/tiny", {**form, "daily_limit": "many"}, "/console/competitions/tiny")
    assert bad.status_code == 400 and "daily_limit" in _text(bad)
    assert _log(env)[-1].id == entry.id


def test_teams_create_search_reissue_revoke_eligibility(env: Env) -> None:
    env.competition()
    org = _staff(env, env.organizer)
    created = _post(org, "/console/teams", {"name": "알파", "members": "김, 이\n박", "eligible": "yes"}, "/console/teams")
    token = re.search(r'value="(lgh_[^"]+)"', _text(created)).group(1)  # type: ignore[union-attr]
    assert created.headers["Cache-Control"] == "no-store"
    assert _log(env)[-1].action == "team.create" and _log(env)[-1].actor == "organizer:Org"
    with env.rt.session() as session:
        team_id = session.execute(sa.select(Team.id).where(Team.name == "알파")).scalar_one()
    assert "알파" in _text(org.get("/console/teams?q=박")) and "알파" not in _text(org.get("/console/teams?q=zzz"))
    # Reissue: a confirmation page first, nothing done yet.
    confirm = _post(org, f"/console/teams/{team_id}/token", {"action": "reissue"}, "/console/teams")
    assert confirm.status_code == 200 and 'name="confirmed"' in _text(confirm)
    assert env.get("/api/v1/competitions/tiny/submissions", token).status_code == 200
    done = _post(org, f"/console/teams/{team_id}/token", {"action": "reissue", "confirmed": "yes"}, "/console/teams")
    new = re.search(r'value="(lgh_[^"]+)"', _text(done)).group(1)  # type: ignore[union-attr]
    assert env.get("/api/v1/competitions/tiny/submissions", token).status_code == 401
    assert env.get("/api/v1/competitions/tiny/submissions", new).status_code == 200
    _post(org, f"/console/teams/{team_id}/token", {"action": "revoke", "confirmed": "yes"}, "/console/teams")
    assert env.get("/api/v1/competitions/tiny/submissions", new).status_code == 401
    _post(org, f"/console/teams/{team_id}/eligibility", {"eligible": "no", "reason": "staff"}, "/console/teams")
    actions = [e.action for e in _log(env)][-3:]
    assert actions == ["team.token.reissue", "team.token.revoke", "team.eligibility"]
    dup = _post(org, "/console/teams", {"name": "알파"}, "/console/teams")
    assert dup.status_code == 302 and "already exists" in _text(org.get("/console/teams"))


def test_freeze_refused_while_pending_then_publish_verify_disqualify(env: Env) -> None:
    env.competition(daily_limit=10)
    alpha, beta = env.team("Alpha"), env.team("Beta")
    env.upload(alpha, tiny_predictions(0.1))
    env.upload(beta, tiny_predictions(0.2))
    org = _staff(env, env.organizer)
    env.advance(days=8)
    preview = org.get("/console/competitions/tiny/freeze")
    assert preview.status_code == 200 and "Alpha" not in _text(preview)  # nothing scored yet
    refused = _post(org, "/console/competitions/tiny/freeze", {}, "/console/competitions/tiny/freeze")
    assert refused.status_code == 409 and "2" in _text(refused) and "채점" in _text(refused)
    assert not [e for e in _log(env) if e.action == "freeze"]
    env.work()
    assert "Alpha" in _text(org.get("/console/competitions/tiny/freeze"))
    frozen = _post(org, "/console/competitions/tiny/freeze", {}, "/console/competitions/tiny/freeze")
    assert frozen.status_code == 302
    assert [e.actor for e in _log(env) if e.action == "freeze"] == ["organizer:Org"]
    again = _post(org, "/console/competitions/tiny/freeze", {}, "/console/competitions/tiny/final")
    assert again.status_code == 409
    with env.rt.session() as session:
        ids = dict(session.execute(sa.select(Team.name, Team.id)).all())
    _post(org, "/console/competitions/tiny/verification", {"team_id": ids["Alpha"], "state": "verified"},
          "/console/competitions/tiny/final")
    no_reason = _post(org, "/console/competitions/tiny/verification", {"team_id": ids["Beta"], "state": "disqualified"},
                      "/console/competitions/tiny/final")
    assert no_reason.status_code == 302 and "실격에는 사유가 필요합니다" in _text(org.get("/console/competitions/tiny/final"))
    confirm = _post(org, "/console/competitions/tiny/verification",
                    {"team_id": ids["Beta"], "state": "disqualified", "reason": "copied code"}, "/console/competitions/tiny/final")
    assert confirm.status_code == 200 and "copied code" in _text(confirm)
    assert _log(env)[-1].action == "verification"  # not yet disqualified
    _post(org, "/console/competitions/tiny/verification",
          {"team_id": ids["Beta"], "state": "disqualified", "reason": "copied code", "confirmed": "yes"},
          "/console/competitions/tiny/final")
    assert _log(env)[-1].action == "disqualification" and _log(env)[-1].actor == "organizer:Org"
    award = _text(org.get("/console/competitions/tiny/award"))
    assert "Alpha" in award and "copied code" in award
    published = _post(org, "/console/competitions/tiny/publish", {}, "/console/competitions/tiny/publish")
    assert published.status_code == 302 and _log(env)[-1].action == "publish"
    assert "already" in _text(_post(org, "/console/competitions/tiny/publish", {}, "/console/competitions/tiny/final")) \
        or "이미" in _text(_post(org, "/console/competitions/tiny/publish", {}, "/console/competitions/tiny/final"))
    log = _text(org.get("/console/log"))
    assert "disqualification" in log and "해시 체인" in log


def test_a_judge_is_read_only_and_records_nothing(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    sid = env.upload(alpha, tiny_predictions(0.1, private_offset=0.7777)).json["id"]
    env.work()
    judge = _staff(env, env.judge)
    with env.rt.session() as session:
        team_id = session.execute(sa.select(Team.id)).scalar_one()
    # Before the freeze: no private scores, no audit, no award.
    assert "0.7777" not in _text(judge.get("/judge/competitions/tiny"))
    assert "0.7777" not in _text(judge.get("/judge/competitions/tiny/submissions"))
    assert judge.get("/judge/competitions/tiny/snapshot.json").status_code in (403, 404)
    env.advance(days=8)
    csrf = _csrf(judge, "/judge/")
    before = len(_log(env))
    bodies = {"console.create_team_page": {"name": "Evil"}, "console.team_token": {"action": "revoke", "confirmed": "yes"},
              "console.eligibility": {"eligible": "no"}, "console.competition": {"daily_limit": "1"},
              "console.verification": {"team_id": team_id, "state": "verified"}}
    # Every write route of the console, from the URL map: a route added later is covered too.
    writes = [rule for rule in env.app.url_map.iter_rules()
              if rule.endpoint.startswith("console.") and "POST" in (rule.methods or ()) and rule.endpoint != "console.signin"]
    assert len(writes) >= 7, writes
    for rule in writes:
        path = rule.build({"slug": "tiny", "team_id": team_id, "submission_id": sid},  # type: ignore[index]
                          append_unknown=False)[1]
        data = {**bodies.get(rule.endpoint, {}), "csrf_token": csrf}
        assert judge.post(path, data=data).status_code == 403, path
        assert judge.get(path).status_code in (302, 405), path
    # The judges' area: no write route but starting a verification (which only reads).
    judge_writes = {rule.endpoint for rule in env.app.url_map.iter_rules()
                    if rule.endpoint.startswith("judge.") and "POST" in (rule.methods or ())}
    assert judge_writes == {"judge.start_verification"}, judge_writes
    assert len(_log(env)) == before
    assert env.get("/api/v1/competitions/tiny/submissions", alpha).status_code == 200  # the token still works
    # Frozen by an organizer: now the judge sees the snapshot, its JSON, audits and raw files.
    assert env.client.post("/api/v1/competitions/tiny/freeze", json={},
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    page = _text(judge.get("/judge/competitions/tiny"))
    sha = re.search(r'id="snapshot-sha256">([0-9a-f]{64})<', page).group(1)  # type: ignore[union-attr]
    import hashlib
    body = judge.get("/judge/competitions/tiny/snapshot.json")
    assert hashlib.sha256(body.get_data()).hexdigest() == sha and body.headers["Cache-Control"] == "no-store"
    assert "0.7777" in page
    for link in ("/api/v1/competitions/tiny/audit?format=csv", "/api/v1/competitions/tiny/audit?format=json",
                 f"/api/v1/submissions/{sid}/file"):
        response = judge.get(link)
        assert response.status_code == 200, link
        response.close()
    assert judge.get("/judge/competitions/tiny/award").status_code == 200


def test_teams_and_the_public_see_no_console_page(env: Env) -> None:
    """A team's or the public's read is sent to the sign-in; a write answers 403 (or 405)."""
    env.competition()
    alpha = env.team("Alpha")
    env.upload(alpha, tiny_predictions(0.1, private_offset=0.7777))
    env.work()
    team = env.app.test_client()
    response = team.post("/signin", data={"token": alpha, "csrf_token": _csrf(team, "/signin")})
    assert response.status_code == 302
    for path in ("/console/", "/console/competitions/tiny/submissions", "/console/competitions/tiny/final",
                 "/judge/", "/judge/competitions/tiny", "/judge/competitions/tiny/submissions"):
        response = team.get(path)
        assert response.status_code == 302 and "/console/signin" in response.headers["Location"], path
        assert team.post(path, data={"csrf_token": _csrf(team, "/signin")}).status_code in (403, 405), path
        assert env.app.test_client().get(path).status_code == 302, path


def test_console_in_english(env: Env) -> None:
    env.competition()
    org = _staff(env, env.organizer)
    assert "Dashboard" in _text(org.get("/console/?lang=en"))
    assert "대시보드" in _text(org.get("/console/?lang=ko"))
