"""The public leaderboard rendered once per change of its standings, per web process.

Rendering 2,000 entries (ORM rows, dicts, JSON, gzip) costs tens of milliseconds; telling whether
anything changed costs one Redis GET: the key is the standings' version token (replaced after
every commit that changed a standing, services.board_version) plus the competition's fields the
board shows, so a new upload (entries, last submission), a new best, a precision change, the
freeze and the publish each give a new key. Without Redis the key falls back to an aggregate over
the standings (4 ms at 2,000 teams). The ETag is the key's hash, so a poller gets 304. The page's
board and its chart of the top teams are kept under the same key.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import ANONYMOUS
from server.models import Competition, TeamStanding
from server.runtime import Runtime
from server.services.board_version import board_token
from server.services.leaderboard import leaderboard_view

__all__ = ["PublicBoard", "public_board_cached", "cached"]

T = TypeVar("T")

# Entries kept per store: boards and their parts; whole pages (server.web.board_page: up to
# 40 pages × 2 languages × a few URLs of one board, ~40 KB each) in their own store, so pages
# never push out the board they were made from.
_SIZES = {"boards": 128, "pages": 512}
# Per runtime (one per app, so per database): boards of two databases never mix.
_entries: weakref.WeakKeyDictionary[Runtime, dict[str, OrderedDict[tuple[Any, ...], Any]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_building: dict[tuple[Any, ...], threading.Lock] = {}  # the keys being built, each with its gate


@dataclass(frozen=True)
class PublicBoard:
    """The public board as every caller sees it: the view, its JSON body and that body gzipped."""

    etag: str
    view: dict[str, Any]
    body: bytes
    gzipped: bytes


def _fingerprint(rt: Runtime, session: Session, comp: Competition) -> str:
    shown: tuple[Any, ...] = (comp.id, comp.slug, comp.metric, comp.greater_is_better, comp.precision,
                              comp.frozen_at, comp.published_at)
    token = board_token(rt, comp.id)
    if token is not None:
        return hashlib.sha256(repr((*shown, token)).encode()).hexdigest()[:32]
    s = TeamStanding  # no Redis: an aggregate that changes with any standing, as near as can be
    row = session.execute(
        sa.select(sa.func.count(), sa.func.sum(s.entries), sa.func.max(s.last_submission_at),
                  sa.func.count(s.best_submission_id), sa.func.sum(s.best_score), sa.func.sum(s.sort_key),
                  sa.func.max(s.best_received_at), sa.func.min(s.best_received_at))
        .where(s.competition_id == comp.id)).one()
    return hashlib.sha256(repr((*shown, *row)).encode()).hexdigest()[:32]


def cached(rt: Runtime, key: tuple[Any, ...], build: Callable[[], T], store: str = "boards") -> T:
    """`build()`'s value kept under `key` (which must change whenever the value would).

    One thread builds a missing value while the others asking for the same key wait for it: an
    open competition's page changes every second, and every busy thread rendering it at once
    would cost a core for nothing."""
    with _lock:
        values = _entries.setdefault(rt, {}).setdefault(store, OrderedDict())
        if key in values:
            values.move_to_end(key)
            return values[key]  # type: ignore[no-any-return]
        gate = _building.setdefault((id(rt), store, key), threading.Lock())
    with gate:
        try:
            with _lock:
                if key in values:  # built by the thread this one waited for
                    return values[key]  # type: ignore[no-any-return]
            value = build()
            with _lock:
                values[key] = value
                while len(values) > _SIZES[store]:
                    values.popitem(last=False)
            return value
        finally:
            with _lock:
                _building.pop((id(rt), store, key), None)


def public_board_cached(rt: Runtime, session: Session, comp: Competition) -> PublicBoard:
    """The public leaderboard (rendered at most once per change of its standings)."""
    etag = _fingerprint(rt, session, comp)

    def build() -> PublicBoard:
        view = leaderboard_view(session, comp, ANONYMOUS, "public")
        body = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
        return PublicBoard(etag, view, body, gzip.compress(body, compresslevel=6, mtime=0))

    return cached(rt, ("public", etag), build)
