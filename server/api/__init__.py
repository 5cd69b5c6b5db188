"""JSON API blueprints, one per audience."""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    from server import auth
    from server.api import (
        console,
        datafiles,
        final,
        metrics,
        openapi,
        organizers,
        public,
        team_tokens,
        teams,
    )

    auth.init_app(app)  # judges are read-only, on every route
    app.register_blueprint(public.bp)
    app.register_blueprint(teams.bp)
    app.register_blueprint(organizers.bp)
    app.register_blueprint(final.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(datafiles.bp)
    app.register_blueprint(team_tokens.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(metrics.bp)
