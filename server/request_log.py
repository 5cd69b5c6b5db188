"""Per request: the request id (in and out as `X-Request-ID`), one access log line, the duration metric.

The route is the URL rule (`/api/v1/competitions/<slug>/submissions`), never the raw path, so
metrics have few series and no id or name from a URL reaches them.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from server.logs import bind_submission, new_request_id, request_id_var, sane_request_id
from server.metrics import metrics

__all__ = ["init_app", "HEADER"]

HEADER = "X-Request-ID"
log = logging.getLogger("hackathon.access")


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        request_id_var.set(g.request_id)
        bind_submission((request.view_args or {}).get("submission_id"))

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # an error before our hook ran
            return response
        seconds = time.perf_counter() - started
        route, status = _route(), response.status_code
        response.headers[HEADER] = g.request_id
        metrics().http_duration.labels(request.method, route, str(status)).observe(seconds)
        log.info("%s %s %s", request.method, route, status,
                 extra={"method": request.method, "route": route, "status": status,
                        "duration_ms": round(seconds * 1000, 1)})
        return response

    @app.teardown_request
    def _clear(_exc: BaseException | None) -> None:
        request_id_var.set(None)
        bind_submission(None)
