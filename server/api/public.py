"""Anyone: competitions, leaderboards, health."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from server.auth import current_caller
from server.errors import BadRequest, msg
from server.runtime import current_runtime
from server.services.board_cache import PublicBoard, public_board_cached
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
        if split == "public":  # the same for every caller: rendered (and gzipped) once per change
            return _public_board(public_board_cached(rt, session, comp))
        return jsonify(leaderboard_view(session, comp, caller, split))


def _public_board(board: PublicBoard) -> Response:
    """The cached board: gzipped when the client accepts it (a tenth of the bytes), 304 when the
    client holds it. Each encoding has its own ETag, as a strong validator must."""
    zipped = request.accept_encodings["gzip"] > 0
    etag = f'"{board.etag}-gz"' if zipped else f'"{board.etag}"'
    headers = {"ETag": etag, "Vary": "Accept-Encoding"}
    if request.if_none_match.contains_raw(etag):
        return Response(status=304, headers=headers)
    if zipped:
        return Response(board.gzipped, mimetype="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(board.body, mimetype="application/json", headers=headers)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body = health(current_runtime())
    return jsonify(body), 200 if body["ok"] else 503
