"""Server-rendered pages for the public: competitions and leaderboards (read-only)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from server.caller import ANONYMOUS
from server.runtime import current_runtime
from server.services.access import can_see_private_scores
from server.services.competitions import competition_to_dict, get_competition, list_competitions
from server.services.leaderboard import leaderboard_view

__all__ = ["init_app"]

bp = Blueprint("web", __name__, template_folder="templates", static_folder=None)


@bp.get("/")
def index() -> str:
    rt = current_runtime()
    with rt.session() as session:
        now = rt.now()
        return render_template("index.html", competitions=[competition_to_dict(c, now) for c in list_competitions(session)])


@bp.get("/competitions/<slug>")
def competition(slug: str) -> str:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        public = leaderboard_view(session, comp, ANONYMOUS, "public")
        # Pages are public: the private board appears only once the organizers publish it.
        private = leaderboard_view(session, comp, ANONYMOUS, "private") if can_see_private_scores(ANONYMOUS, comp) else None
        return render_template("competition.html", c=competition_to_dict(comp, rt.now()), public=public,
                               private=private)


def _localtime(value: str | None, tz_name: str) -> str:
    """Show a stored UTC time in the competition's zone."""
    if not value:
        return ""
    from datetime import datetime

    from server.timeutil import zone

    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    app.add_template_filter(_localtime, "localtime")
    app.register_blueprint(bp)
