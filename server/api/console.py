"""Console routes (organizers; judges read): the queue dashboard, competitions created and changed
over HTTP, the freeze preview, the action log with its hash chain checked, a submission's history
and re-queueing a failed one, and verify runs in the background."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from server.auth import counts_as_read, current_actor, current_caller, require
from server.errors import BadRequest
from server.models import Team
from server.runtime import current_runtime
from server.services.access import MANAGE, READ_FINAL
from server.services.actionlog_view import action_log_view
from server.services.competition_files import create_from_files
from server.services.competition_intake import update_from_fields
from server.services.competitions import competition_to_dict
from server.services.datafiles import data_file_to_dict, list_data_files
from server.services.freeze_preview import freeze_preview
from server.services.queue_status import queue_dashboard
from server.services.submission_console import requeue_failed, submission_history
from server.services.submissions import final_flags, get_submission, submission_to_dict
from server.services.verify_runs import get_verification, list_verifications, start_verification

bp = Blueprint("console_api", __name__)


@bp.get("/api/v1/queue")
@require(MANAGE)
def queue() -> ResponseReturnValue:
    return jsonify(queue_dashboard(current_runtime()))


@bp.post("/api/v1/competitions")
@require(MANAGE)
def create() -> ResponseReturnValue:
    if request.mimetype != "multipart/form-data":
        raise BadRequest("expected multipart/form-data with the file field labels, either the field task (a bundled "
                         "task) or the files task_toml and sample_submission, optional data files and settings; "
                         f"found {request.mimetype or 'no Content-Type'}")
    rt = current_runtime()
    comp = create_from_files(rt, {name: request.files.getlist(name) for name in request.files},
                             request.form.to_dict(), actor=current_actor())
    with rt.session() as session:
        listed = [data_file_to_dict(row, comp.slug) for row in list_data_files(session, comp)]
    response = jsonify({"competition": competition_to_dict(comp, rt.now()), "data": listed})
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/competitions/{comp.slug}"
    return response


@bp.patch("/api/v1/competitions/<slug>")
@require(MANAGE)
def update(slug: str) -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest('expected a JSON object of the fields to change, e.g. {"end": "2026-08-29T10:00", '
                         '"daily_limit": 5}')
    rt = current_runtime()
    comp = update_from_fields(rt, slug, data, actor=current_actor())
    return jsonify(competition_to_dict(comp, rt.now()))


@bp.get("/api/v1/competitions/<slug>/freeze")
@require(MANAGE)
def get_freeze(slug: str) -> ResponseReturnValue:
    return jsonify(freeze_preview(current_runtime(), slug))


@bp.get("/api/v1/actions")
@require(READ_FINAL)
def actions() -> ResponseReturnValue:
    slug = request.args.get("competition") or None
    return jsonify(action_log_view(current_runtime(), current_caller(), slug))


@bp.get("/api/v1/submissions/<submission_id>/history")
@require(READ_FINAL)
def submission_history_route(submission_id: str) -> ResponseReturnValue:
    with current_runtime().session() as session:
        return jsonify(submission_history(session, submission_id, current_caller()))


@bp.post("/api/v1/submissions/<submission_id>/rescore")
@require(MANAGE)
def submission_rescore(submission_id: str) -> ResponseReturnValue:
    rt, caller = current_runtime(), current_caller()
    sub = requeue_failed(rt, submission_id, caller, actor=current_actor())
    with rt.session() as session:
        sub, comp = get_submission(session, sub.id, caller)
        body = submission_to_dict(sub, comp, caller, team_name=session.get_one(Team, sub.team_id).name,
                                  final=final_flags(session, comp, sub.team_id).get(sub.id))
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/submissions/{sub.id}"
    return response


@bp.post("/api/v1/competitions/<slug>/verifications")
@require(READ_FINAL)
@counts_as_read  # re-reads and re-scores; changes no competition state, so judges may start it
def post_verification(slug: str) -> ResponseReturnValue:
    body = start_verification(current_runtime(), slug, current_caller())
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["url"]
    return response


@bp.get("/api/v1/competitions/<slug>/verifications")
@require(READ_FINAL)
def verifications(slug: str) -> ResponseReturnValue:
    return jsonify(list_verifications(current_runtime(), slug, current_caller()))


@bp.get("/api/v1/competitions/<slug>/verifications/<int:verification_id>")
@require(READ_FINAL)
def verification(slug: str, verification_id: int) -> ResponseReturnValue:
    return jsonify(get_verification(current_runtime(), slug, verification_id, current_caller()))
