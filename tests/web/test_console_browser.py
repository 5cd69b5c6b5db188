"""The organizer console and the judges' area in headless Chromium: a whole hackathon's end, from
the schedule to the award standings, and a judge checking it. Screenshots of every console page.

The served instance starts without a worker, so submissions stay queued until the test starts
one: the first freeze is refused while they are pending, deterministically.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.models import ActionLogEntry
from tests.server.conftest import TINY_TASK, Env, make_env, tiny_labels, tiny_predictions  # noqa: F401  (fixture)
from tests.web.conftest import Site, serving

# Responses the flow expects to be refusals (path, status); any other error fails the test.
EXPECTED_REFUSALS = {("/console/competitions/tiny/freeze", 409), ("/console/competitions/tiny", 400),
                     ("/console/new-competition", 400), ("/console/teams/import", 400)}


@pytest.fixture
def console_site(make_env: Callable[..., Env], redis_url: str) -> Iterator[tuple[Site, Callable[[], None]]]:  # noqa: F811
    """A served instance (as tests/web's `site`) whose worker starts when the test says so."""
    with serving(make_env(), redis_url) as pair:
        yield pair


@pytest.fixture
def console_page(chromium: Any) -> Iterator[Any]:
    """As tests/web's `browser_page`, but the refusals the flow provokes are expected."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR", accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []

    def on_response(r: Any) -> None:
        path = re.sub(r"^https?://[^/]+", "", r.url).split("?")[0]
        if r.status >= 400 and (path, r.status) not in EXPECTED_REFUSALS:
            problems.append(f"{r.status} {r.url}")

    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}")
            if msg.type == "error" and not re.search(r"status of (409|400)", msg.text) else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", on_response)
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"


def staff_sign_in(page: Any, site: Site, token: str) -> None:
    page.goto(f"{site.url}/console/signin")
    page.get_by_label(re.compile("운영진 또는 심사위원 토큰|Organizer or judge token")).fill(token)
    page.get_by_role("button", name=re.compile("^(로그인|Sign in)$")).click()
    page.wait_for_load_state()


def _reload_until(page: Any, selector: str, n: int, seconds: float = 30) -> None:
    for _ in range(int(seconds * 2)):
        page.reload()
        if page.locator(selector).count() >= n:
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"fewer than {n} {selector} after {seconds} s")


def _download(page: Any, link: Any) -> bytes:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def test_organizer_runs_the_end_of_a_hackathon_and_a_judge_checks_it(console_site: tuple[Site, Callable[[], None]],
                                                                     console_page: Any, chromium: Any) -> None:
    site, start_worker = console_site
    env, page = site.env, console_page
    env.competition("tiny", daily_limit=5)
    alpha = env.team("Alpha", members=["김하나"])
    beta = env.team("Beta")

    # Sign in; the dashboard lists the competition with its counts.
    staff_sign_in(page, site, env.organizer)
    assert page.url.endswith("/console/")
    assert "대시보드" in page.inner_text("main")
    site.shot(page, "console-01-dashboard-ko")

    # Edit the schedule in the competition's zone (Seoul): the end two days from now at 18:00.
    page.get_by_role("link", name="작은 회귀 과제").first.click()
    end = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("Asia/Seoul")).replace(hour=18, minute=0)
    page.fill("#end", "2020-01-01T00:00")  # before the start: refused, shown on the form
    page.get_by_role("button", name="저장").click()
    assert "설정을 저장하지 못했습니다" in page.inner_text(".flash.error")
    assert page.input_value("#end") == "2020-01-01T00:00"
    site.shot(page, "console-02a-schedule-refused-ko")
    page.fill("#end", end.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#daily_limit", "4")
    site.shot(page, "console-02-schedule-ko")
    page.get_by_role("button", name="저장").click()
    assert "설정을 저장했습니다" in page.inner_text(".flash")
    assert page.input_value("#end") == end.strftime("%Y-%m-%dT%H:%M")

    # Teams: create one (its token shown once), search, reissue another's token.
    page.get_by_role("link", name="팀", exact=True).click()
    page.fill("#name", "감마")
    page.fill("#members", "이둘\n박셋")
    page.get_by_role("button", name="팀 만들기").click()
    gamma_token = page.input_value("#token")
    assert gamma_token.startswith("lgh_")
    site.shot(page, "console-03-team-created-token-ko")
    page.get_by_role("link", name="팀 목록으로").click()
    page.fill("#q", "김하나")
    page.get_by_role("button", name="검색").click()
    assert page.locator("tbody tr").count() == 1 and "Alpha" in page.inner_text("tbody")
    site.shot(page, "console-04-teams-search-ko")
    page.get_by_role("button", name="재발급").click()
    assert "Alpha 팀의 토큰을 재발급할까요?" in page.inner_text("h1")
    site.shot(page, "console-05-reissue-confirm-ko")
    page.get_by_role("button", name="예, 토큰을 재발급합니다").click()
    new_alpha = page.input_value("#token")
    assert new_alpha != alpha and env.get("/api/v1/competitions/tiny/submissions", alpha).status_code == 401
    alpha = new_alpha

    # Three submissions, received before the end; no worker yet, so they wait.
    for token, offset in ((alpha, 0.1), (beta, 0.2), (gamma_token, 0.3)):
        assert env.upload(token, tiny_predictions(offset)).status_code == 202
    page.goto(f"{site.url}/console/competitions/tiny/submissions")
    assert page.locator(".status-queued").count() == 3

    # After the end: the freeze is refused while they are pending, with the reason.
    site.advance(days=3)
    page.goto(f"{site.url}/console/competitions/tiny/final")
    page.get_by_role("link", name="최종 순위 동결…").click()
    assert "3" in page.inner_text(".facts")
    page.get_by_role("button", name="예, 지금 동결합니다").click()
    assert "아직 대기 중이거나 채점 중" in page.inner_text(".flash.error")
    site.shot(page, "console-06-freeze-refused-ko")

    # A worker starts; the organizer watches the three get scored.
    start_worker()
    page.goto(f"{site.url}/console/competitions/tiny/submissions")
    _reload_until(page, ".status-scored", 3)
    site.shot(page, "console-07-submissions-scored-ko")

    # Freeze (the confirmation shows the board), then verification, a disqualification, the award.
    page.goto(f"{site.url}/console/competitions/tiny/freeze")
    assert "Alpha" in page.inner_text("table") and page.inner_text(".facts dd >> nth=1").strip() == "0"
    site.shot(page, "console-08-freeze-confirm-ko")
    page.get_by_role("button", name="예, 지금 동결합니다").click()
    assert "동결했습니다" in page.inner_text(".flash")
    for team in ("Alpha", "감마"):
        row = page.locator("tr", has_text=team).first
        row.locator("select").select_option("verified")
        row.get_by_role("button", name="기록").click()
    row = page.locator("tr", has_text="Beta").first
    row.locator("select").select_option("disqualified")
    row.locator("input[name=reason]").fill("외부 데이터 사용 (규정 4조)")
    row.get_by_role("button", name="기록").click()
    assert "Beta 팀을 실격 처리할까요?" in page.inner_text("h2")
    site.shot(page, "console-09-disqualify-confirm-ko")
    page.get_by_role("button", name="예, 실격 처리합니다").click()
    site.shot(page, "console-10-final-ko")
    page.get_by_role("link", name="수상 순위표").first.click()
    award = page.inner_text("main")
    assert "외부 데이터 사용 (규정 4조)" in award and "Alpha" in award and "감마" in award
    site.shot(page, "console-11-award-ko")

    # Publish behind its confirmation.
    page.goto(f"{site.url}/console/competitions/tiny/publish")
    site.shot(page, "console-12-publish-confirm-ko")
    page.get_by_role("button", name="예, 지금 발표합니다").click()
    assert "발표했습니다" in page.inner_text(".flash")

    # The action log: every action by the signed-in organizer, the chain checked.
    page.get_by_role("link", name="작업 기록").click()
    assert "해시 체인 확인 완료" in page.inner_text(".flash")
    site.shot(page, "console-13-action-log-ko")
    with env.rt.session() as session:
        actors = dict(session.execute(sa.select(ActionLogEntry.action, ActionLogEntry.actor)
                                      .where(ActionLogEntry.actor != "test")).all())
    for action in ("competition.update", "team.create", "team.token.reissue", "freeze", "verification",
                   "disqualification", "publish"):
        assert actors.get(action) == "organizer:Org", (action, actors)
    for name, path in (("dashboard", "/console/?lang=en"), ("schedule", "/console/competitions/tiny"),
                       ("teams", "/console/teams"), ("submissions", "/console/competitions/tiny/submissions"),
                       ("final", "/console/competitions/tiny/final"), ("award", "/console/competitions/tiny/award"),
                       ("log", "/console/log")):
        page.goto(site.url + path)
        assert page.locator("html").get_attribute("lang") == "en"
        site.shot(page, f"console-14-{name}-en")

    # A judge, in a browser of their own: the snapshot, both audits and a raw file; no freeze.
    judge_context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR", accept_downloads=True)
    judge = judge_context.new_page()
    judge_errors: list[str] = []
    judge.on("pageerror", lambda exc: judge_errors.append(str(exc)))
    try:
        staff_sign_in(judge, site, env.judge)
        assert judge.url.endswith("/judge/")
        site.shot(judge, "judge-01-home-ko")
        judge.get_by_role("link", name="작은 회귀 과제").click()
        sha = judge.inner_text("#snapshot-sha256")
        snapshot = _download(judge, judge.get_by_role("link", name="정규화된 JSON 내려받기"))
        assert hashlib.sha256(snapshot).hexdigest() == sha
        site.shot(judge, "judge-02-snapshot-boards-ko")
        judge.get_by_role("link", name="제출과 감사 자료").click()
        audit_csv = _download(judge, judge.get_by_role("link", name="제출 목록 (CSV)"))
        assert audit_csv.startswith("\ufeff".encode()) and b"submission_id" in audit_csv
        audit_json = _download(judge, judge.get_by_role("link", name="전체 (JSON)"))
        assert sha.encode() in audit_json
        raw = _download(judge, judge.locator("tbody tr", has_text="Alpha").get_by_role("link"))
        assert raw == tiny_predictions(0.1)
        site.shot(judge, "judge-03-submissions-audits-ko")
        judge.get_by_role("link", name="수상 순위표").click()
        assert "외부 데이터 사용 (규정 4조)" in judge.inner_text("main")
        site.shot(judge, "judge-04-award-ko")
        judge.goto(f"{site.url}/judge/competitions/tiny?lang=en")
        assert "Download the canonical JSON" in judge.inner_text("main")
        site.shot(judge, "judge-04a-snapshot-boards-en")
        judge.goto(f"{site.url}/judge/competitions/tiny/award?lang=ko")
        # The judge's attempt to freeze: 403, whatever the form carries, and nothing logged.
        csrf = judge.locator("meta[name=csrf-token]").get_attribute("content")
        refused = judge_context.request.post(f"{site.url}/console/competitions/tiny/freeze",
                                             form={"csrf_token": csrf or ""}, max_redirects=0)
        assert refused.status == 403
        judge.goto(f"{site.url}/console/competitions/tiny/freeze")
        assert judge.url.startswith(f"{site.url}/console/signin") and "운영진 전용" in judge.inner_text(".flash.error")
        site.shot(judge, "judge-05-console-refused-ko")
        with env.rt.session() as session:
            assert not session.execute(sa.select(ActionLogEntry).where(ActionLogEntry.actor.like("%Judge%"))).first()
    finally:
        judge_context.close()
    assert not judge_errors, judge_errors


def _csv_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_organizer_creates_a_competition_and_imports_a_roster_from_the_browser(
        console_site: tuple[Site, Callable[[], None]], console_page: Any) -> None:
    """The start of a hackathon: the competition from an uploaded task folder with its data and
    hidden labels, a roster of 50 teams with their tokens shown once, a token reissued, and a team
    of the roster submitting and being scored."""
    site, start_worker = console_site
    env, page = site.env, console_page
    staff_sign_in(page, site, env.organizer)
    page.get_by_role("link", name="새 대회").first.click()
    assert page.url.endswith("/console/new-competition")

    # An uploaded task folder, the labels and two data files; the end typed before the start first.
    seoul = datetime.now(UTC).astimezone(ZoneInfo("Asia/Seoul"))
    start = (seoul - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (seoul + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    sample = "id,y\n" + "".join(f"T{i:03d},0\n" for i in range(20))

    def choose_files() -> None:
        page.check("input[name=source][value=upload]")
        page.set_input_files("#task_toml", files=[{"name": "task.toml", "mimeType": "text/plain",
                                                   "buffer": TINY_TASK.encode()}])
        page.set_input_files("#sample_submission", files=[_csv_file("sample_submission.csv", sample)])
        page.set_input_files("#labels", files=[_csv_file("labels.csv", tiny_labels())])
        page.set_input_files("#data", files=[_csv_file("train.csv", "x,y\n1,2\n3,4\n"),
                                             _csv_file("test.csv", "x\n5\n")])

    choose_files()
    page.fill("#slug", "spring-2026")
    page.fill("#title_ko", "봄 해커톤")
    page.fill("#title_en", "Spring hackathon")
    page.fill("#start", start)
    page.fill("#end", "2020-01-01T00:00")
    page.fill("#daily_limit", "5")
    page.get_by_role("button", name="대회 만들기").click()
    error = page.inner_text(".flash.error")
    assert "대회를 만들지 못했습니다" in error and "종료" in error and "파일은 다시 골라야 합니다" in error
    assert page.input_value("#slug") == "spring-2026" and page.input_value("#end") == "2020-01-01T00:00"
    site.shot(page, "console-new-competition-refused")
    choose_files()
    page.fill("#end", end)
    site.shot(page, "console-new-competition")
    page.get_by_role("button", name="대회 만들기").click()
    assert page.url.endswith("/console/competitions/spring-2026")
    assert "spring-2026" in page.inner_text(".flash") and page.input_value("#end") == end
    data = env.get("/api/v1/competitions/spring-2026/data").json
    names = sorted(f["name"] for f in (data["files"] if isinstance(data, dict) else data))
    assert names == ["sample_submission.csv", "test.csv", "train.csv"]

    # A roster of 50 teams: the tokens shown once, as a table and a CSV to download.
    roster = "팀명,팀원1,팀원2,팀원3,팀원4,팀원5\n" + "".join(f"봄팀 {i:02d},사람{i}a,사람{i}b,,,\n"
                                                          for i in range(50))
    page.get_by_role("link", name="팀", exact=True).click()
    page.set_input_files("#roster", files=[_csv_file("roster.csv", roster)])
    site.shot(page, "console-roster-import")
    page.get_by_role("button", name="명단 가져오기").click()
    assert "팀 50개를 가져왔습니다" in page.inner_text("h1")
    tokens = dict(zip(page.locator("#roster-tokens td.team").all_inner_texts(),
                      page.locator("#roster-tokens code.token").all_inner_texts(), strict=True))
    assert len(tokens) == 50 and all(t.startswith("lgh_") for t in tokens.values())
    site.shot(page, "console-roster-tokens")
    downloaded = _download(page, page.get_by_role("link", name="CSV 내려받기")).decode("utf-8")
    assert downloaded.startswith("\ufeffteam_id,team,members,token") and tokens["봄팀 07"] in downloaded
    assert len(downloaded.strip().splitlines()) == 51
    # Shown once: a reload sends the form again and is refused whole; no token is shown again.
    page.reload()
    assert "만들지 않았습니다" in page.inner_text(".flash.error") and tokens["봄팀 07"] not in page.content()
    page.goto(f"{site.url}/console/teams")
    assert "봄팀 49" in page.inner_text("main") and tokens["봄팀 49"] not in page.content()

    # Reissue one team's token (the old one stops working), then that team submits and is scored.
    page.fill("#q", "봄팀 07")
    page.get_by_role("button", name="검색").click()
    page.get_by_role("button", name="재발급").click()
    page.get_by_role("button", name="예, 토큰을 재발급합니다").click()
    reissued = page.input_value("#token")
    assert env.get("/api/v1/competitions/spring-2026/submissions", tokens["봄팀 07"]).status_code == 401
    assert env.upload(reissued, tiny_predictions(0.1), slug="spring-2026").status_code == 202
    assert env.upload(tokens["봄팀 12"], tiny_predictions(0.2), slug="spring-2026").status_code == 202
    start_worker()
    page.goto(f"{site.url}/console/competitions/spring-2026/submissions")
    _reload_until(page, ".status-scored", 2)
    assert "봄팀 07" in page.inner_text("main") and "봄팀 12" in page.inner_text("main")
    with env.rt.session() as session:
        actors = set(session.execute(sa.select(ActionLogEntry.action, ActionLogEntry.actor)
                                     .where(ActionLogEntry.actor != "test")).all())
    for action in ("competition.create", "competition.data.attach", "team.create", "team.token.reissue"):
        assert (action, "organizer:Org") in actors, (action, actors)
