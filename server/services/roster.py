"""Roster import: many teams from one CSV, all or nothing, each with a new token shown once.

The CSV has a header line; its first column is the team name, the next up to five are members
(any header names, e.g. `team,member1,...,member5` or `팀명,팀원1,...`; blank member cells are
skipped). Every problem is reported with its line and column, as for a rejected submission, and
nothing is created unless every row is valid: names present and at most 100 characters, a team
name used once and not already registered, a member in one team only (in the file and across the
teams already registered: LG Aimers forbids joining two teams).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth import hash_token, new_token
from server.caller import Role
from server.db import LockKey
from server.errors import BadRequest, Conflict, msg
from server.models import Team, TeamMember, Token
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.services.audit import neutralise
from server.services.teams import MAX_MEMBERS, team_to_dict

__all__ = ["RosterRow", "ImportedTeam", "parse_roster", "import_roster", "tokens_csv", "MAX_ROWS",
           "TOKEN_CSV_COLUMNS", "MAX_ROSTER_BYTES"]

MAX_ROWS = 5000
MAX_ROSTER_BYTES = 5_000_000
MAX_NAME = 100
MAX_PROBLEMS = 200
TOKEN_CSV_COLUMNS = ("team_id", "team", "members", "token")


@dataclass(frozen=True)
class RosterRow:
    line: int
    team: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class ImportedTeam:
    team: dict[str, object]  # team_to_dict
    token: str  # shown once


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def add(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append({"line": line, "column": column, "message": message})

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        lines = [f"line {p['line']}, column {p['column']}: {p['message']}" if p["line"] is not None
                 else str(p["message"]) for p in self.items]
        raise BadRequest(f"{what}; nothing was created:\n" + "\n".join(lines), code="roster_invalid",
                         problems=self.items)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the roster is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "save it as CSV UTF-8", code="roster_invalid",
                         problems=[{"line": None, "column": None, "message": msg("not UTF-8")}]) from None


def parse_roster(data: bytes) -> list[RosterRow]:
    """Read and check the CSV on its own (the database checks come in import_roster)."""
    problems = _Problems()
    rows = list(csv.reader(io.StringIO(_decode(data), newline="")))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        problems.add(None, None, msg("the roster is empty; expected a header line such as team,member1,member2 "
                                     "and one line per team"))
        problems.raise_if_any("the roster cannot be imported")
    header = [h.strip() for h in rows[0]]
    if len(header) < 1 or not header[0]:
        problems.add(1, None, msg("expected a header line whose first column names the team column (e.g. team)"))
    if len(header) > 1 + MAX_MEMBERS:
        problems.add(1, header[1 + MAX_MEMBERS] or f"column {2 + MAX_MEMBERS}",
                     msg("at most %(max)s member columns after the team name, found %(found)s", max=MAX_MEMBERS,
                         found=len(header) - 1))
    names = [h or f"column {i + 1}" for i, h in enumerate(header)]
    parsed: list[RosterRow] = []
    teams_seen: dict[str, int] = {}
    members_seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are skipped
        if len(parsed) >= MAX_ROWS:
            problems.add(line, None, msg("a roster holds at most %(max)s teams", max=MAX_ROWS))
            break
        team = row[0].strip() if row else ""
        if not team:
            problems.add(line, names[0], msg("the team name is empty"))
        elif len(team) > MAX_NAME:
            problems.add(line, names[0], msg("the team name has %(n)s characters; at most %(max)s", n=len(team),
                                             max=MAX_NAME))
        elif team in teams_seen:
            problems.add(line, names[0], msg("team %(team)s is also on line %(line)s", team=repr(team),
                                             line=teams_seen[team]))
        else:
            teams_seen[team] = line
        members = []
        for i, cell in enumerate(row[1:], start=1):
            member = cell.strip()
            if not member:
                continue
            column = names[i] if i < len(names) else f"column {i + 1}"
            if i > MAX_MEMBERS:
                problems.add(line, column, msg("a team has at most %(max)s members; found %(member)s in column "
                                               "%(column)s", max=MAX_MEMBERS, member=repr(member), column=i + 1))
            elif len(member) > MAX_NAME:
                problems.add(line, column, msg("the member name has %(n)s characters; at most %(max)s", n=len(member),
                                               max=MAX_NAME))
            elif member in members_seen:
                problems.add(line, column, msg("%(member)s is also a member on line %(line)s; a person may be in "
                                               "one team only", member=repr(member), line=members_seen[member]))
            else:
                members_seen[member] = line
                members.append(member)
        parsed.append(RosterRow(line, team, tuple(members)))
    if not parsed and not problems.items:
        problems.add(None, None, msg("the roster has a header line but no team; add one line per team"))
    problems.raise_if_any("the roster has problems")
    return parsed


def import_roster(rt: Runtime, data: bytes, *, actor: str, eligible: bool = True) -> list[ImportedTeam]:
    """Create every team of the roster with its token, in one transaction; refuse all on any problem."""
    rows = parse_roster(data)
    names = [r.team for r in rows]
    members = [m for r in rows for m in r.members]
    tokens = [new_token() for _ in rows]
    now = rt.now()
    created: list[ImportedTeam] = []
    with rt.write(LockKey.INSTANCE) as session:
        problems = _Problems()
        existing = set(_chunked_in(session, sa.select(Team.name), Team.name, names))
        taken = dict(_chunked_in(session, sa.select(TeamMember.name, Team.name).join(Team), TeamMember.name, members))
        for r in rows:
            if r.team in existing:
                problems.add(r.line, "team", msg("team %(team)s is already registered", team=repr(r.team)))
            for m in r.members:
                if m in taken:
                    problems.add(r.line, "member", msg("%(member)s is already in team %(team)s; a person may be in one "
                                                       "team only", member=repr(m), team=repr(taken[m])))
        if problems.items:
            problems.raise_if_any("the roster conflicts with the teams already registered")
        for r, token in zip(rows, tokens, strict=True):
            team = Team(name=r.team, eligible=eligible, created_at=now, members=[TeamMember(name=m) for m in r.members])
            session.add(team)
            session.flush()
            session.add(Token(token_hash=hash_token(token), role=Role.TEAM.value, name=r.team, team_id=team.id,
                              created_at=now))
            append_action(session, actor=actor, action="team.create", at=now,
                          payload={"team_id": team.id, "name": r.team, "members": list(r.members),
                                   "eligible": eligible, "source": "roster import"})
            created.append(ImportedTeam(team_to_dict(team), token))
    if len(created) != len(rows):  # pragma: no cover - the transaction either made all or raised
        raise Conflict("the roster was not imported whole; nothing was created")
    return created


def _chunked_in(session: Session, query: Any, column: Any, values: Sequence[str]) -> list[Any]:
    # IN lists in chunks: SQLite and PostgreSQL limit bound parameters.
    out: list[Any] = []
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        rows = session.execute(query.where(column.in_(chunk))).all()
        out.extend(r[0] if len(r) == 1 else tuple(r) for r in rows)
    return out


def tokens_csv(created: Sequence[ImportedTeam]) -> str:
    """The new tokens as CSV (team_id, team, members, token), for the organizers to hand out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOKEN_CSV_COLUMNS)
    for item in created:
        team = item.team
        writer.writerow([team["id"], neutralise(str(team["name"])),
                         "; ".join(neutralise(m) for m in team["members"]),  # type: ignore[attr-defined]
                         item.token])
    return out.getvalue()
