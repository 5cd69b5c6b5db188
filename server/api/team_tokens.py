"""Organizers: the team list (with search), roster import, and revoking or reissuing a team's token."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.errors import BadRequest
from server.runtime import current_runtime
from server.services.access import MANAGE
from server.services.roster import MAX_ROSTER_BYTES, import_roster, tokens_csv
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
        return jsonify({"teams": list_teams(session, request.args.get("q"))})


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


@bp.post("/api/v1/teams/import")
@require(MANAGE)
def import_teams() -> ResponseReturnValue:
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise BadRequest(f"format must be csv or json, found {fmt!r}")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest(f"expected a multipart field 'file'; found fields: {', '.join(request.files) or 'none'}")
        data = upload.stream.read(MAX_ROSTER_BYTES + 1)
    elif request.mimetype in ("text/csv", "text/plain", "application/octet-stream"):
        data = request.stream.read(MAX_ROSTER_BYTES + 1)
    else:
        raise BadRequest("expected the roster CSV as the body (Content-Type text/csv) or as the multipart field "
                         f"'file'; found {request.mimetype or 'no Content-Type'}")
    if len(data) > MAX_ROSTER_BYTES:
        raise BadRequest(f"the roster is larger than {MAX_ROSTER_BYTES // 1_000_000} MB; split it")
    created = import_roster(current_runtime(), data, actor=_actor())
    if fmt == "json":
        response = jsonify({"teams": [{**c.team, "token": c.token} for c in created]})
    else:
        # A BOM so that spreadsheet programs read the Korean names as UTF-8.
        response = Response("\ufeff" + tokens_csv(created), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="team-tokens.csv"'
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the body holds tokens, shown once
    return response
