"""The judges' area (/judge/...): read-only. The frozen snapshot (its SHA-256, the canonical JSON,
both boards), the audits and each submission's raw file (the API's download routes, which accept
the page session for reads), the award standings with their reasons.

Judges are read-only here as on the API: the guard refuses every state-changing request of a judge
(403, before any service runs) except starting a verify run (READ_ONLY_WRITES), which only reads
and re-scores; that form carries the CSRF token like every other. Who may read is the access
policy's (services.access) decision.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session

from server.auth import Caller
from server.errors import AppError
from server.models import Competition
from server.runtime import current_runtime
from server.services.access import can_sign_in_to_pages, can_use_judge_area, check_may_change_state, check_snapshot
from server.services.boards import team_names
from server.services.competitions import competition_state, get_competition, list_competitions
from server.services.leaderboard import leaderboard_view
from server.services.snapshot import get_snapshot
from server.services.submissions import list_submissions, submission_to_dict
from server.web import verify_pages
from server.web.console import award_standings, no_store, refusal_text
from server.web.identity import session_caller
from server.web.views import csrf

__all__ = ["bp"]

bp = Blueprint("judge", __name__, template_folder="templates")
bp.after_request(no_store)

# The judge area's only state-changing routes a judge may call: they change no competition state.
READ_ONLY_WRITES = frozenset({"judge.start_verification"})


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    caller = session_caller()
    if not can_use_judge_area(caller):
        if request.method in ("GET", "HEAD"):
            if can_sign_in_to_pages(caller):
                flash(gettext("The judges' area is for judges and organizers: sign in with a judge token."), "error")
            return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))
        abort(403, description=gettext("The judges' area is for judges and organizers: this session cannot use it."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.endpoint not in READ_ONLY_WRITES:
            check_may_change_state(caller)
        csrf.protect()
    return None


def _page(comp: Competition, section: str) -> dict[str, Any]:
    now = current_runtime().now()
    return {"comp": comp, "state": competition_state(comp, now), "now": now, "section": section, "area": "judge"}


@bp.get("/judge/")
def home() -> str:
    rt = current_runtime()
    with rt.session() as session:
        now = rt.now()
        comps = [{"comp": c, "state": competition_state(c, now)} for c in list_competitions(session)]
        return render_template("judge/home.html", competitions=comps, area="judge")


def _panel_snapshot(session: Session, comp: Competition, caller: Caller) -> dict[str, Any]:
    """The snapshot's hash and both boards (the private one only where the policy allows)."""
    snapshot = get_snapshot(session, comp)
    public = leaderboard_view(session, comp, caller, "public")
    try:
        private: dict[str, Any] | None = leaderboard_view(session, comp, caller, "private")
        refusal = None
    except AppError as exc:
        private, refusal = None, refusal_text(exc)
    return {"snapshot": snapshot, "public": public, "private": private, "refusal": refusal}


@bp.get("/judge/competitions/<slug>")
def competition(slug: str) -> str:
    caller = session_caller()
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        return render_template("judge/competition.html", **_page(comp, "snapshot"),
                               **_panel_snapshot(session, comp, caller))


@bp.get("/judge/competitions/<slug>/snapshot.json")
def snapshot_json(slug: str) -> Response:
    """The snapshot's canonical JSON, byte for byte: its SHA-256 is the one published."""
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        check_snapshot(session_caller(), comp)
        snapshot = get_snapshot(session, comp)
        if snapshot is None:
            abort(404)
        response = Response(snapshot.content.encode("utf-8"), mimetype="application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="{comp.slug}-snapshot.json"'
        response.headers["X-Content-SHA256"] = snapshot.sha256
        return response


@bp.get("/judge/competitions/<slug>/submissions")
def submissions(slug: str) -> str:
    caller = session_caller()
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        names = team_names(session)
        rows = [submission_to_dict(s, comp, caller, team_name=names.get(s.team_id, f"#{s.team_id}"), final=None)
                for s in reversed(list_submissions(session, comp, caller))]
        return render_template("judge/submissions.html", **_page(comp, "submissions"), rows=rows)


@bp.get("/judge/competitions/<slug>/award")
def award(slug: str) -> str:
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        standings, refusal = award_standings(session, comp)
        return render_template("console/award.html", **_page(comp, "award"), award=standings, refusal=refusal)


# --- verify runs: the same pages as the console's (server/web/verify_pages.py) ---------------------

verify_pages.add_routes(bp, "/judge")
