"""The pages over the test client, on SQLite and PostgreSQL: sign-in session, CSRF, headers,
languages and catalogs, paging, rejection problems in Korean. Browser flows: tests/web."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from server.auth import hash_token
from server.models import Team, TeamStanding, Token
from tests.server.conftest import Env, tiny_predictions

BAD = b"id,y\nT000,abc\n" + b"".join(f"T{i:03d},{i * 1.5}\n".encode() for i in range(1, 20))


def _csrf(client: FlaskClient, path: str = "/signin") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _sign_in(env: Env, token: str, client: FlaskClient | None = None) -> FlaskClient:
    client = client or env.app.test_client()
    response = client.post("/signin", data={"token": token, "csrf_token": _csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_session_holds_no_token_and_ends_when_the_token_is_revoked(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    client = _sign_in(env, token)
    cookie = client.get_cookie("hackathon_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    import base64
    import zlib
    payload = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    decoded = zlib.decompress(raw).decode() if cookie.value.startswith(".") else raw.decode()
    assert token not in decoded and hash_token(token) not in decoded
    assert client.get("/competitions/tiny/submit").status_code == 200
    with env.rt.write() as session:
        session.execute(sa.update(Token).where(Token.token_hash == hash_token(token)).values(revoked_at=env.now))
    response = client.get("/competitions/tiny/submit")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_sign_in_refuses_a_wrong_token_and_a_missing_csrf_token(env: Env) -> None:
    env.competition()
    client = env.app.test_client()
    response = client.post("/signin", data={"token": "lgh_wrong", "csrf_token": _csrf(client)})
    assert response.status_code == 401
    assert "운영진에게 팀 토큰 재발급을 요청하세요" in _text(response)
    token = env.team("Alpha")
    assert client.post("/signin", data={"token": token}).status_code == 400  # no CSRF token
    assert client.post("/signin", data={"token": env.organizer, "csrf_token": _csrf(client)}).status_code == 401


def test_secure_cookie_over_https(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    client = env.app.test_client()
    html = _text(client.get("/signin", base_url="https://localhost"))
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    response = client.post("/signin", data={"token": token, "csrf_token": csrf}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/signin"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_page_xhr_and_forms_need_the_csrf_token(env: Env) -> None:
    env.competition()
    client = _sign_in(env, env.team("Alpha"))
    upload = {"file": (__import__("io").BytesIO(tiny_predictions(0.5)), "p.csv")}
    assert client.post("/competitions/tiny/upload", data=upload, headers={"Accept": "application/json"}).status_code == 400
    assert client.post("/competitions/tiny/finals", data={}).status_code == 400
    assert client.post("/signout").status_code == 400
    csrf = _csrf(client, "/competitions/tiny/submit")
    upload = {"file": (__import__("io").BytesIO(tiny_predictions(0.5)), "p.csv"), "note": "n"}
    response = client.post("/competitions/tiny/upload", data=upload,
                           headers={"Accept": "application/json", "X-CSRFToken": csrf})
    assert response.status_code == 202 and response.get_json()["status"] == "queued"


def test_cookie_reads_but_never_writes_the_api(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    sid = env.upload(token, tiny_predictions(0.5)).get_json()["id"]
    client = _sign_in(env, token)
    response = client.get(f"/api/v1/submissions/{sid}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    response = client.post("/api/v1/competitions/tiny/submissions", data=tiny_predictions(0.1),
                           headers={"Content-Type": "text/csv"})
    assert response.status_code == 401
    other = _sign_in(env, env.team("Beta"))
    assert other.get(f"/api/v1/submissions/{sid}").status_code == 404


def test_security_headers_and_no_store(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    public = env.app.test_client().get("/competitions/tiny")
    csp = public.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert "<script>" not in _text(public) and " style=" not in _text(public) and "onclick" not in _text(public)
    client = _sign_in(env, token)
    for path in ("/", "/competitions/tiny", "/competitions/tiny/submit", "/competitions/tiny/submissions"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    api = env.get("/api/v1/competitions/tiny/submissions", token)
    assert api.headers["Cache-Control"] == "no-store"


def test_korean_by_default_english_by_switch_kept_in_the_session(env: Env) -> None:
    env.competition()
    client = env.app.test_client()
    assert '<html lang="ko">' in _text(client.get("/"))
    assert "대회 목록" in _text(client.get("/"))
    english = _text(client.get("/competitions/tiny/rules?lang=en"))
    assert '<html lang="en">' in english and "Daily limit" in english
    assert '<html lang="en">' in _text(client.get("/"))  # remembered
    assert "하루 제출 한도" in _text(client.get("/competitions/tiny/rules?lang=ko"))
    assert "?lang=xx" and '<html lang="ko">' in _text(client.get("/?lang=xx"))


def test_dates_and_numbers_are_formatted_for_the_locale(env: Env) -> None:
    env.competition(start="2026-07-31T09:00:00+09:00", end="2026-08-20T18:00:00+09:00")
    client = env.app.test_client()
    assert "2026년 8월 20일 18:00" in _text(client.get("/competitions/tiny/rules"))
    assert "Aug 20, 2026 18:00" in _text(client.get("/competitions/tiny/rules?lang=en"))


def test_every_page_string_has_a_korean_translation() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    method_map = [("server/web/**.py", "python"), ("server/web/templates/**.html", "jinja2")]
    found = {m[2] if isinstance(m[2], str) else m[2][0]
             for m in extract_from_dir(root, method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2)})
             if m[0].startswith("server")}
    with (root / "server/web/translations/ko/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = sorted(m for m in found if not catalog.get(m) or not catalog.get(m).string
                     or not all(catalog.get(m).string if isinstance(catalog.get(m).string, tuple) else [catalog.get(m).string]))
    assert not missing, f"not translated to Korean: {missing}"


def test_catalogs_are_compiled_at_start_and_again_when_a_po_changes(tmp_path: Path) -> None:
    from server.web.i18n import CATALOGS, compile_catalogs

    source = tmp_path / "src"
    import shutil
    shutil.copytree(CATALOGS, source)
    target = tmp_path / "out"
    assert len(compile_catalogs(target, source)) == 2
    assert compile_catalogs(target, source) == []  # fresh: nothing to do
    po = source / "ko/LC_MESSAGES/messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "규칙"', 'msgstr "대회 규칙"'), encoding="utf-8")
    import os
    os.utime(po, (po.stat().st_atime, (target / "ko/LC_MESSAGES/messages.mo").stat().st_mtime + 5))
    assert compile_catalogs(target, source) == [target / "ko/LC_MESSAGES/messages.mo"]


def test_a_rejection_reads_in_korean_on_the_page_and_stays_english_in_the_api(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    sid = env.upload(token, BAD).get_json()["id"]
    env.work()
    api = env.get(f"/api/v1/submissions/{sid}", token).get_json()
    assert api["status"] == "rejected"
    assert api["problems"][0] == {"line": 2, "column": "y", "message": "'abc' is not a number",
                                  "code": "not_a_number", "params": {"value": "'abc'"}}
    client = _sign_in(env, token)
    page = _text(client.get("/competitions/tiny/submissions"))
    assert "2번째 줄, y 열: &#39;abc&#39;는 숫자가 아닙니다" in page
    assert "line 2, column y: &#39;abc&#39; is not a number" in _text(client.get("/competitions/tiny/submissions?lang=en"))


def test_leaderboard_pages_2000_teams_and_opens_on_the_signed_in_teams_page(env: Env) -> None:
    env.competition()
    token = env.team("Team 1234")
    now = datetime(2026, 8, 1, tzinfo=UTC)
    with env.rt.write() as session:
        comp_id = session.execute(sa.text("SELECT id FROM competitions WHERE slug = 'tiny'")).scalar_one()
        mine = session.execute(sa.select(Team.id).where(Team.name == "Team 1234")).scalar_one()
        session.add_all(Team(name=f"Team {i:04d}", eligible=True, created_at=now) for i in range(2000) if i != 1234)
        session.flush()
        ids = dict(session.execute(sa.select(Team.name, Team.id)).all())
        session.add_all(TeamStanding(competition_id=comp_id, team_id=ids[f"Team {i:04d}"] if i != 1234 else mine,
                                     best_submission_id=f"{i:032d}", best_score=i / 1000, sort_key=i / 1000,
                                     best_received_at=now + timedelta(seconds=i), entries=1,
                                     last_submission_at=now + timedelta(seconds=i)) for i in range(2000))
    public = env.app.test_client()
    first = _text(public.get("/competitions/tiny/leaderboard"))
    assert first.count('<td class="team">') == 50 and "40쪽 중 1쪽" in first and "2,000팀" in first
    last = _text(public.get("/competitions/tiny/leaderboard?page=40"))
    assert "Team 1999" in last and "Team 0000" not in last
    client = _sign_in(env, token)
    own = _text(client.get("/competitions/tiny/leaderboard"))
    assert "40쪽 중 25쪽" in own  # rank 1235 is on page 25
    assert re.search(r'<tr class="mine" aria-current="true">\s*<td class="num">1,235</td>', own)
    assert _text(client.get("/competitions/tiny/leaderboard?page=abc")).count('<td class="team">') == 50


def test_building_the_app_creates_nothing_and_the_first_page_makes_a_private_key(tmp_path: Path) -> None:
    from server import create_app

    home = tmp_path / "fresh"
    app = create_app({"HOME": home, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "TESTING": True})
    assert not home.exists()  # `hackathon submit` and friends leave no instance folder behind
    client = app.test_client()
    client.get("/signin")
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (home / "i18n/ko/LC_MESSAGES/messages.mo").exists()
    assert "팀 로그인" in client.get("/signin").get_data(as_text=True)
    app.extensions["hackathon"].dispose()


def test_upload_refusals_read_in_the_pages_language(env: Env) -> None:
    env.competition(daily_limit=1)
    client = _sign_in(env, env.team("Alpha"))
    csrf = _csrf(client, "/competitions/tiny/submit")

    def send() -> Any:
        data = {"file": (__import__("io").BytesIO(tiny_predictions(0.5)), "p.csv")}
        return client.post("/competitions/tiny/upload", data=data, headers={"Accept": "application/json", "X-CSRFToken": csrf})

    first = send()
    assert first.status_code == 202 and first.get_json()["remaining_today"] == 0
    refused = send()
    assert refused.status_code == 429
    assert refused.get_json()["message"] == "오늘은 더 제출할 수 없습니다. 제출 횟수는 2026년 8월 2일 00:00에 초기화됩니다."
    client.get("/?lang=en")
    assert send().get_json()["message"].startswith("Your team cannot submit more files today; the count resets at Aug 2, 2026 00:00")


def test_final_choice_refusals_read_in_korean(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    ids = [env.upload(token, tiny_predictions(o)).get_json()["id"] for o in (0.1, 0.2, 0.3)]
    env.work()
    client = _sign_in(env, token)
    csrf = _csrf(client, "/competitions/tiny/submissions")
    page = _text(client.post("/competitions/tiny/finals", data={"submission_ids": ids, "csrf_token": csrf},
                             follow_redirects=True))
    assert "최종 제출은 최대 2개까지 고를 수 있습니다." in page
    env.advance(days=8)
    page = _text(client.post("/competitions/tiny/finals", data={"submission_ids": ids[:1], "csrf_token": csrf},
                             follow_redirects=True))
    assert "최종 제출 선택이 마감되었습니다." in page
    api = env.client.put("/api/v1/competitions/tiny/selection", json={"submission_ids": ids[:1]},
                         headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 409 and api.get_json()["error"] == "conflict"


def test_error_pages_say_what_happened_in_the_pages_language(env: Env) -> None:
    env.competition()
    client = env.app.test_client()
    html = {"Accept": "text/html"}
    missing = client.get("/competitions/nope", headers=html)
    assert missing.status_code == 404
    text = _text(missing)
    # The heading from the error's code, the service's message beneath it: both in the page's language.
    assert "404 · 찾을 수 없습니다" in text and "&#39;nope&#39; 대회가 없습니다" in text
    english = _text(client.get("/competitions/nope?lang=en", headers=html))
    assert "404 · Not found" in english and "no competition &#39;nope&#39;" in english
    unknown = env.app.test_client().get("/no/such/page", headers=html)  # a new visitor: Korean again
    assert unknown.status_code == 404 and "찾을 수 없습니다" in _text(unknown)
    api = env.client.get("/api/v1/competitions/nope")
    assert api.get_json()["message"] == "no competition 'nope'"  # the API stays English
