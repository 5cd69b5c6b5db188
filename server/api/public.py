"""Anyone: competitions, leaderboards, health."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from server.auth import current_caller
from server.errors import BadRequest, msg
from server.runtime import current_runtime
from server.services.board_cache import public_board_json
from server.services.competitions import competition_to_dict, get_competition, list_competitions
from server.services.health import health
from server.services.leaderboard import leaderboard_view

bp = Blueprint("public", __name__)


@bp.get("/api/v1/competitions")
def competitions() -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        now = rt.now()
        return jsonify({"competitions": [competition_to_dict(c, now) for c in list_competitions(session)]})


@bp.get("/api/v1/competitions/<slug>")
def competition(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        return jsonify(competition_to_dict(get_competition(session, slug), rt.now()))


@bp.get("/api/v1/competitions/<slug>/leaderboard")
def leaderboard(slug: str) -> ResponseReturnValue:
    split = request.args.get("split", "public")
    if split not in ("public", "private"):
        raise BadRequest(msg("split must be public or private, found %(found)s", found=repr(split)))
    rt = current_runtime()
    caller = current_caller()
    with rt.session() as session:
        comp = get_competition(session, slug)
        if split == "public":  # the same for every caller: rendered once per change
            body, etag = public_board_json(rt, session, comp)
            if etag in request.if_none_match:
                return Response(status=304, headers={"ETag": f'"{etag}"'})
            return Response(body, mimetype="application/json", headers={"ETag": f'"{etag}"'})
        return jsonify(leaderboard_view(session, comp, caller, split))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body = health(current_runtime())
    return jsonify(body), 200 if body["ok"] else 503
