"""Console pages for running the competition day to day (routes on the `console` blueprint, so its
guard applies: organizers only, CSRF on every POST, no-store):

- the live queue panel of the dashboard (`/console/queue`, the fragment static/poll.js re-reads);
- one submission: raw file, scores, attempts, history, and re-queueing a failed one behind a
  confirmation page (refused with the service's reason when it is not possible);
- verify runs (server/web/verify_pages.py, shared with the judges' area).

Every rule is the services' (queue_status, submission_console, verify_runs), as for the API.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from server.errors import AppError
from server.runtime import current_runtime
from server.services import console_queries
from server.services.boards import team_names
from server.services.competitions import competition_state
from server.services.queue_status import queue_dashboard
from server.services.submission_console import requeue_failed, requeue_refusal, submission_history
from server.services.submissions import final_flags, get_submission, submission_to_dict
from server.timeutil import zone
from server.web import verify_pages
from server.web.console import actor_of, bp, refusal_text
from server.web.identity import session_caller

__all__ = ["queue_panel", "age_text"]


# --- the live queue panel --------------------------------------------------------------------

def age_text(seconds: float | None) -> str:
    """How long a submission has waited, in the page's language (coarser as it grows)."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 120:
        return gettext("%(n)s s", n=s)
    if s < 7200:
        return gettext("%(m)s min %(s)s s", m=s // 60, s=s % 60)
    return gettext("%(h)s h %(m)s min", h=s // 3600, m=s % 3600 // 60)


def queue_panel() -> dict[str, Any]:
    """The panel's data: services.queue_status's dashboard, times in the instance's zone."""
    rt = current_runtime()
    queue = queue_dashboard(rt)
    updated = rt.now().astimezone(zone(rt.config["TIMEZONE"])).strftime("%H:%M:%S")
    return {"queue": queue, "queue_tz": rt.config["TIMEZONE"], "age_text": age_text, "updated": updated}


@bp.context_processor
def _queue_panel_for_templates() -> dict[str, Any]:
    # The dashboard (console.py) includes the panel; it asks for the data only when it is shown.
    return {"queue_panel": queue_panel}


@bp.get("/console/queue")
def queue() -> str:
    """The dashboard's live part alone (the competitions' counts and the queue panel), re-read
    every few seconds by static/poll.js."""
    rt = current_runtime()
    with rt.session() as session:
        competitions = console_queries.competitions_overview(session, rt.now())
        for item in competitions:
            session.expunge(item["comp"])
    return render_template("console/_queue_fragment.html", **queue_panel(), competitions=competitions,
                           statuses=console_queries.STATUS_ORDER)


# --- one submission --------------------------------------------------------------------------

def _refusal(exc: AppError) -> str:
    if exc.code == "not_failed":
        return gettext("Only a failed submission (scoring failed on the server's side) can be queued again; "
                       "a scored or rejected one is rescored with the whole competition.")
    if exc.code == "frozen":
        return gettext("The competition is frozen: its submissions can no longer be scored again.")
    return refusal_text(exc)


def _rescore_refusal_text(sub: Any, comp: Any) -> str | None:
    refusal = requeue_refusal(sub, comp)
    return None if refusal is None else _refusal(refusal)


def _submission_page(submission_id: str) -> dict[str, Any]:
    caller = session_caller()
    rt = current_runtime()
    with rt.session() as session:
        sub, comp = get_submission(session, submission_id, caller)
        team = team_names(session).get(sub.team_id, f"#{sub.team_id}")
        body = submission_to_dict(sub, comp, caller, team_name=team, final=final_flags(session, comp, sub.team_id).get(sub.id))
        history = submission_history(session, sub.id, caller)
        refusal = _rescore_refusal_text(sub, comp)
        session.expunge(comp)
    now = rt.now()
    return {"comp": comp, "state": competition_state(comp, now), "now": now, "section": "submissions",
            "s": body, "history": history, "rescore_refusal": refusal}


@bp.get("/console/submissions/<submission_id>")
def submission(submission_id: str) -> str:
    return render_template("console/submission.html", **_submission_page(submission_id))


@bp.route("/console/submissions/<submission_id>/rescore", methods=["GET", "POST"])
def rescore(submission_id: str) -> ResponseReturnValue:
    """GET: what re-queueing would do (or why it cannot); POST: do it, as the API's route does."""
    if request.method == "POST":
        try:
            requeue_failed(current_runtime(), submission_id, session_caller(), actor=actor_of(session_caller()))
        except AppError as exc:
            page = _submission_page(submission_id)
            return render_template("console/confirm_rescore.html", **{**page, "rescore_refusal": _refusal(exc)}), 409
        flash(gettext("Queued again: the workers score it with fresh attempts; the failure stays in its history."), "ok")
        return redirect(url_for("console.submission", submission_id=submission_id))
    page = _submission_page(submission_id)
    return render_template("console/confirm_rescore.html", **page), 409 if page["rescore_refusal"] else 200


# --- verify runs: the same pages as the judges' (server/web/verify_pages.py) ---------------------

verify_pages.add_routes(bp, "/console")
