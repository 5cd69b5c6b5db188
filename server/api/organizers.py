"""Organizers: teams and tokens (freeze, publish, award and audits live in their own modules)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.errors import BadRequest
from server.runtime import current_runtime
from server.services.access import MANAGE
from server.services.competitions import get_competition
from server.services.probes import probe_report
from server.services.teams import create_team, team_to_dict

bp = Blueprint("organizers", __name__)


@bp.post("/api/v1/teams")
@require(MANAGE)
def post_team() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise BadRequest('expected a JSON body {"name": "...", "members": ["..."], "eligible": true}')
    members = data.get("members") or []
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise BadRequest("members must be a list of names")
    eligible = data.get("eligible", True)
    if not isinstance(eligible, bool):
        raise BadRequest(f"eligible must be true or false, found {eligible!r}")
    new = create_team(current_runtime(), data["name"], actor=f"organizer:{current_caller().name}",
                      members=members, eligible=eligible)
    body = team_to_dict(new.team)
    body["token"] = new.token
    return jsonify(body), 201


@bp.get("/api/v1/competitions/<slug>/probes")
@require(MANAGE)
def get_probes(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        return jsonify(probe_report(session, get_competition(session, slug)))
