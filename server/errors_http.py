"""The one place errors become HTTP responses: JSON for the API, a short page for the site."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from server.errors import AppError
from server.storage import body_read_error

__all__ = ["init_app"]

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or not request.accept_mimetypes.accept_html


def _respond(status: int, body: dict[str, object]) -> Response | tuple[str, int]:
    if _wants_json():
        response = jsonify(body)
        response.status_code = status
        return response
    return render_template("error.html", status=status, message=body["message"]), status


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError) -> ResponseReturnValue:
        return _respond(exc.status, exc.to_dict())

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> ResponseReturnValue:
        code = (exc.name or "error").lower().replace(" ", "_")
        return _respond(exc.code or 500, {"error": code, "message": exc.description or exc.name})

    @app.errorhandler(Exception)
    def handle_bug(exc: Exception) -> ResponseReturnValue:
        body_error = body_read_error(exc)  # a client that closed early or sent a malformed body
        if body_error is not None:
            return _respond(body_error.status, body_error.to_dict())
        # A bug: log it with its traceback for us, show the caller nothing internal.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, {"error": "internal_error",
                              "message": "internal error; it has been logged. Try again, or tell the organizers."})
