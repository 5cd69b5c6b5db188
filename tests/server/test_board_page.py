"""The leaderboard page an anonymous visitor sees is rendered once and served as bytes with an
ETag (issue 10, item 8): it carries nothing personal, sets no cookie, and follows every change."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from server.services.freeze import freeze, publish
from tests.server.conftest import Env, tiny_predictions

URL = "/competitions/tiny/leaderboard"


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _sign_in(env: Env, token: str) -> FlaskClient:
    client = env.app.test_client()
    html = _text(client.get("/signin"))
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert client.post("/signin", data={"token": token, "csrf_token": csrf}).status_code == 302
    return client


def _scored(env: Env, name: str, offset: float) -> str:
    token = env.team(name)
    env.upload(token, tiny_predictions(offset))
    env.work()
    return token


def test_the_anonymous_page_sets_no_cookie_carries_no_csrf_token_and_answers_304(env: Env) -> None:
    env.competition()
    _scored(env, "Alpha", 0.5)
    visitor = env.app.test_client()
    page = visitor.get(URL)
    assert page.status_code == 200 and "Alpha" in _text(page)
    assert "Set-Cookie" not in page.headers  # a shared page needs no session
    assert "csrf" not in _text(page).lower()
    assert page.headers["ETag"] and page.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in page.headers["Vary"] and "Accept-Encoding" in page.headers["Vary"]
    again = visitor.get(URL, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"" and "Set-Cookie" not in again.headers
    assert env.app.test_client().get(URL).get_data() == page.get_data()  # another visitor: the same bytes
    zipped = visitor.get(URL, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.get_data()) == page.get_data()
    assert zipped.headers["ETag"] != page.headers["ETag"]
    assert visitor.get(URL, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}).status_code == 304


def test_a_standings_change_gives_a_new_page_in_both_languages(env: Env) -> None:
    env.competition()
    _scored(env, "Alpha", 0.5)
    korean, english = env.app.test_client(), env.app.test_client()
    assert '<html lang="en">' in _text(english.get(URL + "?lang=en"))  # the switch, kept in the session
    before = {"ko": korean.get(URL), "en": english.get(URL)}
    assert '<html lang="ko">' in _text(before["ko"]) and '<html lang="en">' in _text(before["en"])
    assert before["ko"].headers["ETag"] != before["en"].headers["ETag"]
    assert "Set-Cookie" not in before["en"].headers  # the choice is already in the cookie
    env.advance(minutes=1)
    _scored(env, "Beta", 0.25)
    for lang, client in (("ko", korean), ("en", english)):
        after = client.get(URL, headers={"If-None-Match": before[lang].headers["ETag"]})
        assert after.status_code == 200, lang
        assert after.headers["ETag"] != before[lang].headers["ETag"]
        html = _text(after)
        assert f'<html lang="{lang}">' in html and html.index("Beta") < html.index("Alpha"), lang


def test_the_language_switch_works_without_signing_in(env: Env) -> None:
    env.competition()
    visitor = env.app.test_client()
    assert '<html lang="ko">' in _text(visitor.get(URL))
    switched = visitor.get(URL + "?lang=en")
    assert '<html lang="en">' in _text(switched) and "Public leaderboard" in _text(switched)
    assert '<html lang="en">' in _text(visitor.get(URL))  # remembered for the next view
    assert '<html lang="en">' in _text(visitor.get("/competitions/tiny"))
    back = _text(visitor.get(URL + "?lang=ko"))
    assert '<html lang="ko">' in back and "Public 리더보드" in back
    assert 'href="/competitions/tiny/leaderboard?lang=en"' in back


def test_time_moves_the_page_while_the_competition_is_open_and_not_after(env: Env) -> None:
    """The countdown's server clock and the chart's end change with time: an open competition's
    page is kept for a second at most; a closed one's only changes with its standings or fields."""
    env.competition(end=(env.now + timedelta(hours=1)).isoformat())
    _scored(env, "Alpha", 0.5)
    visitor = env.app.test_client()
    first = visitor.get(URL)
    assert "data-now" in _text(first)
    env.advance(seconds=5)
    later = visitor.get(URL)
    assert later.headers["ETag"] != first.headers["ETag"]
    assert env.now.isoformat() in _text(later)
    env.advance(hours=2)
    closed = visitor.get(URL)
    env.advance(minutes=10)
    assert visitor.get(URL).headers["ETag"] == closed.headers["ETag"]


def test_freeze_and_publish_change_the_page_and_the_private_board_stays_hidden_until_published(env: Env) -> None:
    env.competition(end=(env.now + timedelta(hours=1)).isoformat())
    _scored(env, "Alpha", 0.5)
    _scored(env, "Beta", 0.25)
    env.advance(hours=2)
    visitor = env.app.test_client()
    open_page = visitor.get(URL + "?lang=en")
    assert "Final leaderboard" not in _text(open_page) and "Frozen" not in _text(open_page)
    freeze(env.rt, "tiny", "test")
    frozen = visitor.get(URL, headers={"If-None-Match": open_page.headers["ETag"]})
    assert frozen.status_code == 200 and "Frozen: the final standings" in _text(frozen)
    assert "Final leaderboard" not in _text(frozen) and "Set-Cookie" not in frozen.headers
    publish(env.rt, "tiny", "test")
    published = visitor.get(URL, headers={"If-None-Match": frozen.headers["ETag"]})
    assert published.status_code == 200 and "Final leaderboard (private)" in _text(published)
    assert "Set-Cookie" not in published.headers


def test_a_signed_in_team_sees_its_row_and_can_sign_out(env: Env) -> None:
    env.competition()
    token = _scored(env, "Alpha", 0.5)
    _scored(env, "Beta", 0.25)
    anonymous = _text(env.app.test_client().get(URL))  # cached first: must not leak into the team's page
    assert 'class="mine"' not in anonymous
    client = _sign_in(env, token)
    own = client.get(URL)
    html = _text(own)
    assert re.search(r'<tr class="mine" aria-current="true">\s*<td class="num">2</td>\s*<td class="team">Alpha', html)
    assert own.headers["Cache-Control"] == "no-store" and "ETag" not in own.headers
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)  # type: ignore[union-attr]
    form = re.search(r'action="/signout"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert form is not None and form.group(1) == csrf
    assert client.post("/signout", data={"csrf_token": csrf}).status_code == 302
    after = client.get(URL)
    assert 'class="mine"' not in _text(after) and after.headers.get("ETag")


def test_team_pages_still_carry_the_csrf_token(env: Env) -> None:
    env.competition()
    client = _sign_in(env, env.team("Alpha"))
    for path in ("/competitions/tiny/submit", "/competitions/tiny/submissions", "/competitions/tiny"):
        assert '<meta name="csrf-token" content="' in _text(client.get(path)), path


def test_threads_asking_for_the_same_missing_page_build_it_once(env: Env) -> None:
    import threading
    import time

    from server.services import board_cache

    builds: list[int] = []
    start = threading.Barrier(8)

    def build() -> str:
        builds.append(1)
        time.sleep(0.2)  # the others arrive while this one builds
        return "page"

    def ask(out: list[str]) -> None:
        start.wait()
        out.append(board_cache.cached(env.rt, ("page", "once"), build, store="pages"))

    results: list[str] = []
    threads = [threading.Thread(target=ask, args=(results,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["page"] * 8 and len(builds) == 1
