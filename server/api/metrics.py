"""GET /metrics: Prometheus exposition for operators (keep it network-restricted at the proxy)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from server.errors import Unauthorized
from server.metrics import CONTENT_TYPE, render
from server.runtime import current_runtime

__all__ = ["bp"]

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    rt = current_runtime()
    expected = rt.config.get("METRICS_TOKEN")
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(expected).encode()):
            raise Unauthorized("this server's /metrics needs `Authorization: Bearer <HACKATHON_METRICS_TOKEN>`")
    return Response(render(rt), content_type=CONTENT_TYPE)
