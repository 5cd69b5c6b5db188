"""The leaderboard page as an anonymous visitor sees it: rendered once, served as bytes.

Such a page holds nothing personal (no session, no CSRF token: base.html emits the token only for
signed-in callers), so one rendering serves every anonymous visitor of the same URL and language.
It is kept under a key of everything it shows:
- the public board's version (services.board_cache: replaced after every standings change, and
  with the freeze, the publish and the precision),
- every column of the competition (titles, dates, time zone, public share, feedback mode),
- the language and the URL (the language links and the sign-in link repeat its query),
- the clock while the competition has not ended, to the second: the countdown carries the
  server's time (its skew correction) and the chart runs to now; once ended, nothing on the page
  moves with time.
The ETag is the key's hash (one per encoding), so a browser revalidating (`no-cache`) gets 304.
Only the public board is shared: after publication the private board goes the per-request way
(its confidence columns arrive later without a new board version).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, request, session

from server.auth import ANONYMOUS
from server.caller import Caller
from server.models import Competition
from server.runtime import Runtime
from server.services import board_cache
from server.services.access import can_see_private_scores
from server.web.i18n import LANGUAGES

__all__ = ["SharedPage", "shareable", "page_key", "etag_of", "shared_page", "not_modified", "respond"]


@dataclass(frozen=True)
class SharedPage:
    etag: str
    body: bytes
    gzipped: bytes


def _canonical_query() -> bool:
    """Only `page` (a plain positive number) and `lang` (a known one): any other query would be a
    new cache entry for the same page, so it is rendered per request instead."""
    args = request.args
    if any(name not in ("page", "lang") or len(args.getlist(name)) > 1 for name in args):
        return False
    page = args.get("page")
    return (page is None or (page.isdigit() and not page.startswith("0") and len(page) < 6)) and \
        args.get("lang", "ko") in LANGUAGES


def shareable(caller: Caller, comp: Competition) -> bool:
    """Whether this request gets the page every anonymous visitor gets."""
    return (caller == ANONYMOUS and "_flashes" not in session  # a flash is for this visitor only
            and not can_see_private_scores(ANONYMOUS, comp) and _canonical_query())


def page_key(board_etag: str, comp: Competition, lang: str, now: datetime) -> tuple[Any, ...]:
    columns = tuple(getattr(comp, attr.key) for attr in sa.inspect(Competition).column_attrs)
    moment = int(now.timestamp()) if now < comp.end_at else None
    return ("page", board_etag, repr(columns), lang, request.full_path, moment)


def shared_page(rt: Runtime, key: tuple[Any, ...], etag: str, render: Callable[[], str]) -> SharedPage:
    def build() -> SharedPage:
        body = render().encode()
        return SharedPage(etag, body, gzip.compress(body, compresslevel=6, mtime=0))

    return board_cache.cached(rt, key, build, store="pages")


def etag_of(key: tuple[Any, ...]) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def respond(etag: str, page: SharedPage | None) -> Response:
    """The page's bytes (gzipped when accepted), or 304 when the client holds them; `page` None
    means only the 304 may be answered (the caller checked `not_modified` first)."""
    zipped = request.accept_encodings["gzip"] > 0
    tag = f'"{etag}-gz"' if zipped else f'"{etag}"'
    # Browsers may keep it but must revalidate each time; Vary: Cookie (added for every page)
    # keeps one copy per language cookie.
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if page is None:
        response = Response(status=304, headers=headers)
    elif zipped:
        response = Response(page.gzipped, mimetype="text/html", headers={**headers, "Content-Encoding": "gzip"})
    else:
        response = Response(page.body, mimetype="text/html", headers=headers)
    response.vary.add("Accept-Encoding")
    return response


def not_modified(etag: str) -> bool:
    zipped = request.accept_encodings["gzip"] > 0
    return request.if_none_match.contains_raw(f'"{etag}-gz"' if zipped else f'"{etag}"')
