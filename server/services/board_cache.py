"""The public leaderboard rendered once per change of its standings, per web process.

Rendering 2,000 entries (ORM rows, dicts, JSON) costs tens of milliseconds; telling whether
anything changed costs one aggregate over the competition's standings (an index range). The key
is that aggregate plus the competition's fields the board shows, so a new upload (entries, last
submission), a new best (score, its receipt), a precision change, the freeze and the publish each
give a new key; the ETag is the key's hash, so a browser polling the board gets 304.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import ANONYMOUS
from server.models import Competition, TeamStanding
from server.runtime import Runtime
from server.services.leaderboard import leaderboard_view

__all__ = ["public_board_json"]

_SIZE = 64
# Per runtime (one per app, so per database): boards of two databases never mix.
_boards: weakref.WeakKeyDictionary[Runtime, OrderedDict[str, bytes]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _fingerprint(session: Session, comp: Competition) -> str:
    s = TeamStanding
    row = session.execute(
        sa.select(sa.func.count(), sa.func.sum(s.entries), sa.func.max(s.last_submission_at),
                  sa.func.count(s.best_submission_id), sa.func.sum(s.best_score), sa.func.sum(s.sort_key),
                  sa.func.max(s.best_received_at), sa.func.min(s.best_received_at))
        .where(s.competition_id == comp.id)).one()
    key: tuple[Any, ...] = (comp.id, comp.slug, comp.metric, comp.greater_is_better, comp.precision,
                            comp.frozen_at, comp.published_at, *row)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def public_board_json(rt: Runtime, session: Session, comp: Competition) -> tuple[bytes, str]:
    """Return the public leaderboard's JSON body and its ETag."""
    etag = _fingerprint(session, comp)
    with _lock:
        boards = _boards.setdefault(rt, OrderedDict())
        body = boards.get(etag)
        if body is not None:
            boards.move_to_end(etag)
            return body, etag
    view = leaderboard_view(session, comp, ANONYMOUS, "public")
    body = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
    with _lock:
        boards[etag] = body
        while len(boards) > _SIZE:
            boards.popitem(last=False)
    return body, etag
