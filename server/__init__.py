"""The LG AI Hackathon competition server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app: `hackathon submit` and `score` never load it
    from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Assemble the app: configuration, runtime (database, storage, queue), errors, blueprints."""
    from flask import Flask

    from server import api, errors_http, request_log, web
    from server.config import load_config
    from server.runtime import Runtime

    settings = load_config(config)
    app = Flask(__name__, instance_path=str(settings["HOME"]), instance_relative_config=False)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = None  # uploads are limited per competition, while streaming
    app.config["MAX_FORM_MEMORY_SIZE"] = 1_000_000
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["hackathon"] = Runtime(settings)
    errors_http.init_app(app)
    request_log.init_app(app)
    api.init_app(app)
    web.init_app(app)
    return app
