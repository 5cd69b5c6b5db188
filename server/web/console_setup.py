"""The console's setup pages: a new competition from the browser, and a roster imported from a CSV.

They register on the console blueprint (its guard, CSRF and no-store apply) and call the services
of the API (`POST /api/v1/competitions`, `POST /api/v1/teams/import`), which check everything and
write the action log with the signed-in organizer as the actor. A refusal is shown on the form in
the page's language, naming the field; the new teams' tokens are shown once, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from server.errors import AppError, Text
from server.runtime import current_runtime
from server.services.competition_defaults import PUBLIC_FEEDBACK_MODES
from server.services.competition_files import create_from_files
from server.services.roster import MAX_ROSTER_BYTES, MAX_ROWS, import_roster, tokens_csv
from server.services.teams import MAX_MEMBERS
from server.web.console import actor_of, bp, refusal_text
from server.web.i18n import error_text, problem_text, template_text
from server.web.identity import session_caller

__all__ = ["new_competition", "import_roster_page"]

# The form's text fields, as the API names them; empty means "not given" (the defaults apply).
TEXT_FIELDS = ("slug", "title_ko", "title_en", "timezone", "start", "end", "daily_limit", "total_limit",
               "max_final", "precision", "max_upload_mb", "public_fraction", "public_feedback")
FILE_INPUTS = ("labels", "task_toml", "sample_submission", "data")


def _bundled_tasks() -> list[str]:
    import datasets

    return datasets.task_names()


def field_label(field: str | None) -> str:
    """A form field's label in the page's language (the API's field name when it has none)."""
    labels = {
        "task": lambda: gettext("Bundled task"), "task_toml": lambda: gettext("task.toml"),
        "sample_submission": lambda: gettext("Sample submission"), "labels": lambda: gettext("Hidden labels file"),
        "data": lambda: gettext("Data files"), "slug": lambda: gettext("Slug (address)"),
        "title_ko": lambda: gettext("Title (Korean)"), "title_en": lambda: gettext("Title (English)"),
        "timezone": lambda: gettext("Time zone"), "start": lambda: gettext("Start"), "end": lambda: gettext("End"),
        "daily_limit": lambda: gettext("Daily limit"), "total_limit": lambda: gettext("Total limit (0: none)"),
        "max_final": lambda: gettext("Final submissions per team"), "precision": lambda: gettext("Decimals shown"),
        "max_upload_mb": lambda: gettext("Upload limit (MB)"),
        "public_fraction": lambda: gettext("Public share of rows"),
        "public_feedback": lambda: gettext("Public score feedback"),
    }
    maker = labels.get(field or "")
    return maker() if maker is not None else (field or "")


def _refusal(exc: AppError) -> str:
    """The service's refusal in the page's language: a known code's text, else its message's template."""
    text = refusal_text(exc)
    return error_text(exc) if text == exc.message else text


def _chosen_files(form: Mapping[str, str]) -> dict[str, list[Any]]:
    # A file input left empty still sends a part with no file name: that is "not given". With a
    # bundled task chosen, task files picked before switching are not part of the request.
    names = FILE_INPUTS if form.get("source") == "upload" else ("labels", "data")
    return {name: [f for f in request.files.getlist(name) if f.filename] for name in names}


def _fields(form: Mapping[str, str]) -> dict[str, str]:
    fields = {key: form[key] for key in TEXT_FIELDS if (form.get(key) or "").strip()}
    if form.get("source") != "upload":
        fields["task"] = form.get("task", "")
    return fields


@bp.route("/console/new-competition", methods=["GET", "POST"])
def new_competition() -> ResponseReturnValue:
    rt = current_runtime()
    values: dict[str, str] = {"source": "bundled", "task": "", **{key: "" for key in TEXT_FIELDS}}
    error: dict[str, str] | None = None
    if request.method == "POST":
        values.update({key: request.form.get(key, "") for key in values})
        try:
            comp = create_from_files(rt, _chosen_files(request.form), _fields(request.form), actor=actor_of(session_caller()))
        except AppError as exc:
            field = exc.extra.get("field")
            error = {"field": str(field or ""), "label": field_label(field), "text": _refusal(exc)}
        else:
            flash(gettext("Competition %(slug)s created; the creation is in the action log.", slug=comp.slug), "ok")
            return redirect(url_for("console.competition", slug=comp.slug))
    page = render_template("console/new_competition.html", values=values, error=error, tasks=_bundled_tasks(),
                           feedback_modes=PUBLIC_FEEDBACK_MODES, default_timezone=rt.config["TIMEZONE"],
                           section="new")
    return page, 400 if error else 200


@bp.route("/console/teams/import", methods=["GET", "POST"])
def import_roster_page() -> ResponseReturnValue:
    if request.method == "GET":
        return _roster_form()
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        return _roster_form(gettext("Choose the roster CSV file."))
    data = upload.stream.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:
        return _roster_form(gettext("The roster is larger than %(mb)s MB; split it.", mb=MAX_ROSTER_BYTES // 1_000_000))
    try:
        created = import_roster(current_runtime(), data, actor=actor_of(session_caller()),
                                eligible=request.form.get("eligible") == "yes")
    except AppError as exc:
        problems = exc.extra.get("problems") or []
        if not problems:
            return _roster_form(_refusal(exc))
        return _roster_form(gettext("The roster has problems; no team was created."), [_problem(p) for p in problems])
    return render_template("console/roster_tokens.html", teams=[{**c.team, "token": c.token} for c in created],
                           csv_text=tokens_csv(created), section="teams")


def _problem(problem: Mapping[str, Any]) -> str:
    """A roster problem in the page's language: where (line, column), then what, from its template."""
    message = problem.get("message")
    if isinstance(message, Text):
        message = template_text(message.template, message.params, message)
    return problem_text({**problem, "message": message})


def _roster_form(error: str | None = None, problems: list[str] | None = None) -> ResponseReturnValue:
    page = render_template("console/roster_import.html", error=error, problems=problems or [],
                           max_members=MAX_MEMBERS, max_rows=MAX_ROWS, section="teams")
    return page, 400 if error else 200
