"""Read-only queries behind the organizer console's panels: competitions with their counts by
status, what a freeze would do, the action log's latest entries. Each function answers one panel,
so a richer service (the queue dashboard, a freeze preview) can replace it without touching views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import PENDING_STATUSES, ActionLogEntry, Competition, Submission, Team
from server.services.actionlog import check_chain
from server.services.competitions import competition_state, list_competitions
from server.statuses import SubmissionStatus

__all__ = ["STATUS_ORDER", "competitions_overview", "status_counts", "pending_before_end", "team_count", "submissions_by_team",
           "recent_actions", "chain_report"]

STATUS_ORDER = tuple(s.value for s in SubmissionStatus)


def status_counts(session: Session, comp_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """competition id → status → submissions (every status present, zeros included)."""
    query = sa.select(Submission.competition_id, Submission.status, sa.func.count()).group_by(
        Submission.competition_id, Submission.status)
    if comp_ids is not None:
        query = query.where(Submission.competition_id.in_(comp_ids))
    counts: dict[int, dict[str, int]] = {}
    for comp_id, status, n in session.execute(query):
        counts.setdefault(comp_id, dict.fromkeys(STATUS_ORDER, 0))[str(status)] = int(n)
    return counts


def competitions_overview(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every competition with its state and its submissions counted by status."""
    comps = list_competitions(session)
    counts = status_counts(session)
    return [{"comp": c, "state": competition_state(c, now),
             "counts": counts.get(c.id, dict.fromkeys(STATUS_ORDER, 0)),
             "total": sum(counts.get(c.id, {}).values())} for c in comps]


def pending_before_end(session: Session, comp: Competition) -> int:
    """Submissions received before the end still queued or being scored: what refuses a freeze."""
    return int(session.execute(
        sa.select(sa.func.count()).where(Submission.competition_id == comp.id,
                                         Submission.status.in_(PENDING_STATUSES),
                                         Submission.received_at < comp.end_at)).scalar_one())


def team_count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one())


def submissions_by_team(session: Session) -> dict[int, int]:
    """team id → its submissions over every competition."""
    rows = session.execute(sa.select(Submission.team_id, sa.func.count()).group_by(Submission.team_id))
    return {int(team_id): int(n) for team_id, n in rows}


def recent_actions(session: Session, limit: int = 200, competition_id: int | None = None) -> list[ActionLogEntry]:
    """The latest entries of the action log, newest first."""
    query = sa.select(ActionLogEntry).order_by(ActionLogEntry.id.desc()).limit(limit)
    if competition_id is not None:
        query = query.where(ActionLogEntry.competition_id == competition_id)
    return list(session.execute(query).scalars())


def chain_report(session: Session) -> dict[str, Any]:
    """The action log's hash chain recomputed: entries checked and each problem."""
    checked, problems = check_chain(session)
    return {"checked": checked, "ok": not problems, "problems": [p.message for p in problems]}
