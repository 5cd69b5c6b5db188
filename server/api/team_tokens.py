"""Organizers: the team list, and revoking or reissuing a team's token."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.runtime import current_runtime
from server.services.access import MANAGE
from server.services.team_tokens import (
    list_teams,
    parse_team_id,
    reissue_team_token,
    revoke_team_token,
)
from server.timeutil import isoformat_utc

bp = Blueprint("team_tokens", __name__)


def _actor() -> str:
    return f"organizer:{current_caller().name}"


@bp.get("/api/v1/teams")
@require(MANAGE)
def teams() -> ResponseReturnValue:
    with current_runtime().session() as session:
        return jsonify({"teams": list_teams(session)})


@bp.post("/api/v1/teams/<team_id>/token")
@require(MANAGE)
def reissue(team_id: str) -> ResponseReturnValue:
    issued = reissue_team_token(current_runtime(), parse_team_id(team_id), actor=_actor())
    response = jsonify({"team": issued.team, "token": issued.token, "issued_at": isoformat_utc(issued.issued_at)})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the body holds a token, shown once
    return response


@bp.delete("/api/v1/teams/<team_id>/token")
@require(MANAGE)
def revoke(team_id: str) -> ResponseReturnValue:
    revoked = revoke_team_token(current_runtime(), parse_team_id(team_id), actor=_actor())
    return jsonify({"team": revoked.team, "revoked": revoked.revoked,
                    "revoked_at": isoformat_utc(revoked.revoked_at)})
