"""The end of a competition: freeze, publish, award standings, verification, audits, rescore.

Who may do what is decided in services/access.py (organizers: everything here; judges: the award
standings and audits once frozen; nobody else: the published private board is on the leaderboard).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.errors import BadRequest
from server.runtime import current_runtime
from server.services.access import MANAGE, READ_FINAL
from server.services.audit import FORMATS, TABLES, audit_csv, audit_json
from server.services.award import award_view, set_eligibility, set_verification
from server.services.competitions import get_competition
from server.services.freeze import freeze, publish
from server.services.rescore import rescore

bp = Blueprint("final", __name__)


def _actor() -> str:
    return f"organizer:{current_caller().name}"


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(f"expected a JSON object body, found {type(data).__name__ if data is not None else 'none'}")
    return data


@bp.post("/api/v1/competitions/<slug>/freeze")
@require(MANAGE)
def post_freeze(slug: str) -> ResponseReturnValue:
    return jsonify(freeze(current_runtime(), slug, _actor()))


@bp.post("/api/v1/competitions/<slug>/publish")
@require(MANAGE)
def post_publish(slug: str) -> ResponseReturnValue:
    return jsonify(publish(current_runtime(), slug, _actor()))


@bp.get("/api/v1/competitions/<slug>/award")
@require(READ_FINAL)
def get_award(slug: str) -> ResponseReturnValue:
    with current_runtime().session() as session:
        return jsonify(award_view(session, get_competition(session, slug), current_caller()))


@bp.put("/api/v1/competitions/<slug>/teams/<int:team_id>/verification")
@require(MANAGE)
def put_verification(slug: str, team_id: int) -> ResponseReturnValue:
    data = _json_body()
    return jsonify(set_verification(current_runtime(), slug, team_id, data.get("state"), data.get("reason"),
                                    actor=_actor()))


@bp.put("/api/v1/teams/<int:team_id>/eligibility")
@require(MANAGE)
def put_eligibility(team_id: int) -> ResponseReturnValue:
    data = _json_body()
    return jsonify(set_eligibility(current_runtime(), team_id, data.get("eligible"), data.get("reason"),
                                   actor=_actor()))


@bp.get("/api/v1/competitions/<slug>/audit")
@require(READ_FINAL)
def get_audit(slug: str) -> Response:
    fmt = request.args.get("format", "json")
    table = request.args.get("table", "submissions")
    if fmt not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}, found {fmt!r}")
    if table not in TABLES or (fmt == "json" and table != "submissions"):
        raise BadRequest(f"table must be one of {', '.join(TABLES)} (csv only; json holds them all), found {table!r}")
    rt = current_runtime()
    caller = current_caller()
    if fmt == "csv":
        # A BOM so that spreadsheet programs read the Korean team names as UTF-8.
        lines = audit_csv(rt, slug, caller, table)
        body, mimetype, name = _prepend("\ufeff", lines), "text/csv; charset=utf-8", f"{slug}-audit-{table}.csv"
    else:
        body, mimetype, name = audit_json(rt, slug, caller), "application/json", f"{slug}-audit.json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _prepend(first: str, rest: Any) -> Any:
    yield first
    yield from rest


@bp.post("/api/v1/competitions/<slug>/rescore")
@require(MANAGE)
def post_rescore(slug: str) -> ResponseReturnValue:
    data = _json_body()
    ids = data.get("submission_ids")
    if data.get("all") is True and ids is None:
        selection = None
    elif isinstance(ids, list) and all(isinstance(i, str) for i in ids) and not data.get("all"):
        selection = ids
    else:
        raise BadRequest('expected {"all": true} or {"submission_ids": ["<id>", ...]}')
    return jsonify(rescore(current_runtime(), slug, actor=_actor(), submission_ids=selection))
