"""Organizer commands: `hackathon team create` and `hackathon token create`."""

from __future__ import annotations

import click

from server.cli.app import CLI_ACTOR, ServerGroup, runtime
from server.cli.output import emit, json_option
from server.services.teams import create_team, create_token, team_to_dict


@click.group("team", cls=ServerGroup)
def team_group() -> None:
    """Register teams."""


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
