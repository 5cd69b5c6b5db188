"""Errors of the server and the one place they become HTTP.

AppError                 a problem the caller can fix; carries an HTTP status and a code
├── BadRequest           400 malformed request
├── Unauthorized         401 no or unknown token
├── Forbidden            403 token of the wrong role or team
├── NotFound             404 no such competition, submission, ...
├── Conflict             409 closed, frozen, not yet ended, already exists, ...
├── PayloadTooLarge      413 upload above the competition's limit
└── RateLimited          429 daily/total limit reached; carries resets_at
ConfigError              bad configuration: fails at start, never reaches a request

A message built with `msg(template, **params)` keeps its English template and parameters, so the
one error handler can answer in Korean when the client asks (Accept-Language: ko); the text is
the same English string as before. The templates are gettext msgids (keyword `msg`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "Text", "msg", "AppError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict",
    "PayloadTooLarge", "RateLimited", "ConfigError",
]


class ConfigError(Exception):
    """Configuration that cannot work; raised at start with key, source and expectation."""


class Text(str):
    """English text that remembers the template and parameters it was made from."""

    template: str
    params: dict[str, Any]


def msg(template: str, **params: Any) -> Text:
    """`template % params` (English), translatable later from the template."""
    text = Text(template % params if params else template)
    text.template, text.params = template, params
    return text


class AppError(Exception):
    """A problem the caller can fix; `message` is shown as is."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.template: str | None = message.template if isinstance(message, Text) else None
        self.params: dict[str, Any] = message.params if isinstance(message, Text) else {}
        if code:
            self.code = code
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        for key, value in self.extra.items():
            body[key] = value.isoformat() if isinstance(value, datetime) else value
        return body


class BadRequest(AppError):
    status, code = 400, "bad_request"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class RateLimited(AppError):
    status, code = 429, "rate_limited"
