"""Which version of a competition's standings is current: a random token in Redis
(`hackathon:<queue>:board:<competition id>`), replaced after every commit that changed a standing.

The cached boards (services.board_cache) are keyed by it, so a board is rebuilt exactly when a
standing changed, and telling costs one Redis GET instead of an aggregate over 2,000 standings.
Replaced only after the commit: a reader that sees the new token reads the new standings. A
random token rather than a counter: a Valkey that lost its data hands out a new token, never an
old one a process still holds a board under. Without Redis, the caller falls back to the aggregate.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import redis
from redis.client import Pipeline
from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = ["standings_changed", "publish_with", "board_token"]

log = logging.getLogger(__name__)
_CHANGED = "boards_changed"
_PIPELINE = "boards_pipeline"


def _key(rt: Any, competition_id: int) -> str:
    return f"hackathon:{rt.config['QUEUE_NAME']}:board:{competition_id}"


def standings_changed(session: Session, competition_id: int) -> None:
    """Mark the competition's boards stale once this session's transaction commits."""
    changed: set[int] | None = session.info.get(_CHANGED)
    if changed is None:
        changed = session.info[_CHANGED] = set()
        event.listen(session, "after_commit", _publish)
        event.listen(session, "after_rollback", lambda s: s.info.get(_CHANGED, set()).clear())
    changed.add(competition_id)


def publish_with(session: Session, pipe: Pipeline) -> None:
    """Put this session's board changes on `pipe` at its commit, instead of a round trip of their
    own: the caller executes `pipe` after the commit (an upload sends them with its job)."""
    session.info[_PIPELINE] = pipe


def _publish(session: Session) -> None:
    changed: set[int] = session.info.get(_CHANGED, set())
    rt = session.info.get("runtime")
    if not changed or rt is None:
        changed.clear()
        return
    given: Pipeline | None = session.info.pop(_PIPELINE, None)  # publish_with's: its caller executes it
    try:
        pipe = given if given is not None else rt.redis.pipeline(transaction=False)
        for competition_id in changed:
            pipe.set(_key(rt, competition_id), secrets.token_hex(8))
        if given is None:
            pipe.execute()
    except redis.RedisError as exc:  # boards stay as they were until the next change; said in the log
        log.warning("could not mark the boards of %s changed: %s", sorted(changed), type(exc).__name__)
    changed.clear()


def board_token(rt: Any, competition_id: int) -> str | None:
    """The current token (made on first use), or None when Redis cannot be asked."""
    key = _key(rt, competition_id)
    try:
        token = rt.redis.get(key)
        if token is None:
            rt.redis.set(key, secrets.token_hex(8), nx=True)
            token = rt.redis.get(key)
    except redis.RedisError:
        return None
    return token.decode() if isinstance(token, bytes) else token
