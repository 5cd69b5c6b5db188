"""The organizers' action log: append-only, each entry hashing the previous one (a hash chain)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import LockKey, advisory_lock
from server.errors import msg
from server.models import ActionLogEntry
from server.timeutil import isoformat_utc

__all__ = ["append_action", "canonical_json", "entry_digest", "check_chain", "GENESIS", "ChainProblem"]

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Serialise with sorted keys, no spaces, UTF-8 text, and no NaN/Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_digest(prev_sha256: str, created_at: datetime, actor: str, action: str,
                 competition_id: int | None, payload: str) -> str:
    body = canonical_json({
        "prev": prev_sha256, "at": isoformat_utc(created_at), "actor": actor, "action": action,
        "competition_id": competition_id, "payload": payload,
    })
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_action(session: Session, *, actor: str, action: str, at: datetime,
                  competition_id: int | None = None, payload: dict[str, Any] | None = None) -> ActionLogEntry:
    """Append an entry inside the caller's write transaction.

    Appends are serialised so the chain never forks: SQLite's write transactions are exclusive
    already; on PostgreSQL a transaction-scoped advisory lock does it.
    """
    advisory_lock(session, LockKey.INSTANCE)
    last = session.execute(
        sa.select(ActionLogEntry.sha256).order_by(ActionLogEntry.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    text = canonical_json(payload or {})
    entry = ActionLogEntry(
        competition_id=competition_id, created_at=at, actor=actor, action=action, payload=text,
        prev_sha256=prev, sha256=entry_digest(prev, at, actor, action, competition_id, text),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    message: str


def check_chain(session: Session) -> tuple[int, list[ChainProblem]]:
    """Recompute every entry's hash and link; return (entries checked, problems)."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    count = 0
    for entry in session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars():
        count += 1
        if entry.prev_sha256 != prev:
            problems.append(ChainProblem(entry.id, msg("entry %(id)s (%(action)s) does not link to the previous entry",
                                                       id=entry.id, action=entry.action)))
        expected = entry_digest(entry.prev_sha256, entry.created_at, entry.actor, entry.action,
                                entry.competition_id, entry.payload)
        if expected != entry.sha256:
            problems.append(ChainProblem(entry.id, msg("entry %(id)s (%(action)s) was altered: its content does not "
                                                       "match its SHA-256", id=entry.id, action=entry.action)))
        prev = entry.sha256
    return count, problems
