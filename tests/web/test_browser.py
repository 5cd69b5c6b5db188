"""End-to-end flows in headless Chromium against a served instance with a real worker."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from server.services.freeze import freeze, publish
from tests.server.conftest import tiny_predictions
from tests.web.conftest import Site

BAD_FILE = b"id,y\nT000,abc\n" + b"".join(f"T{i:03d},{i * 1.5}\n".encode() for i in range(1, 20))
PLANTED_PRIVATE = 7.3579  # the private RMSE of the planted submission: must not leak before publish


def _competition(site: Site, **settings: Any) -> str:
    return site.env.competition("tiny", **settings)


def sign_in(page: Any, site: Site, token: str, next_path: str = "/") -> None:
    page.goto(f"{site.url}/signin?next={next_path}")
    page.get_by_label(re.compile("팀 토큰|Team token")).fill(token)
    page.get_by_role("button", name=re.compile("^(로그인|Sign in)$")).click()
    page.wait_for_load_state()


def wait_until(page: Any, expression: str, seconds: float = 20) -> None:
    """Poll a JS expression (page.wait_for_function would need 'unsafe-eval', which the CSP refuses)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def upload(page: Any, name: str, data: bytes, note: str = "") -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    if note:
        page.fill("#note", note)
    page.get_by_role("button", name=re.compile("^(제출|Submit)$")).click()


def test_team_signs_in_uploads_and_watches_it_get_scored_without_reload(site: Site, browser_page: Any) -> None:
    page = browser_page
    _competition(site)
    token = site.env.team("Team Alpha")
    page.goto(site.url)
    site.shot(page, "01-home-ko")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("link", name="작은 회귀 과제").click()
    site.shot(page, "02-overview-ko")
    page.get_by_role("link", name="로그인하고 제출하기").click()
    page.get_by_label("팀 토큰").fill(token)
    page.get_by_role("button", name="로그인").click()
    assert page.url.endswith("/competitions/tiny/submit")
    assert "오늘 남은 제출: 3회 중 3회" in page.inner_text(".quota")
    page.evaluate("window.__stillThisPage = true")
    upload(page, "preds.csv", tiny_predictions(0.25), note="첫 제출")
    wait_until(page, "document.getElementById('progress').value === 100 && !document.getElementById('progress').hidden")
    row = page.locator("#recent tr").first
    # queued → scoring → scored, all without a reload
    row.locator(".status-scored").wait_for()
    assert page.evaluate("window.__stillThisPage") is True
    assert "0.2500" in row.inner_text()
    assert "첫 제출" in row.inner_text()
    assert "오늘 남은 제출: 3회 중 2회" in page.inner_text(".quota")
    site.shot(page, "03-submit-scored-ko")
    cookie = next(c for c in page.context.cookies() if c["name"] == "hackathon_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert token not in json.dumps(page.context.cookies())


def test_a_bad_file_shows_its_problems_in_korean(site: Site, browser_page: Any) -> None:
    page = browser_page
    _competition(site)
    sign_in(page, site, site.env.team("Team Beta"), "/competitions/tiny/submit")
    # Dropped on the drop zone rather than picked: the file lands in the form's file field.
    page.evaluate("""(text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], "bad.csv", {type: "text/csv"}));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", BAD_FILE.decode())
    assert page.evaluate("document.getElementById('file').files[0].name") == "bad.csv"
    page.get_by_role("button", name="제출").click()
    row = page.locator("#recent tr").first
    row.locator(".status-rejected").wait_for()
    # The status cell changes first; then the server's row (problems, in Korean) replaces the row.
    page.wait_for_function("() => document.querySelector('#recent tr').innerText.includes('번째 줄')")
    text = row.inner_text()
    assert "2번째 줄, y 열: 'abc'는 숫자가 아닙니다" in text
    assert "거부됨" in text
    site.shot(page, "04-submit-rejected-ko")


def test_choosing_final_submissions(site: Site, browser_page: Any) -> None:
    page = browser_page
    _competition(site)
    token = site.env.team("Team Gamma")
    for offset in (0.5, 0.1):
        assert site.env.upload(token, tiny_predictions(offset)).status_code == 202
    sign_in(page, site, token, "/competitions/tiny/submissions")
    _wait_scored(page, site, 2)
    assert "자동 선택 규칙" in page.inner_text(".explain")
    boxes = page.locator("input[name=submission_ids]")
    assert boxes.count() == 2
    worse = page.locator("tr", has_text="0.5000").locator("input[name=submission_ids]")
    worse.check()
    page.get_by_role("button", name="최종 선택 저장").click()
    assert "최종 제출을 저장했습니다." in page.inner_text(".flash")
    assert "팀이 직접 선택" in page.inner_text(".explain")
    assert page.locator("tr", has_text="0.5000").locator(".badge").inner_text() == "최종"
    chosen = page.context.request.get(f"{site.url}/api/v1/competitions/tiny/submissions").json()
    finals = [s["public_score"] for s in chosen["submissions"] if s["final"] == "chosen"]
    assert finals == [0.5]
    site.shot(page, "05-my-submissions-finals-ko")


def _wait_scored(page: Any, site: Site, n: int) -> None:
    for _ in range(60):
        page.reload()
        if page.locator(".status-scored").count() >= n:
            return
        page.wait_for_timeout(500)
    raise AssertionError("submissions were not scored in time")


def test_language_switch_is_kept_in_the_session(site: Site, browser_page: Any) -> None:
    page = browser_page
    _competition(site)
    page.goto(f"{site.url}/competitions/tiny/rules")
    assert page.locator("h2").first.inner_text() == "규칙"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h2").first.inner_text() == "Rules"
    site.shot(page, "06-rules-en")
    page.get_by_role("link", name="Leaderboard").click()  # no ?lang= any more: the session remembers
    assert "lang=" not in page.url
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Public leaderboard").is_visible()
    page.get_by_role("link", name="한국어").click()
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", name="Public 리더보드").is_visible()


def test_leaderboard_fits_a_phone(site: Site, chromium: Any) -> None:
    _competition(site)
    tokens = [site.env.team(f"아주긴팀이름을가진참가팀{i:02d} Very Long Team Name") for i in range(12)]
    for i, token in enumerate(tokens):
        assert site.env.upload(token, tiny_predictions(0.1 * (i + 1))).status_code == 202
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, site, tokens[3], "/competitions/tiny/leaderboard")
        for _ in range(60):
            if page.locator("table.board tbody tr").count() == 12:
                break
            page.wait_for_timeout(500)
            page.reload()
        assert page.locator("tr.mine").count() == 1
        for path in ("/competitions/tiny/leaderboard", "/", "/competitions/tiny", "/competitions/tiny/rules",
                     "/competitions/tiny/submit", "/competitions/tiny/submissions"):
            page.goto(site.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} scrolls sideways at 390 px: scrollWidth {width}"
            site.shot(page, "07-phone" + path.replace("/", "-"), full_page=False)
    finally:
        context.close()


def _crawl_paths(site: Site, submission_ids: list[str]) -> list[str]:
    """Every GET page and API read the URL map offers, with its arguments filled in."""
    paths = []
    for rule in site.env.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "web.static", "web.favicon"):
            continue
        values: list[dict[str, str]] = [{}]
        for arg in rule.arguments:
            options = {"slug": ["tiny"], "submission_id": submission_ids}.get(arg)
            if options is None:
                break
            values = [{**v, arg: o} for v in values for o in options]
        else:
            for v in values:
                path = rule.build(v)[1] if hasattr(rule, "build") else None
                if path:
                    paths.append(path)
    extra = ["/api/v1/competitions/tiny/leaderboard?split=private", "/competitions/tiny/leaderboard?lang=en"]
    return sorted(set(paths)) + extra


def _crawl(page: Any, site: Site, paths: list[str], label: str) -> str:
    seen = []
    for path in paths:
        if path.startswith("/api/") or path.endswith("/file") or path == "/healthz":
            response = page.context.request.get(site.url + path)
            seen.append(response.text() if "json" in (response.headers.get("content-type") or "") else "")
        else:
            response = page.goto(site.url + path)
            assert response is not None and response.status < 400, (path, response.status)
            seen.append(page.content())
            try:  # a picture of each page for people; the privacy check above does not depend on it
                site.shot(page, f"crawl-{label}{path}", full_page=False)
            except PlaywrightTimeoutError:
                print(f"no screenshot of {path}: the browser did not take it in time")
    return "\n".join(seen)


def test_crawl_finds_no_private_score_before_publish_and_finds_it_after(site: Site, browser_page: Any,
                                                                          chromium: Any) -> None:
    _competition(site)
    token = site.env.team("Team Delta")
    planted = site.env.upload(token, tiny_predictions(0.25, private_offset=PLANTED_PRIVATE)).get_json()["id"]
    sign_in(browser_page, site, token, "/competitions/tiny/submissions")
    _wait_scored(browser_page, site, 1)
    public_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    public = public_context.new_page()
    needle = re.compile(r"7[.,]3579")
    try:
        paths = _crawl_paths(site, [planted])
        assert any(p.endswith("/submissions") for p in paths) and any(p.endswith("/leaderboard") for p in paths)
        for who, page in (("team", browser_page), ("public", public)):
            text = _crawl(page, site, paths, f"before-{who}")
            assert "0.2500" in text or who == "public"
            assert not needle.search(text), f"private score visible to the {who} before publish"
        site.advance(days=8)
        freeze(site.env.rt, "tiny", "test")
        publish(site.env.rt, "tiny", "test")
        team_text = _crawl(browser_page, site, paths, "after-team")
        public_text = _crawl(public, site, paths, "after-public")
        assert needle.search(team_text) and needle.search(public_text)
        browser_page.goto(f"{site.url}/competitions/tiny/leaderboard")
        assert browser_page.get_by_role("heading", name=re.compile(r"최종 리더보드 \(Private\)|Final leaderboard")).is_visible()
        site.shot(browser_page, "08-leaderboard-published-ko")
    finally:
        public_context.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_pages_send_security_headers(site: Site, browser_page: Any, lang: str) -> None:
    _competition(site)
    response = browser_page.goto(f"{site.url}/competitions/tiny?lang={lang}")
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"]
    assert browser_page.locator("html").get_attribute("lang") == lang


def test_keyboard_only_sign_in(site: Site, browser_page: Any) -> None:
    page = browser_page
    _competition(site)
    token = site.env.team("Team Keys")
    page.goto(f"{site.url}/signin?next=/competitions/tiny/submissions")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(10):  # on to the token field, whatever the header holds
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "token":
            break
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^[^?]*/competitions/tiny/submissions$"))
    assert page.get_by_role("heading", name="내 제출").is_visible()
