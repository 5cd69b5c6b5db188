"""The one place errors become HTTP responses: JSON for the API, a short page for the site."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from server.errors import AppError
from server.services.auth_throttle import note_failed_authentication
from server.storage import body_read_error
from server.web.i18n import current_language, error_text

__all__ = ["init_app"]

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or not request.accept_mimetypes.accept_html


def _error_body(exc: AppError) -> dict[str, object]:
    body = exc.to_dict()
    body["message"] = error_text(exc)
    return body


# Werkzeug's own texts for the HTTP errors a caller meets most (an unknown URL, a wrong method),
# written out so the catalogs carry them; other HTTP errors keep Werkzeug's English.
def _http_texts() -> dict[int, str]:
    return {
        404: gettext("The requested URL was not found on the server. If you entered the URL manually please "
                     "check your spelling and try again."),
        405: gettext("The method is not allowed for the requested URL."),
    }


def _http_message(exc: HTTPException) -> str:
    description = exc.description or exc.name
    if current_language() != "en" and exc.code in (404, 405) and description == type(exc).description:
        return _http_texts()[exc.code]
    return description


def _respond(status: int, body: dict[str, object]) -> Response | tuple[str, int]:
    if _wants_json():
        response = jsonify(body)
        response.status_code = status
        return response
    from server.web.i18n import error_title

    title = error_title(str(body.get("error") or ""), status)
    return render_template("error.html", status=status, title=title, message=body["message"]), status


# Ids are 64-bit in the database: a larger number in a URL names nothing (404), instead of
# reaching the driver as an overflow.
MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _refuse_nul() -> ResponseReturnValue | None:
    # PostgreSQL text cannot hold NUL; no name, id or note of ours contains one.
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        return _respond(400, {"error": "bad_request",
                              "message": gettext("the URL contains a NUL character (%(nul)s); expected printable text",
                                                 nul="%00")})
    return None


def _unstorable_value(exc: Exception) -> bool:
    """A value the database refused by its type: NUL in text, an integer out of range."""
    if isinstance(exc, sa.exc.DataError):
        return True
    if isinstance(exc, sa.exc.StatementError):
        return isinstance(exc.orig, (ValueError, OverflowError))
    return isinstance(exc, OverflowError)


def init_app(app: Flask) -> None:
    """Register the error handlers; call before any blueprint (the int converter applies to routes added later)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_refuse_nul)

    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError) -> ResponseReturnValue:
        if exc.status == 401 and request.headers.get("Authorization"):
            throttled = note_failed_authentication(app.extensions["hackathon"], request.remote_addr)
            if throttled is not None:
                response = make_response(_respond(throttled.status, _error_body(throttled)))
                response.headers["Retry-After"] = str(throttled.extra["retry_after"])
                return response
        return _respond(exc.status, _error_body(exc))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> ResponseReturnValue:
        code = (exc.name or "error").lower().replace(" ", "_")
        return _respond(exc.code or 500, {"error": code, "message": _http_message(exc)})

    @app.errorhandler(Exception)
    def handle_bug(exc: Exception) -> ResponseReturnValue:
        body_error = body_read_error(exc)  # a client that closed early or sent a malformed body
        if body_error is not None:
            return _respond(body_error.status, _error_body(body_error))
        if _unstorable_value(exc):
            log.warning("refused an unstorable value on %s %s: %s", request.method, request.path, type(exc).__name__)
            return _respond(400, {"error": "bad_request",
                                  "message": gettext("a value in the request cannot be stored: text with a NUL "
                                                     "character or a number out of range; expected printable text "
                                                     "and ids below 2^63")})
        # A bug: log it with its traceback for us, show the caller nothing internal.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, {"error": "internal_error",
                              "message": gettext("internal error; it has been logged. Try again, or tell the "
                                                 "organizers.")})
