"""Verify runs in the browser, the same pages for the organizer console and the judges' area: the
list of a competition's runs with a form to start one, and a run's page, whose progress fragment
(`?fragment=1`) static/poll.js re-reads until the run ends, then shows the report.

Everything goes through services.verify_runs (the API's service): it decides who may verify (a
judge once frozen) and that one run at a time is active; starting one is no action-log entry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from server.errors import AppError
from server.runtime import current_runtime
from server.services.competitions import competition_state, get_competition
from server.services.verify_runs import get_verification, list_verifications, start_verification
from server.web.console import refusal_text
from server.web.i18n import template_text
from server.web.identity import session_caller

__all__ = ["add_routes", "runs_page", "start_run", "run_page", "run_status_text", "difference_kind_text",
           "difference_text"]


def add_routes(bp: Blueprint, prefix: str) -> None:
    """The three verify pages on `bp` (the console's or the judges'), under `prefix`; the blueprint's
    name is the area, which picks the layout and the links."""
    area, base = bp.name, f"{prefix}/competitions/<slug>/verifications"

    def verifications(slug: str) -> ResponseReturnValue:
        return runs_page(area, slug)

    def start_verification(slug: str) -> ResponseReturnValue:
        return start_run(area, slug)

    def verification_run(slug: str, verification_id: int) -> ResponseReturnValue:
        return run_page(area, slug, verification_id)

    bp.add_url_rule(base, view_func=verifications, methods=["GET"])
    bp.add_url_rule(base, view_func=start_verification, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:verification_id>", view_func=verification_run, methods=["GET"])


def _endpoint(area: str, name: str) -> str:
    return f"{area}.{name}"


def _context(area: str, slug: str) -> dict[str, Any]:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        session.expunge(comp)
    now = rt.now()
    return {"comp": comp, "state": competition_state(comp, now), "now": now, "section": "verify", "area": area,
            "list_endpoint": _endpoint(area, "verifications"), "run_endpoint": _endpoint(area, "verification_run"),
            "start_endpoint": _endpoint(area, "start_verification"),
            "run_status_text": run_status_text, "kind_text": difference_kind_text,
            "difference_text": difference_text}


def _refusal(exc: AppError) -> str:
    if exc.code == "verification_running":
        return gettext("A verification of this competition is still running; watch it, then start another.")
    return refusal_text(exc)


def runs_page(area: str, slug: str) -> ResponseReturnValue:
    """The runs, newest first, with their time, state and result; or why the caller may not see them."""
    page = _context(area, slug)
    try:
        runs, refusal = list_verifications(current_runtime(), slug, session_caller())["verifications"], None
    except AppError as exc:
        return render_template("console/verifications.html", **page, runs=[], refusal=_refusal(exc)), exc.status
    return render_template("console/verifications.html", **page, runs=runs, refusal=refusal)


def start_run(area: str, slug: str) -> ResponseReturnValue:
    """Queue a run (a read: judges may) and show its page; a refusal is shown on the list."""
    try:
        run = start_verification(current_runtime(), slug, session_caller())
    except AppError as exc:
        flash(_refusal(exc), "error")
        running = exc.extra.get("verification_id")
        if running is not None:
            return redirect(url_for(_endpoint(area, "verification_run"), slug=slug, verification_id=running))
        return redirect(url_for(_endpoint(area, "verifications"), slug=slug))
    flash(gettext("Verification %(id)s started: the workers re-hash and re-score every submission.", id=run["id"]), "ok")
    return redirect(url_for(_endpoint(area, "verification_run"), slug=slug, verification_id=run["id"]))


def run_page(area: str, slug: str, verification_id: int) -> ResponseReturnValue:
    """One run: progress out of N while it works, then its report; `?fragment=1` is the part polled."""
    page = _context(area, slug)
    run = get_verification(current_runtime(), slug, verification_id, session_caller(), with_templates=True)
    template = "console/_verify_run.html" if request.args.get("fragment") else "console/verification.html"
    return render_template(template, **page, run=run)


def run_status_text(status: str) -> str:
    return {"queued": gettext("waiting for a worker"), "running": gettext("running"),
            "done": gettext("done"), "failed": gettext("failed")}.get(status, status)


def difference_kind_text(kind: str) -> str:
    return {"file": gettext("stored file"), "status": gettext("status"), "score": gettext("score"),
            "labels": gettext("labels"), "snapshot": gettext("snapshot"), "board": gettext("board"),
            "log": gettext("action log"), "confidence": gettext("rank confidence")}.get(kind, kind)


def difference_text(difference: dict[str, Any]) -> str:
    """A stored difference's message in the page's language (English when stored without a template)."""
    return template_text(difference.get("template"), difference.get("params"), difference["message"])
