"""Reading the frozen snapshot (writing it is the freeze service's job)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import Competition, Snapshot

__all__ = ["get_snapshot", "snapshot_content"]


def get_snapshot(session: Session, comp: Competition) -> Snapshot | None:
    return session.execute(sa.select(Snapshot).where(Snapshot.competition_id == comp.id)).scalar_one_or_none()


def snapshot_content(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's canonical JSON, parsed. Keys: public_board, private_board, finals, ..."""
    return json.loads(snapshot.content)
