"""Console pages for running the competition (issue 9), over the test client on SQLite and
PostgreSQL: the dashboard's live queue panel, submission filters, a submission's page with its
history, re-queueing a failed one (allowed and refused), and verify runs started from the console
and from the judges' area. Browser flow: tests/web/test_verify_browser.py."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from server.models import ActionLogEntry, Submission, Team, VerifyRun
from tests.server.conftest import Env, tiny_predictions
from tests.server.test_console import _fail
from tests.server.test_console_pages import _csrf, _post, _staff, _text


def _restore(env: Env, sub_id: str, data: bytes) -> None:
    with env.rt.session() as session:
        env.rt.storage.submission_path(session.get_one(Submission, sub_id).sha256).write_bytes(data)


def _team_client(env: Env, token: str) -> FlaskClient:
    client = env.app.test_client()
    assert client.post("/signin", data={"token": token, "csrf_token": _csrf(client, "/signin")}).status_code == 302
    return client


def test_the_queue_panel_shows_counts_the_oldest_waiting_workers_and_failures(env: Env) -> None:
    env.competition()
    alpha, beta = env.team("Alpha"), env.team("Beta")
    failed = env.upload(alpha, tiny_predictions(0.5)).json["id"]
    _fail(env, failed)
    waiting = env.upload(beta, tiny_predictions(0.25)).json["id"]
    env.advance(seconds=200)  # 3 min 20 s
    org = _staff(env, env.organizer)
    page = _text(org.get("/console/"))
    assert 'data-poll-url="/console/queue"' in page and "poll.js" in page
    panel = org.get("/console/queue")
    assert panel.status_code == 200 and panel.headers["Cache-Control"] == "no-store"
    for html in (page, _text(panel)):
        oldest = re.search(r'id="queue-oldest">(.*?)</dl>', html, re.S).group(1)  # type: ignore[union-attr]
        assert waiting[:12] in oldest and "Beta" in oldest and "대기 시간 3분 20초" in oldest
        assert "대기 1" not in html  # counts are labelled by status
        assert re.search(r'data-status="queued">대기 중 1<', html) and re.search(r'data-status="failed">실패 1<', html)
        failures = re.search(r'id="queue-failed">(.*?)</table>', html, re.S).group(1)  # type: ignore[union-attr]
        assert failed[:12] in failures and "Alpha" in failures and "scoring failed after" in failures
        assert "실행 중인 워커가 없습니다" in html  # no worker process in this test
    # Times in Asia/Seoul: the fragment's clock is the instance's zone (UTC+9).
    assert f"{(env.now.hour + 9) % 24:02d}:{env.now.minute:02d}" in _text(panel)
    assert "Waiting for 3 min 20 s".lower() in _text(org.get("/console/queue?lang=en")).lower()
    # A judge or a team never reads the panel.
    assert _staff(env, env.judge).get("/console/queue").status_code == 302
    assert _team_client(env, alpha).get("/console/queue").status_code == 302


def test_submission_filters_by_team_status_and_time_in_the_competitions_zone(env: Env) -> None:
    env.competition()  # now: 2026-08-01 03:00 UTC = 12:00 in Seoul
    alpha, beta = env.team("Alpha"), env.team("Beta")
    a1 = env.upload(alpha, tiny_predictions(0.1)).json["id"]
    env.advance(hours=2)  # 14:00 Seoul
    b1 = env.upload(beta, tiny_predictions(0.2)).json["id"]
    bad = env.upload(beta, b"id,y\nT000,abc\n").json["id"]
    env.work()
    org = _staff(env, env.organizer)
    base = "/console/competitions/tiny/submissions"

    def listed(query: str) -> set[str]:
        response = org.get(base + query)
        assert response.status_code == 200, _text(response)[:500]
        return {sid for sid in (a1, b1, bad) if f"/console/submissions/{sid}" in _text(response)}

    assert listed("") == {a1, b1, bad}
    assert listed("?team=Beta") == {b1, bad}
    with env.rt.session() as session:
        alpha_id = session.execute(sa.select(Team.id).where(Team.name == "Alpha")).scalar_one()
    assert listed(f"?team={alpha_id}") == {a1}
    assert listed("?status=rejected") == {bad}
    assert listed("?status=scored&status=rejected&team=Beta") == {b1, bad}
    # From/to are datetime-local values read in the competition's zone (Asia/Seoul).
    assert listed("?since=2026-08-01T13:00") == {b1, bad}
    assert listed("?until=2026-08-01T13:00") == {a1}
    assert listed("?since=2026-08-01T11:00&until=2026-08-01T12:30") == {a1}
    form = _text(org.get(base + "?team=Beta&status=rejected&since=2026-08-01T13:00"))
    assert 'name="team" value="Beta"' in form and 'value="rejected" checked' in form
    assert 'name="since" value="2026-08-01T13:00"' in form
    # Bad input: a clear message on the page (400), what was typed kept; never a 500.
    for query, expected in [("?team=Nobody", "Nobody"), ("?since=yesterday", "yesterday"),
                            ("?since=2026-08-01T13:00&until=2026-08-01T12:00", "기간의 끝은 시작보다 뒤여야"),
                            ("?status=lost", "lost")]:
        response = org.get(base + query)
        text = _text(response)
        assert response.status_code == 400, query
        error = re.search(r'id="filter-error">(.*?)</p>', text, re.S).group(1)  # type: ignore[union-attr]
        assert expected in error, (query, error)
    assert "found yesterday" in _text(org.get(base + "?since=yesterday&lang=en"))


def test_a_submission_page_and_rescoring_a_failed_one_behind_a_confirmation(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    scored = env.upload(alpha, tiny_predictions(0.1, private_offset=0.7777)).json["id"]
    env.work()
    failed = env.upload(alpha, tiny_predictions(0.5)).json["id"]
    data = _fail(env, failed)
    org = _staff(env, env.organizer)

    page = _text(org.get(f"/console/submissions/{scored}"))
    assert f"/api/v1/submissions/{scored}/file" in page  # the raw file
    assert re.search(r'id="private-score">[^<]*0\.7777', page)  # the organizer sees the private score
    assert 'id="rescore-refusal"' in page and "실패한 제출" in page  # scored: not re-queued here
    refused = org.get(f"/console/submissions/{scored}/rescore")
    assert refused.status_code == 409 and 'id="rescore-refusal"' in _text(refused)
    before = _log_count(env)
    posted = _post(org, f"/console/submissions/{scored}/rescore", {}, form_page=f"/console/submissions/{scored}")
    assert posted.status_code == 409 and "실패한 제출" in _text(posted)
    assert _log_count(env) == before

    page = _text(org.get(f"/console/submissions/{failed}"))
    assert "scoring failed after" in page and f"/console/submissions/{failed}/rescore" in page
    confirm = org.get(f"/console/submissions/{failed}/rescore")
    assert confirm.status_code == 200 and 'name="csrf_token"' in _text(confirm)
    assert org.post(f"/console/submissions/{failed}/rescore", data={}).status_code == 400  # no CSRF token
    _restore(env, failed, data)  # the cause is fixed
    done = _post(org, f"/console/submissions/{failed}/rescore", {}, form_page=f"/console/submissions/{failed}/rescore")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/submissions/{failed}")
    env.work()
    page = _text(org.get(f"/console/submissions/{failed}"))
    history = re.search(r'id="submission-history">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "status-failed" in history
    actions = re.search(r'id="submission-actions">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "submission.requeue" in actions and "organizer:Org" in actions
    with env.rt.session() as session:
        assert session.get_one(Submission, failed).status == "scored"
    # Frozen: refused with the reason.
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze",
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    with env.rt.write() as session:
        session.get_one(Submission, failed).status = "failed"
    assert "동결" in _text(org.get(f"/console/submissions/{failed}"))
    # Teams and judges: no console page; a team's own submission page is elsewhere.
    assert _team_client(env, alpha).get(f"/console/submissions/{scored}").status_code == 302
    judge = _staff(env, env.judge)
    assert judge.get(f"/console/submissions/{scored}").status_code == 302
    assert judge.post(f"/console/submissions/{failed}/rescore",
                      data={"csrf_token": _csrf(judge, "/judge/")}).status_code == 403
    assert org.get("/console/submissions/nope").status_code == 404


def _log_count(env: Env) -> int:
    with env.rt.session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(ActionLogEntry)).scalar_one()


def _frozen(env: Env) -> dict[str, str]:
    env.competition()
    alpha, beta = env.team("Alpha"), env.team("Beta")
    subs = {"a": env.upload(alpha, tiny_predictions(0.1)).json["id"], "b": env.upload(beta, tiny_predictions(0.2)).json["id"]}
    env.work()
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze",
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    env.work()  # the freeze's rank-confidence job (its own log entry)
    return {**subs, "alpha": alpha}


def _start(client: FlaskClient, area: str) -> Any:
    form = f"/{area}/competitions/tiny/verifications"
    return _post(client, form, {}, form_page=form)


def test_verify_runs_from_the_console_and_from_the_judges_area(env: Env) -> None:
    subs = _frozen(env)
    logged = _log_count(env)
    judge = _staff(env, env.judge)
    listing = judge.get("/judge/competitions/tiny/verifications")
    assert listing.status_code == 200 and "아직 검증이 없습니다" in _text(listing)
    assert listing.headers["Cache-Control"] == "no-store"
    assert judge.post("/judge/competitions/tiny/verifications", data={}).status_code == 400  # CSRF as everywhere
    started = _start(judge, "judge")
    assert started.status_code == 302
    run_path = started.headers["Location"]
    assert re.fullmatch(r"/judge/competitions/tiny/verifications/\d+", run_path)
    run_id = int(run_path.rsplit("/", 1)[1])
    page = _text(judge.get(run_path))
    assert 'data-done="false"' in page and "poll.js" in page and "워커 대기 중" in page
    # One at a time: a second start (the organizer's, from the console) is sent to the running one.
    org = _staff(env, env.organizer)
    again = _start(org, "console")
    assert again.status_code == 302 and again.headers["Location"] == f"/console/competitions/tiny/verifications/{run_id}"
    env.work()  # a real worker in this process: the verify queue too
    fragment = judge.get(run_path + "?fragment=1")
    text = _text(fragment)
    assert fragment.status_code == 200 and 'data-done="true"' in text and 'data-ok="true"' in text
    assert "<html" not in text and "out of" not in text  # the fragment alone, in Korean
    assert "제출 2건 중 파일 2건 해시 재계산, 2건 재채점" in text
    listed = _text(org.get("/console/competitions/tiny/verifications"))
    assert f"/console/competitions/tiny/verifications/{run_id}" in listed and "judge:Judge" in listed
    assert "이상 없음: 모두 일치" in listed

    # A stored file altered on disk: the organizer's run names it.
    with env.rt.session() as session:
        path = env.rt.storage.submission_path(session.get_one(Submission, subs["b"]).sha256)
    path.write_bytes(path.read_bytes().replace(b"T000,0.2", b"T000,9.2"))
    second = _start(org, "console")
    assert second.status_code == 302
    env.work()
    report = _text(org.get(second.headers["Location"]))
    assert 'data-ok="false"' in report
    differences = re.search(r'id="verify-differences">(.*?)</table>', report, re.S).group(1)  # type: ignore[union-attr]
    assert subs["b"] in differences and "저장된 파일" in differences
    with env.rt.session() as session:
        assert [r.requested_by for r in session.execute(sa.select(VerifyRun).order_by(VerifyRun.id)).scalars()] == \
            ["judge:Judge", "organizer:Org"]
    assert _log_count(env) == logged  # starting a verification is a read: no action-log entry


def test_who_may_start_a_verification_from_the_pages(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    judge = _staff(env, env.judge)
    # Before the freeze a judge is refused, with the reason, and nothing is queued.
    refused = judge.get("/judge/competitions/tiny/verifications")
    assert refused.status_code == 403 and 'id="verify-refusal"' in _text(refused)
    posted = _start(judge, "judge")
    assert posted.status_code == 302 and posted.headers["Location"].endswith("/judge/competitions/tiny/verifications")
    assert "동결된 뒤에" in _text(judge.get(posted.headers["Location"])) or "frozen" in _text(judge.get("/judge/"))
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(VerifyRun)).scalar_one() == 0
    # A judge cannot start one from the console's route; a team from neither.
    assert judge.post("/console/competitions/tiny/verifications",
                      data={"csrf_token": _csrf(judge, "/judge/")}).status_code == 403
    team = _team_client(env, alpha)
    for area in ("console", "judge"):
        path = f"/{area}/competitions/tiny/verifications"
        assert team.get(path).status_code == 302
        assert team.post(path, data={"csrf_token": _csrf(team, "/signin")}).status_code == 403
        assert env.app.test_client().post(path).status_code in (400, 403)
    # Organizers may verify before the freeze (from either area).
    org = _staff(env, env.organizer)
    assert _start(org, "console").status_code == 302
    assert org.get("/judge/competitions/tiny/verifications/999").status_code == 404
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(VerifyRun)).scalar_one() == 1


def _differences(page: str) -> str:
    return re.search(r'id="verify-differences">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]


def test_a_verify_reports_differences_read_in_the_pages_language_and_the_api_stays_english(env: Env) -> None:
    subs = _frozen(env)
    with env.rt.session() as session:
        recorded = session.get_one(Submission, subs["b"]).sha256
    path = env.rt.storage.submission_path(recorded)
    path.write_bytes(path.read_bytes().replace(b"T000,0.2", b"T000,9.2"))
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    judge = _staff(env, env.judge)
    run_path = _start(judge, "judge").headers["Location"]
    env.work()

    korean = _text(judge.get(run_path))
    assert f"저장된 파일이 변경되었습니다: SHA-256이 {found}인데 기록된 값은 {recorded}입니다." in _differences(korean)
    assert "stored file was altered" not in korean
    # The header is a sentence, not a colon waiting for the table.
    assert "차이 1건을 발견했습니다(관련 제출 1건). 각 차이는 아래에 설명되어 있습니다." in korean
    assert "발견 (제출" not in korean
    fragment = _text(judge.get(run_path + "?fragment=1"))
    assert f"SHA-256이 {found}인데" in fragment

    english = _text(judge.get(run_path + "?lang=en"))
    assert f"stored file was altered: its SHA-256 is {found}, recorded {recorded}" in _differences(english)
    assert "1 differences found, concerning 1 submissions; each is described below." in english

    # The API's report is the CLI's: the English message and no template fields, in either language.
    api = f"/api/v1/competitions/tiny/verifications/{run_path.rsplit('/', 1)[1]}"
    for headers in ({}, {"Accept-Language": "ko"}):
        report = env.client.get(api, headers={"Authorization": f"Bearer {env.judge}", **headers}).get_json()["report"]
        assert report["differences"] == [{"kind": "file", "subject": subs["b"], "message":
                                          f"stored file was altered: its SHA-256 is {found}, recorded {recorded}"}]

    # A report stored before templates were kept shows its English message on the Korean page.
    with env.rt.write() as session:
        run = session.get_one(VerifyRun, int(run_path.rsplit("/", 1)[1]))
        stored = json.loads(run.report or "{}")
        assert stored["differences"][0]["template"] == "stored file was altered: its SHA-256 is %(found)s, recorded %(recorded)s"
        assert stored["differences"][0]["params"] == {"found": found, "recorded": recorded}
        for d in stored["differences"]:
            del d["template"], d["params"]
        run.report = json.dumps(stored)
    old = _text(judge.get(run_path + "?lang=ko"))
    assert f"stored file was altered: its SHA-256 is {found}, recorded {recorded}" in _differences(old)
