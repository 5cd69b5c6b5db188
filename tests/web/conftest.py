"""Browser tests: the real app served over HTTP by werkzeug in a thread, a real scoring worker
process, and headless Chromium (Debian's `chromium` package) driven by Playwright.

SQLite only, to keep the suite fast; the pages' rules are covered on both databases by
tests/server/test_pages.py. Screenshots of every page go to $HACKATHON_SCREENSHOTS, else to a
temporary folder; the folder is printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from server.serve import start_worker_processes
from tests.server.conftest import Env, make_env  # noqa: F401  (fixture)

CHROMIUM = os.environ.get("HACKATHON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Read at import: the session's autouse fixture clears HACKATHON_* variables for each test.
SCREENSHOTS = Path(os.environ.get("HACKATHON_SCREENSHOTS") or tempfile.mkdtemp(prefix="hackathon-screenshots-"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests run on SQLite only."""
    return f"sqlite:///{tmp_path / 'hackathon.db'}"


@dataclass
class Site:
    """A served instance: its URL, the test env behind it and a clock that can be moved."""

    url: str
    env: Env
    offset: list[timedelta] = field(default_factory=lambda: [timedelta()])

    def advance(self, **delta: float) -> None:
        self.offset[0] += timedelta(**delta)

    def shot(self, page: Any, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".png")
        page.screenshot(path=str(path), full_page=full_page)
        return path


@contextmanager
def serving(env: Env, redis_url: str) -> Iterator[tuple[Site, Callable[[], None]]]:
    """`env`'s app served over HTTP in a thread, on a clock the test can move (real time, so
    submissions get distinct receipt times), and a function that starts a scoring worker process."""
    offset = [timedelta()]
    env.rt.clock = lambda: datetime.now(UTC) + offset[0]
    env.now = datetime.now(UTC)
    workers: list[Any] = []
    server = make_server("127.0.0.1", 0, env.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", env, offset), \
            lambda: workers.extend(start_worker_processes(env.rt, redis_url, 1))
    finally:
        server.shutdown()
        for proc in workers:
            proc.terminate()
        for proc in workers:
            try:
                proc.wait(timeout=15)
            except Exception:
                proc.kill()


@pytest.fixture
def site(make_env: Callable[..., Env], redis_url: str) -> Iterator[Site]:  # noqa: F811
    with serving(make_env(), redis_url) as (served, start_worker):
        start_worker()
        yield served


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) at desktop size; CSP violations fail the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.set_default_timeout(60_000)  # a bound for a busy machine, not a speed goal
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"
