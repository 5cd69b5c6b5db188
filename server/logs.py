"""Logs an operator can collect: one JSON object per line, with the request id and submission id.

`serve` and `worker` call `configure_logging` (format from `LOG_FORMAT`: json, the default, or
text). The request id and submission id live in context variables, so every line logged while a
request or a scoring job runs carries them. What is logged is chosen here and by the request hook
(server/request_log.py): method, URL rule, status, duration — never a header, a query string or
a body, so no token and no score reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["configure_logging", "JsonFormatter", "request_id_var", "submission_id_var", "bind_submission",
           "sane_request_id", "new_request_id", "LOG_FORMATS"]

LOG_FORMATS = ("json", "text")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
submission_id_var: ContextVar[str | None] = ContextVar("submission_id", default=None)

# A proxy's request id is reused when it looks like one (letters, digits, - _ . :, up to 128);
# anything else (a header injection attempt, a token pasted by mistake) is replaced by our own.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

# Fields a log call may add with `extra={...}`; anything else passed in extra is not written.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "competition", "task", "queue", "worker")


def sane_request_id(value: str | None) -> str | None:
    if value and _SANE.fullmatch(value) and not value.startswith("lgh_"):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind_submission(submission_id: str | None) -> None:
    """Name the submission this request or job works on (shown on every following log line)."""
    submission_id_var.set(submission_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id, submission_id = request_id_var.get(), submission_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        if submission_id:
            entry["submission_id"] = submission_id
        for key in EXTRA_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{name}={value}" for name, value in (("request", request_id_var.get()),
                                                       ("submission", submission_id_var.get())) if value]
        return f"{line} [{' '.join(ids)}]" if ids else line


def configure_logging(fmt: str = "json", level: str | int = "INFO") -> None:
    """Send every logger's records to stderr, one line each, in `fmt`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # RQ and gunicorn add their own handlers unless one exists; route them through ours.
    for name in ("rq.worker", "gunicorn.error"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
