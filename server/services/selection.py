"""Final selection: up to `max_final` of a team's own scored submissions, until `end_at`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import LockKey
from server.errors import BadRequest, Conflict, msg
from server.models import Competition, FinalSelection, Submission
from server.runtime import Runtime
from server.services.boards import build_boards
from server.services.competitions import get_competition
from server.statuses import SubmissionStatus
from server.timeutil import isoformat_local

__all__ = ["get_selection", "set_selection"]


def get_selection(session: Session, comp: Competition, team_id: int) -> dict[str, Any]:
    pick = next((f for f in build_boards(session, comp, team_id=team_id).finals if f["team_id"] == team_id), None)
    return {
        "competition": comp.slug, "max_final": comp.max_final,
        "mode": pick["mode"] if pick else "auto",
        "submission_ids": pick["submission_ids"] if pick else [],
        "editable_until": isoformat_local(comp.end_at, comp.timezone),
    }


def selection_open(comp: Competition, now: datetime) -> bool:
    """Final picks change until `end_at`, and never after the freeze."""
    return comp.frozen_at is None and now < comp.end_at


def set_selection(rt: Runtime, slug: str, team_id: int, submission_ids: Any) -> dict[str, Any]:
    """Replace the team's chosen finals; an empty list returns the team to the automatic rule."""
    if not isinstance(submission_ids, list) or not all(isinstance(i, str) for i in submission_ids):
        raise BadRequest(msg('expected {"submission_ids": ["<id>", ...]} with a list of submission ids'))
    ids = list(dict.fromkeys(submission_ids))
    now = rt.now()
    with rt.session() as session:
        comp_id = get_competition(session, slug).id
    # The upload lock of this team: the freeze takes every team's, so no change slips past it.
    with rt.write(LockKey.TEAM_UPLOAD, comp_id, team_id) as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is not None:
            raise Conflict(msg("competition '%(slug)s' is frozen; final selections can no longer change", slug=slug),
                           closed_at=comp.end_at)
        if not selection_open(comp, now):
            raise Conflict(msg("final selections closed at %(time)s", time=isoformat_local(comp.end_at, comp.timezone)),
                           closed_at=comp.end_at)
        if len(ids) > comp.max_final:
            raise BadRequest(msg("at most %(max)s final submissions, found %(found)s", max=comp.max_final,
                                 found=len(ids)), max_final=comp.max_final)
        found = {s.id: s for s in session.execute(
            sa.select(Submission).where(Submission.id.in_(ids), Submission.competition_id == comp.id,
                                        Submission.team_id == team_id)).scalars()} if ids else {}
        missing = [i for i in ids if i not in found]
        if missing:
            raise BadRequest(msg("not submissions of your team in '%(slug)s': %(ids)s", slug=slug,
                                 ids=", ".join(m[:64] for m in missing)))
        unscored = [i for i in ids if found[i].status != SubmissionStatus.SCORED]
        if unscored:
            raise BadRequest(msg("only scored submissions can be final; not scored: %(ids)s",
                                 ids=", ".join(f"{i} ({found[i].status})" for i in unscored)))
        session.execute(sa.delete(FinalSelection).where(FinalSelection.competition_id == comp.id,
                                                        FinalSelection.team_id == team_id))
        for i in ids:
            session.add(FinalSelection(competition_id=comp.id, team_id=team_id, submission_id=i, created_at=now))
        session.flush()
        return get_selection(session, comp, team_id)
