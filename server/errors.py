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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "AppError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict",
    "PayloadTooLarge", "RateLimited", "ConfigError",
]


class ConfigError(Exception):
    """Configuration that cannot work; raised at start with key, source and expectation."""


class AppError(Exception):
    """A problem the caller can fix; `message` is shown as is."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
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
