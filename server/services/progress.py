"""How the leading teams' best public score moved over time (the leaderboard's chart)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import Competition, Submission
from server.services.leaderboard import shown, sort_key

__all__ = ["best_score_history"]


def best_score_history(session: Session, comp: Competition, teams: dict[int, str],
                       until: datetime | None = None, ladder: bool = False) -> list[dict[str, Any]]:
    """For each team, the steps of its best public score: [(received_at, best so far), ...].

    Public scores only (the private ones stay hidden until publish); scored submissions received
    before `until` (the freeze, so the chart matches the frozen board). With `ladder` (a viewer who
    may not see each submission's public score: access.can_see_public_scores), the steps are the
    team's Ladder values, which change only on an accepted improvement.
    """
    if not teams:
        return []
    score = Submission.ladder_score if ladder else Submission.public_score
    query = (sa.select(Submission.team_id, Submission.received_at, score)
             .where(Submission.competition_id == comp.id, Submission.team_id.in_(list(teams)),
                    Submission.status == "scored", score.is_not(None))
             .order_by(Submission.received_at, Submission.id))
    if until is not None:
        query = query.where(Submission.received_at <= until)
    steps: dict[int, list[tuple[datetime, float]]] = {t: [] for t in teams}
    for team_id, received_at, public_score in session.execute(query):
        if public_score is None:  # the query keeps scored rows only; typed as optional
            continue
        line = steps[team_id]
        if not line or sort_key(comp, public_score) < sort_key(comp, line[-1][1]):
            line.append((received_at, shown(comp, public_score) or 0.0))
    return [{"team_id": t, "team": teams[t], "steps": steps[t]} for t in teams if steps[t]]
