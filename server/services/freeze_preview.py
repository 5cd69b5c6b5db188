"""What a freeze would do now, for the confirmation before it: allowed or the reason it is refused,
the submissions still waiting for a score, the teams and the boards that would be frozen.

Read-only: the same refusal rules as freeze() (freeze.freeze_refusal) and the same snapshot builder,
in a read transaction; nothing is stored or logged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.models import PENDING_STATUSES, Submission, Team
from server.runtime import Runtime
from server.services.competitions import competition_state, get_competition
from server.services.freeze import build_snapshot, freeze_refusal
from server.services.snapshot import get_snapshot
from server.timeutil import isoformat_local, isoformat_utc

__all__ = ["freeze_preview", "PENDING_LISTED"]

PENDING_LISTED = 200


def freeze_preview(rt: Runtime, slug: str) -> dict[str, Any]:
    now = rt.now()
    with rt.session() as session:
        comp = get_competition(session, slug)
        refusal = freeze_refusal(session, comp, now)
        pending_rows = session.execute(
            sa.select(Submission.id, Submission.status, Submission.received_at, Submission.attempts, Team.name)
            .join(Team, Team.id == Submission.team_id)
            .where(Submission.competition_id == comp.id, Submission.status.in_(PENDING_STATUSES),
                   Submission.received_at < comp.end_at)
            .order_by(Submission.received_at, Submission.id).limit(PENDING_LISTED)).all()
        pending_total = session.execute(
            sa.select(sa.func.count()).where(Submission.competition_id == comp.id,
                                             Submission.status.in_(PENDING_STATUSES),
                                             Submission.received_at < comp.end_at)).scalar_one()
        content = build_snapshot(session, comp, now, "preview")
        snapshot = get_snapshot(session, comp)
        teams = sorted({s["team"] for s in content["submissions"]})
    return {
        "competition": slug, "state": competition_state(comp, now),
        "now": isoformat_utc(now), "now_local": isoformat_local(now, comp.timezone),
        "end_at": isoformat_utc(comp.end_at), "end_at_local": isoformat_local(comp.end_at, comp.timezone),
        "allowed": refusal is None,
        "refusal": None if refusal is None else refusal.to_dict(),
        "snapshot_sha256": snapshot.sha256 if snapshot else None,
        "pending_total": int(pending_total),
        "pending": [{"id": r.id, "team": r.name, "status": r.status, "received_at": isoformat_utc(r.received_at),
                     "attempts": r.attempts} for r in pending_rows],
        "submissions": len(content["submissions"]),
        "statuses": _status_counts(content["submissions"]),
        "teams": teams,
        "public_board": content["public_board"],
        "private_board": content["private_board"],
        "finals": content["finals"],
    }


def _status_counts(submissions: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(("queued", "scoring", "scored", "rejected", "failed"), 0)
    for s in submissions:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    return counts
