"""Teams, members and tokens."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import hash_token, new_token
from server.caller import ISSUED_ROLES, Role
from server.db import LockKey
from server.errors import BadRequest, Conflict, NotFound
from server.models import Team, TeamMember, Token
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.timeutil import isoformat_utc

__all__ = ["NewTeam", "create_team", "create_token", "get_team", "get_team_by_name", "team_to_dict"]

MAX_MEMBERS = 5
MAX_TEAM_ID = 2**31 - 1


@dataclass(frozen=True)
class NewTeam:
    team: Team
    token: str  # shown once


def _clean_name(value: str, what: str) -> str:
    # Kept verbatim (a name like "\t=1" stays as typed; exports neutralise it), but never blank.
    name = value or ""
    if not name.strip() or len(name) > 100:
        raise BadRequest(f"{what} must be 1-100 characters and not blank, found {len(name)} characters")
    if "\x00" in name:  # PostgreSQL text cannot hold it; refuse it on SQLite alike
        raise BadRequest(f"{what} must not contain a NUL character (\\x00), found one at position {name.index(chr(0)) + 1}")
    return name


def create_team(rt: Runtime, name: str, *, actor: str, members: list[str] | None = None,
                eligible: bool = True) -> NewTeam:
    """Register a team (up to 5 members) and issue its token."""
    name = _clean_name(name, "team name")
    members = [_clean_name(m, "member name") for m in members or []]
    if len(members) > MAX_MEMBERS:
        raise BadRequest(f"a team has at most {MAX_MEMBERS} members, found {len(members)}")
    token = new_token()
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        if session.execute(sa.select(Team.id).where(Team.name == name)).first():
            raise Conflict(f"team '{name}' already exists")
        if members:
            taken = session.execute(
                sa.select(TeamMember.name, Team.name).join(Team).where(TeamMember.name.in_(members))
            ).all()
            if taken:
                # LG Aimers forbids registering in more than one team.
                raise Conflict("already in another team: " + ", ".join(f"{m} ({t})" for m, t in taken))
        team = Team(name=name, eligible=eligible, created_at=now,
                    members=[TeamMember(name=m) for m in members])
        session.add(team)
        session.flush()
        session.add(Token(token_hash=hash_token(token), role=Role.TEAM.value, name=name, team_id=team.id, created_at=now))
        append_action(session, actor=actor, action="team.create", at=now,
                      payload={"team_id": team.id, "name": name, "members": members, "eligible": eligible})
    return NewTeam(team, token)


def create_token(rt: Runtime, role: Role | str, name: str, *, actor: str) -> str:
    """Issue an organizer or judge token; return it (shown once, stored hashed)."""
    if role not in ISSUED_ROLES:
        raise BadRequest(f"role must be {' or '.join(ISSUED_ROLES)}, found {role!r} (team tokens come with `team create`)")
    role = Role(role).value  # the stored string
    name = _clean_name(name, "token name")
    token = new_token()
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        session.add(Token(token_hash=hash_token(token), role=role, name=name, created_at=now))
        append_action(session, actor=actor, action="token.create", at=now, payload={"role": role, "name": name})
    return token


def get_team(session: Session, team_id: int) -> Team:
    # Ids are 32-bit in both databases; a longer number names no team (and must not reach the
    # driver, which raises on it: a 500 instead of a 404).
    team = session.get(Team, team_id) if 0 < team_id <= MAX_TEAM_ID else None
    if team is None:
        raise NotFound(f"no team with id {team_id}")
    return team


def get_team_by_name(session: Session, name: str) -> Team:
    team = session.execute(sa.select(Team).where(Team.name == name)).scalar_one_or_none()
    if team is None:
        raise NotFound(f"no team named '{name}'")
    return team


def team_to_dict(team: Team) -> dict[str, object]:
    return {"id": team.id, "name": team.name, "eligible": team.eligible,
            "members": [m.name for m in team.members], "created_at": isoformat_utc(team.created_at)}
