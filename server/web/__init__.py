"""Server-rendered pages for teams and the public, in Korean (default) and English.

Jinja templates, one stylesheet and small JavaScript modules under static/ (no inline script, no
CDN). Forms carry Flask-WTF CSRF tokens; the pages' XHRs send theirs in X-CSRFToken.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from flask_wtf.csrf import generate_csrf

from server.caller import ANONYMOUS, Caller
from server.services.access import can_submit, can_use_console, can_use_judge_area
from server.web import i18n
from server.web.identity import session_caller
from server.web.security import init_security

__all__ = ["init_app"]


def _lang_url(lang: str) -> str:
    """This page in another language (the choice is then kept in the session)."""
    args = request.args.to_dict()
    args["lang"] = lang
    return url_for(request.endpoint or "web.index", **(request.view_args or {}), **args)  # type: ignore[arg-type]


def _team_signed_in(caller: Caller | None) -> bool:
    """A team is signed in (templates show its tabs); the access policy decides."""
    return caller is not None and can_submit(caller)


def _context() -> dict[str, Any]:
    caller = session_caller()
    # The CSRF token (which puts a secret in the session) only where a form or XHR can use it: a
    # signed-in caller's pages (sign-out form, uploads) and the pages that render a form
    # themselves. An anonymous page then sets no cookie and can be shared (web.board_page).
    return {"lang": i18n.current_language(), "signed_in_team": caller, "csrf_token": generate_csrf,
            "csrf_meta": caller != ANONYMOUS,
            "lang_url": _lang_url, "team_signed_in": _team_signed_in,
            "console_signed_in": lambda c: c is not None and can_use_console(c),
            "judge_signed_in": lambda c: c is not None and can_use_judge_area(c)}


def init_app(app: Flask) -> None:
    from server.web import (
        console,
        console_operations,  # noqa: F401  (its routes are on console.bp)
        console_setup,  # noqa: F401  (its routes are on console.bp)
        judge,
    )
    from server.web.views import bp, csrf

    init_security(app)
    i18n.init_i18n(app)
    # Only the pages' forms and XHRs are checked: the JSON API authenticates by bearer token,
    # which a cross-site page cannot send.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.context_processor(_context)
    for name, func in {"localtime": i18n.local_datetime, "localdate": i18n.local_date, "localclock": i18n.local_time,
                       "number": i18n.number, "score": i18n.score, "problem_text": i18n.problem_text}.items():
        app.add_template_filter(func, name)  # type: ignore[arg-type]
    app.register_blueprint(bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(judge.bp)
