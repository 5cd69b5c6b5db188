"""The console's live queue panel and verify runs from the browser (issue 9), in headless Chromium
with a real worker process: an organizer watches a waiting submission, then the worker that
scores it, without reloading; opens the submission's page; a judge starts a verification, watches
it until done and reads a clean report; a stored file is altered on disk and a second run's report
names it. Screenshots: console-queue*, console-submission, judge-verify-run*."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from server.models import Submission
from tests.server.conftest import tiny_predictions
from tests.web.conftest import Site
from tests.web.test_console_browser import console_site, staff_sign_in  # noqa: F401  (fixture)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _watch_run(page: Any) -> list[str]:
    """Wait, without reloading, until the run's fragment says it is done; the states seen on the way."""
    seen: list[str] = []
    for _ in range(240):
        status = page.get_attribute("#verify-run .verify-run", "data-status") or ""
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("done", "failed"):
            return seen
        page.wait_for_timeout(250)
    raise AssertionError(f"the run page never showed the end of the run: {seen}")


def test_queue_panel_and_a_judge_verifying_from_the_browser(console_site: tuple[Site, Callable[[], None]],  # noqa: F811
                                                            browser_page: Any) -> None:
    site, start_worker = console_site
    env, page = site.env, browser_page
    env.competition("tiny", daily_limit=5)
    alpha, beta = env.team("Alpha"), env.team("Beta")
    first = env.upload(alpha, tiny_predictions(0.1)).json["id"]

    # No worker yet: the dashboard's panel shows the submission waiting, and nobody working.
    staff_sign_in(page, site, env.organizer)
    page.wait_for_url(f"{site.url}/console/")  # the click's navigation may still be under way
    oldest = page.inner_text("#queue-oldest")
    assert first[:12] in oldest and "Alpha" in oldest and "대기" in oldest
    assert "실행 중인 워커가 없습니다" in page.inner_text("#queue-workers")
    site.shot(page, "console-queue-waiting")
    url = page.url

    # A worker starts: the panel (re-read by poll.js, no reload) shows it, and the queue empties.
    start_worker()
    page.wait_for_selector("#queue-workers tbody code", timeout=60_000)
    page.wait_for_function("document.querySelector('#queue-totals').innerText.includes('채점 완료 1')", timeout=60_000)
    assert page.url == url
    workers = page.inner_text("#queue-workers")
    assert re.search(r"작업 중|대기", workers), workers
    assert "없음" in page.inner_text("#queue-oldest")  # nothing waits any more
    site.shot(page, "console-queue")

    # The submissions page, filtered to Alpha's, and the submission's own page.
    second = env.upload(beta, tiny_predictions(0.2)).json["id"]
    page.goto(f"{site.url}/console/competitions/tiny/submissions")
    page.fill("input[name=team]", "Alpha")
    page.get_by_role("button", name="필터 적용").click()
    page.wait_for_url(re.compile(r"team=Alpha"))
    assert first[:12] in page.inner_text("tbody") and second[:12] not in page.inner_text("tbody")
    site.shot(page, "console-submissions-filtered")
    page.locator(f"a[href='/console/submissions/{first}']").first.click()
    page.wait_for_url(f"{site.url}/console/submissions/{first}")
    assert page.inner_text("#public-score").strip() not in ("", "–")
    assert page.inner_text("#private-score").strip() not in ("", "–")
    assert "실패한 제출" in page.inner_text("#rescore-refusal")  # scored: nothing to queue again
    site.shot(page, "console-submission")

    # Every submission scored, the competition ended and frozen.
    for _ in range(240):
        if env.get(f"/api/v1/submissions/{second}", env.organizer).json["status"] == "scored":
            break
        page.wait_for_timeout(250)
    site.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer)).status_code == 200

    # A judge starts a verification from the judges' area and watches it to the end.
    staff_sign_in(page, site, env.judge)
    page.wait_for_url(f"{site.url}/judge/")
    page.goto(f"{site.url}/judge/competitions/tiny")
    page.get_by_role("link", name="검증", exact=True).click()
    assert "아직 검증이 없습니다" in page.inner_text("#verify-runs")
    page.get_by_role("button", name="검증 시작").click()
    page.wait_for_url(re.compile(r"/judge/competitions/tiny/verifications/\d+$"))
    run_url = page.url
    seen = _watch_run(page)
    assert seen[-1] == "done", seen
    assert page.url == run_url  # followed in place
    assert "제출 2건 중 파일 2건 해시 재계산, 2건 재채점" in page.inner_text("#verify-progress")
    assert page.get_attribute("#verify-result", "data-ok") == "true"
    assert "이상 없음" in page.inner_text("#verify-result")
    site.shot(page, "judge-verify-run")

    # A stored file is altered on disk: a second run's report names it.
    with env.rt.session() as session:
        path = env.rt.storage.submission_path(session.get_one(Submission, second).sha256)
    path.write_bytes(path.read_bytes().replace(b"T000,0.2", b"T000,9.2"))
    page.get_by_role("link", name="전체 검증").click()
    assert "이상 없음: 모두 일치" in page.inner_text("#verify-runs")
    page.get_by_role("button", name="검증 시작").click()
    page.wait_for_url(lambda url: re.search(r"/verifications/\d+$", url) is not None and url != run_url)
    assert _watch_run(page)[-1] == "done"
    assert page.get_attribute("#verify-result", "data-ok") == "false"
    differences = page.inner_text("#verify-differences")
    assert second in differences and "저장된 파일이 변경되었습니다: SHA-256이" in differences
    site.shot(page, "judge-verify-run-altered")
    page.get_by_role("link", name="전체 검증").click()
    runs = page.inner_text("#verify-runs")
    assert "이상 없음: 모두 일치" in runs and re.search(r"차이 \d+건", runs)
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 2
