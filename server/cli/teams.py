"""Organizer commands: `hackathon team create|list|import|token` and `hackathon token create`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from server.cli.app import CLI_ACTOR, ServerGroup, runtime
from server.cli.output import emit, json_option
from server.services.roster import import_roster, tokens_csv
from server.services.team_tokens import (
    find_team,
    list_teams,
    reissue_team_token,
    revoke_team_token,
)
from server.services.teams import create_team, create_token, team_to_dict
from server.timeutil import isoformat_utc


@click.group("team", cls=ServerGroup)
def team_group() -> None:
    """Register teams (or import a roster); list them; revoke or reissue their tokens."""


@team_group.command("create")
@click.argument("name")
@click.option("--member", "members", multiple=True, help="A member's name (repeat, up to 5).")
@click.option("--not-eligible", is_flag=True, help="The team takes part but cannot receive an award.")
@json_option
def team_create(name: str, members: tuple[str, ...], not_eligible: bool, as_json: bool) -> None:
    """Register a team; prints its token once."""
    new = create_team(runtime(), name, actor=CLI_ACTOR, members=list(members), eligible=not not_eligible)
    data = team_to_dict(new.team)
    data["token"] = new.token
    emit(as_json, data, new.token)


@team_group.command("list")
@click.option("--search", "-q", "query", help="Only teams whose id, name or a member's name contains this.")
@json_option
def team_list(query: str | None, as_json: bool) -> None:
    """List teams: id, name, members, eligibility, whether the team holds a usable token."""
    with runtime().session() as session:
        teams = list_teams(session, query)
    lines = [f"{t['id']:>5}  {t['name']}  ({', '.join(t['members']) or 'no members'})"  # type: ignore[arg-type]
             f"{'' if t['eligible'] else '  [not eligible]'}{'' if t['token_active'] else '  [no valid token]'}"
             for t in teams]
    emit(as_json, {"teams": teams}, "\n".join(lines) or "no teams yet")


@team_group.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the new tokens to this CSV (mode 0600) instead of printing them.")
@json_option
def team_import(roster: Path, output: Path | None, as_json: bool) -> None:
    """Register every team of ROSTER (CSV: header, then team name and up to 5 members per line);
    all or nothing. Prints the new tokens once, as CSV (team_id, team, members, token)."""
    created = import_roster(runtime(), roster.read_bytes(), actor=CLI_ACTOR)
    text = tokens_csv(created)
    if output is not None:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(text)
    if as_json:
        emit(True, {"teams": [{**c.team, "token": c.token} for c in created],
                    "output": str(output) if output else None}, "")
    elif output is not None:
        click.echo(f"registered {len(created)} teams; their tokens are in {output} (shown nowhere else)")
    else:
        click.echo(text, nl=False)


@team_group.command("token")
@click.argument("team")
@click.option("--reissue", "action", flag_value="reissue", help="Revoke the team's token and print a new one (once).")
@click.option("--revoke", "action", flag_value="revoke", help="Revoke the team's token; it cannot sign in until reissued.")
@json_option
def team_token(team: str, action: str | None, as_json: bool) -> None:
    """Reissue or revoke the token of TEAM (its id or its name)."""
    if action is None:
        raise click.UsageError("choose --reissue (new token, the old one stops working) or --revoke")
    rt = runtime()
    with rt.session() as session:
        team_id = find_team(session, team).id
    if action == "reissue":
        issued = reissue_team_token(rt, team_id, actor=CLI_ACTOR)
        emit(as_json, {"team": issued.team, "token": issued.token, "issued_at": isoformat_utc(issued.issued_at)},
             issued.token)
    else:
        revoked = revoke_team_token(rt, team_id, actor=CLI_ACTOR)
        emit(as_json, {"team": revoked.team, "revoked": revoked.revoked,
                       "revoked_at": isoformat_utc(revoked.revoked_at)},
             f"revoked the token of team {revoked.team['name']} (id {team_id}); "
             f"`hackathon team token {team_id} --reissue` issues a new one")


@click.group("token", cls=ServerGroup)
def token_group() -> None:
    """Issue organizer and judge tokens."""


@token_group.command("create")
@click.option("--role", required=True, type=click.Choice(["organizer", "judge"]))
@click.option("--name", required=True, help="Who holds it (shown in the action log).")
@json_option
def token_create(role: str, name: str, as_json: bool) -> None:
    """Issue a token; prints it once (only its SHA-256 is stored)."""
    token = create_token(runtime(), role, name, actor=CLI_ACTOR)
    emit(as_json, {"role": role, "name": name, "token": token}, token)
