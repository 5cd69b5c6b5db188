"""Reading the frozen snapshot (writing it is the freeze service's job)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import Competition, Snapshot

__all__ = ["get_snapshot", "snapshot_content", "snapshot_boards"]

# Snapshots never change, so their parsed boards can be kept by hash (a 20,000-submission
# snapshot is ~6 MB of JSON: ~100 ms to parse on every leaderboard request otherwise).
_BOARDS: OrderedDict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = OrderedDict()
_BOARDS_SIZE = 16
_lock = threading.Lock()


def get_snapshot(session: Session, comp: Competition) -> Snapshot | None:
    return session.execute(sa.select(Snapshot).where(Snapshot.competition_id == comp.id)).scalar_one_or_none()


def snapshot_content(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's canonical JSON, parsed. Keys: public_board, private_board, finals, ..."""
    return json.loads(snapshot.content)


def snapshot_boards(session: Session, comp: Competition) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Return (sha256, public board, private board) of the competition's snapshot, or None."""
    row = session.execute(
        sa.select(Snapshot.id, Snapshot.sha256).where(Snapshot.competition_id == comp.id)
    ).one_or_none()
    if row is None:
        return None
    with _lock:
        boards = _BOARDS.get(row.sha256)
    if boards is None:
        content = json.loads(session.get_one(Snapshot, row.id).content)
        boards = (content["public_board"], content["private_board"])
        with _lock:
            _BOARDS[row.sha256] = boards
            while len(_BOARDS) > _BOARDS_SIZE:
                _BOARDS.popitem(last=False)
    return row.sha256, boards[0], boards[1]
