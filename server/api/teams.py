"""Teams (and, read-only, organizers and judges): submissions and final selection."""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, Response, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.errors import BadRequest, msg
from server.models import Team
from server.runtime import current_runtime
from server.services.access import (
    READ_SUBMISSIONS,
    SUBMIT,
    check_list_submissions,
    own_team,
)
from server.services.boards import team_names
from server.services.competitions import get_competition
from server.services.selection import get_selection, set_selection
from server.services.submission_console import read_filters
from server.services.submissions import (
    MULTIPART_SLACK,
    accept_submission,
    check_declared_size,
    final_flags,
    get_submission,
    get_submission_file,
    list_submissions,
    submission_to_dict,
)
from server.timeutil import isoformat_utc
from server.web.i18n import localized_submission

bp = Blueprint("teams", __name__)

RAW_TYPES = {"text/csv", "application/gzip", "application/x-gzip", "application/octet-stream", "text/plain",
             "application/zip", "application/x-zip-compressed"}  # zip: submit.zip of a code competition


@bp.post("/api/v1/competitions/<slug>/submissions")
@require(SUBMIT)
def upload(slug: str) -> ResponseReturnValue:
    caller = current_caller()
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        # Werkzeug would spool the whole form to disk first; refuse an oversized one up front.
        check_declared_size(current_runtime(), slug, request.content_length, MULTIPART_SLACK)
        upload_file = request.files.get("file")
        if upload_file is None:
            raise BadRequest(msg("expected a multipart field 'file'; found fields: %(fields)s",
                                 fields=", ".join(request.files) or "none"))
        stream, filename, note, length = upload_file.stream, upload_file.filename, request.form.get("note"), None
    elif mimetype in RAW_TYPES:
        stream, filename, length = request.stream, request.args.get("filename"), request.content_length
        note = _header_note() or request.args.get("note")
    else:
        raise BadRequest(msg("expected multipart/form-data with a 'file' field, or the CSV as the body with "
                             "Content-Type text/csv or application/gzip; found %(found)s",
                             found=mimetype or "no Content-Type"))
    rt = current_runtime()
    accepted = accept_submission(rt, caller, slug, stream, filename=filename, note=note, content_length=length)
    # The competition as the upload's transaction read it: no third session for the answer.
    body = localized_submission(submission_to_dict(accepted.submission, accepted.competition, caller,
                                                   team_name=caller.name, final=None))
    body["remaining_today"] = accepted.remaining_today
    body["resets_at"] = isoformat_utc(accepted.resets_at)
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/submissions/{accepted.submission.id}"
    return response


@bp.get("/api/v1/competitions/<slug>/submissions")
@require(READ_SUBMISSIONS)
def submissions(slug: str) -> ResponseReturnValue:
    caller = current_caller()
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        subs = list_submissions(session, comp, caller, read_filters(session, comp, caller, request.args))
        flags = final_flags(session, comp, check_list_submissions(caller))
        names = team_names(session)
        return jsonify({"competition": slug, "submissions": [
            localized_submission(submission_to_dict(s, comp, caller, team_name=names[s.team_id], final=flags.get(s.id)))
            for s in subs]})


@bp.get("/api/v1/submissions/<submission_id>")
@require(READ_SUBMISSIONS)
def submission(submission_id: str) -> ResponseReturnValue:
    caller = current_caller()
    rt = current_runtime()
    with rt.session() as session:
        sub, comp = get_submission(session, submission_id, caller)
        flags = final_flags(session, comp, sub.team_id)
        # One team's name, not every team's: `submit --wait` polls this route.
        team_name = session.get_one(Team, sub.team_id).name
        return jsonify(localized_submission(submission_to_dict(sub, comp, caller, team_name=team_name,
                                                               final=flags.get(sub.id))))


@bp.get("/api/v1/submissions/<submission_id>/file")
@require(READ_SUBMISSIONS)
def submission_file(submission_id: str) -> Response:
    caller = current_caller()
    rt = current_runtime()
    with rt.session() as session:
        sub = get_submission_file(session, submission_id, caller)
    with rt.storage.submission_path(sub.sha256).open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    name = f"{sub.id}.csv.gz" if gz else f"{sub.id}.csv"
    response = send_file(rt.storage.submission_path(sub.sha256), as_attachment=True, download_name=name,
                         mimetype="application/gzip" if gz else "text/csv")
    response.headers["X-Content-SHA256"] = sub.sha256
    return response


@bp.get("/api/v1/competitions/<slug>/selection")
@require(SUBMIT)
def selection(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        return jsonify(get_selection(session, get_competition(session, slug), own_team(current_caller())))


@bp.put("/api/v1/competitions/<slug>/selection")
@require(SUBMIT)
def put_selection(slug: str) -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or "submission_ids" not in data:
        raise BadRequest(msg('expected a JSON body {"submission_ids": ["<id>", ...]}'))
    return jsonify(set_selection(current_runtime(), slug, own_team(current_caller()), data["submission_ids"]))


def _header_note() -> str | None:
    """The note of a raw-body upload may come in X-Submission-Note (percent-encoded UTF-8): a URL
    holds at most ~8 KB, too little for 1,000 Korean characters."""
    raw = request.headers.get("X-Submission-Note")
    if raw is None:
        return None
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(msg("X-Submission-Note must be percent-encoded UTF-8 text")) from None
