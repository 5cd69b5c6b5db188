"""Team tokens after registration: organizers revoke a lost one or reissue it; the team list they manage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.auth import hash_token, new_token
from server.db import LockKey
from server.errors import NotFound
from server.models import Submission, Team, TeamMember, Token
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.services.teams import MAX_TEAM_ID, get_team, team_to_dict

__all__ = ["IssuedToken", "RevokedToken", "parse_team_id", "find_team", "reissue_team_token",
           "revoke_team_token", "list_teams"]

MAX_ID = MAX_TEAM_ID  # a longer number names no team (see get_team)


@dataclass(frozen=True)
class IssuedToken:
    team: dict[str, Any]  # team_to_dict
    token: str  # shown once
    issued_at: datetime


@dataclass(frozen=True)
class RevokedToken:
    team: dict[str, Any]  # team_to_dict
    revoked: int  # active tokens revoked (0: none was active)
    revoked_at: datetime


def parse_team_id(text: str) -> int:
    """A team id from a URL or command line.

    Raises:
        NotFound: not a team id (not digits, or beyond any id a team can have).
    """
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise NotFound(f"no team with id {text!r}; team ids are whole numbers (see GET /api/v1/teams)")
    return int(text)


def find_team(session: Session, ref: str) -> Team:
    """A team by id (digits) or by name; an id wins when a name is also all digits."""
    if ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID:
        team = session.get(Team, int(ref)) if int(ref) > 0 else None
        if team is not None:
            return team
    team = session.execute(sa.select(Team).where(Team.name == ref)).scalar_one_or_none()
    if team is None:
        raise NotFound(f"no team with id or name {ref!r}; `hackathon team list` shows them")
    return team


def _revoke_active(session: Session, team_id: int, now: datetime) -> int:
    result = session.execute(
        sa.update(Token).where(Token.team_id == team_id, Token.role == "team", Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)  # an UPDATE's CursorResult


def reissue_team_token(rt: Runtime, team_id: int, *, actor: str) -> IssuedToken:
    """Revoke the team's token(s) and issue a new one in one transaction: the old stops at once."""
    token = new_token()
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        team = get_team(session, team_id)
        revoked = _revoke_active(session, team.id, now)
        session.add(Token(token_hash=hash_token(token), role="team", name=team.name, team_id=team.id,
                          created_at=now))
        append_action(session, actor=actor, action="team.token.reissue", at=now,
                      payload={"team_id": team.id, "name": team.name, "revoked": revoked})
        described = team_to_dict(team)
    return IssuedToken(described, token, now)


def revoke_team_token(rt: Runtime, team_id: int, *, actor: str) -> RevokedToken:
    """Revoke the team's token(s): it cannot authenticate until a token is reissued."""
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        team = get_team(session, team_id)
        revoked = _revoke_active(session, team.id, now)
        append_action(session, actor=actor, action="team.token.revoke", at=now,
                      payload={"team_id": team.id, "name": team.name, "revoked": revoked})
        described = team_to_dict(team)
    return RevokedToken(described, revoked, now)


def list_teams(session: Session, q: str | None = None) -> list[dict[str, Any]]:
    """Every team (or those whose id, name or a member's name matches `q`, case-insensitive) with its
    members, whether it holds a usable token (never token material) and its submission counts."""
    active = set(session.execute(
        sa.select(Token.team_id).where(Token.role == "team", Token.revoked_at.is_(None)).distinct()
    ).scalars())
    query = sa.select(Team).options(selectinload(Team.members)).order_by(Team.id)
    if q is not None and q.strip():
        needle = q.strip().lower()
        member_match = sa.select(TeamMember.team_id).where(
            sa.func.lower(TeamMember.name).contains(needle, autoescape=True))
        match = sa.or_(sa.func.lower(Team.name).contains(needle, autoescape=True), Team.id.in_(member_match))
        if needle.isascii() and needle.isdigit() and int(needle) <= MAX_ID:
            match = sa.or_(match, Team.id == int(needle))
        query = query.where(match)
    # Members in one query for all teams, not one per team; counts in one grouped query.
    teams = session.execute(query).scalars().all()
    counts: dict[int, dict[str, int]] = {}
    for team_id, status, n in session.execute(
            sa.select(Submission.team_id, Submission.status, sa.func.count())
            .group_by(Submission.team_id, Submission.status)).all():
        counts.setdefault(team_id, {})[status] = int(n)
    return [{**team_to_dict(t), "token_active": t.id in active,
             "submissions": sum(counts.get(t.id, {}).values()), "scored": counts.get(t.id, {}).get("scored", 0)}
            for t in teams]
