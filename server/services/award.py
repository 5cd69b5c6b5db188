"""Award standings: the snapshot's private ranking, restricted to eligible and verified teams.

Verification and disqualification change who is in the award standings, never the snapshot.
Every decision is appended to the action log.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.caller import Caller
from server.db import LockKey
from server.errors import BadRequest, Conflict
from server.models import Competition, Team, Verification
from server.runtime import Runtime
from server.services.access import can_see_private_scores, check_award
from server.services.actionlog import append_action
from server.services.competitions import get_competition
from server.services.confidence import confidence_by_team
from server.services.snapshot import get_snapshot, snapshot_content
from server.services.teams import get_team, get_team_by_name
from server.timeutil import isoformat_local, isoformat_utc

__all__ = ["STATES", "set_verification", "set_eligibility", "award_standings", "award_view", "resolve_team"]

STATES = ("pending", "verified", "disqualified")
MAX_REASON = 2000


def resolve_team(session: Session, team: int | str) -> Team:
    """Find a team by id (int) or exact name (str)."""
    return get_team(session, team) if isinstance(team, int) else get_team_by_name(session, team)


def _clean_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise BadRequest(f"reason must be text, found {type(reason).__name__}")
    text = " ".join(reason.split())
    if len(text) > MAX_REASON:
        raise BadRequest(f"reason must be at most {MAX_REASON} characters, found {len(text)}")
    return text or None


def set_verification(rt: Runtime, slug: str, team: int | str, state: Any, reason: Any,
                     *, actor: str) -> dict[str, Any]:
    """Record a team's code verification for one competition (after its freeze).

    Raises:
        BadRequest: unknown state, or a disqualification without a reason.
        Conflict: the competition is not frozen yet.
    """
    if state not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}, found {state!r}")
    reason = _clean_reason(reason)
    if state == "disqualified" and not reason:
        raise BadRequest("a disqualification needs a reason (it is recorded in the action log and shown to judges)",
                         code="reason_required")
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is None:
            raise Conflict(f"competition '{slug}' is not frozen yet; code verification is recorded against "
                           "the frozen final standings, so freeze first", code="not_frozen")
        found = resolve_team(session, team)
        row = session.get(Verification, (comp.id, found.id))
        previous = row.state if row else "pending"
        if row is None:
            row = Verification(competition_id=comp.id, team_id=found.id)
            session.add(row)
        row.state, row.reason, row.updated_at, row.updated_by = state, reason, now, actor
        append_action(session, actor=actor, at=now, competition_id=comp.id,
                      action="disqualification" if state == "disqualified" else "verification",
                      payload={"slug": slug, "team_id": found.id, "team": found.name, "state": state,
                               "previous": previous, "reason": reason})
        return {"competition": slug, "team_id": found.id, "team": found.name, "state": state,
                "previous": previous, "reason": reason, "updated_at": isoformat_utc(now),
                "updated_at_local": isoformat_local(now, comp.timezone), "updated_by": actor}


def set_eligibility(rt: Runtime, team: int | str, eligible: Any, reason: Any, *, actor: str) -> dict[str, Any]:
    """Set whether a team may receive an award (a team attribute, any time; logged)."""
    if not isinstance(eligible, bool):
        raise BadRequest(f"eligible must be true or false, found {eligible!r}")
    reason = _clean_reason(reason)
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        found = resolve_team(session, team)
        previous = found.eligible
        found.eligible = eligible
        append_action(session, actor=actor, action="team.eligibility", at=now,
                      payload={"team_id": found.id, "team": found.name, "eligible": eligible,
                               "previous": previous, "reason": reason})
        return {"team_id": found.id, "team": found.name, "eligible": eligible, "previous": previous,
                "reason": reason, "updated_at": isoformat_utc(now)}


def award_standings(session: Session, comp: Competition, *, include_scores: bool = True) -> dict[str, Any]:
    """The award ranking from the snapshot's private board; other teams listed apart.

    A team is ranked only if it is eligible and verified. Disqualified teams (with reasons),
    teams still pending verification and teams not eligible are listed separately, each with
    its private rank, so that the committee sees who was passed over and why.

    Raises:
        Conflict: the competition is not frozen (there is no final ranking yet).
    """
    snapshot = get_snapshot(session, comp) if comp.frozen_at is not None else None
    if snapshot is None:
        raise Conflict(f"competition '{comp.slug}' is not frozen; the award standings come from the frozen "
                       "final standings", code="not_frozen")
    board = snapshot_content(snapshot)["private_board"]
    confidence = confidence_by_team(session, comp)
    teams = {t.id: t for t in session.execute(
        sa.select(Team).where(Team.id.in_([e["team_id"] for e in board]))).scalars()}
    checks = {v.team_id: v for v in session.execute(
        sa.select(Verification).where(Verification.competition_id == comp.id)).scalars()}
    standings: list[dict[str, Any]] = []
    disqualified: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    not_eligible: list[dict[str, Any]] = []
    for entry in board:
        check = checks.get(entry["team_id"])
        state = check.state if check else "pending"
        item: dict[str, Any] = {"private_rank": entry["rank"], "team": entry["team"], "team_id": entry["team_id"],
                                "submission_id": entry["submission_id"], "public_rank": entry["public_rank"],
                                "verification": state, "eligible": teams[entry["team_id"]].eligible,
                                "confidence": None if confidence is None else confidence.get(entry["team_id"])}
        if include_scores:
            item["score"] = entry["score"]
        if state == "disqualified":
            assert check is not None
            item.update(reason=check.reason, decided_at=isoformat_utc(check.updated_at), decided_by=check.updated_by)
            disqualified.append(item)
        elif not item["eligible"]:
            not_eligible.append(item)
        elif state != "verified":
            pending.append(item)
        else:
            standings.append({"award_rank": len(standings) + 1, **item})
    return {"competition": comp.slug, "snapshot_sha256": snapshot.sha256, "metric": comp.metric,
            "greater_is_better": comp.greater_is_better, "published": comp.published_at is not None,
            "confidence_computed": confidence is not None,
            "standings": standings, "disqualified": disqualified, "pending": pending,
            "not_eligible": not_eligible}


def award_view(session: Session, comp: Competition, caller: Caller) -> dict[str, Any]:
    """The award standings as `caller` may read them (who: services/access.py)."""
    check_award(caller, comp)
    return award_standings(session, comp, include_scores=can_see_private_scores(caller, comp))
