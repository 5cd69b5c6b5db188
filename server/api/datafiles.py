"""Competition data files: anyone lists and downloads them (streamed, ETag); organizers attach more."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from pathlib import Path

from flask import Blueprint, Response, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from server.auth import current_caller, require
from server.errors import BadRequest
from server.runtime import current_runtime
from server.services.access import MANAGE
from server.services.competitions import get_competition
from server.services.datafiles import (
    DataFileInput,
    attach_data_files,
    data_file_path,
    data_file_to_dict,
    get_data_file,
    list_data_files,
)
from server.storage import CHUNK

bp = Blueprint("datafiles", __name__)


@bp.get("/api/v1/competitions/<slug>/data")
def data_files(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        return jsonify({"competition": slug,
                        "files": [data_file_to_dict(f, slug) for f in list_data_files(session, comp)]})


@bp.get("/api/v1/competitions/<slug>/data/<name>")
def data_file(slug: str, name: str) -> Response:
    rt = current_runtime()
    with rt.session() as session:
        row = get_data_file(session, get_competition(session, slug), name)
    mimetype = "text/csv" if name.endswith(".csv") else mimetypes.guess_type(name)[0] or "application/octet-stream"
    # send_file streams the file, answers Range and If-None-Match (304) against the strong ETag.
    response = send_file(data_file_path(rt, row), mimetype=mimetype, as_attachment=True, download_name=name,
                         conditional=True, etag=row.sha256, max_age=None)
    response.headers["X-Content-SHA256"] = row.sha256
    return response


@bp.post("/api/v1/competitions/<slug>/data")
@require(MANAGE)
def post_data_files(slug: str) -> ResponseReturnValue:
    if request.mimetype != "multipart/form-data" or not request.files:
        raise BadRequest("expected multipart/form-data with one or more 'file' fields (the file name is the "
                         f"name participants download); found {request.mimetype or 'no Content-Type'}")
    rt = current_runtime()
    rt.storage.ensure_folders()
    items: list[DataFileInput] = []
    try:
        for upload in request.files.getlist("file"):
            fd, tmp = tempfile.mkstemp(dir=rt.storage.tmp_dir, prefix="attach-")
            items.append(DataFileInput(Path(upload.filename or "").name, Path(tmp)))
            with os.fdopen(fd, "wb") as out:
                while chunk := upload.stream.read(CHUNK):
                    out.write(chunk)
        if not items:
            raise BadRequest(f"expected multipart fields named 'file'; found: {', '.join(request.files)}")
        rows = attach_data_files(rt, slug, items, actor=f"organizer:{current_caller().name}")
    finally:
        for item in items:
            item.path.unlink(missing_ok=True)
    return jsonify({"competition": slug, "files": [data_file_to_dict(r, slug) for r in rows]}), 201
