"""The pages: home, a competition's tabs, team sign-in, upload, final picks.

Views read through the same services as the API and decide nothing themselves: limits, final
selection and who may see a private score are the services' (services.access) rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField
from wtforms.validators import InputRequired

from server.auth import Caller
from server.errors import AppError
from server.models import Competition
from server.runtime import current_runtime
from server.services import board_cache
from server.services.access import can_see_private_scores, can_see_public_scores, can_submit
from server.services.board_cache import public_board_cached
from server.services.boards import team_ids_named
from server.services.competitions import competition_state, competition_task, get_competition, list_competitions
from server.services.datafiles import data_file_to_dict, list_data_files, sample_submission_rows
from server.services.leaderboard import leaderboard_view
from server.services.progress import best_score_history
from server.services.selection import get_selection, selection_open, set_selection
from server.services.submissions import (
    MULTIPART_SLACK,
    accept_submission,
    check_declared_size,
    final_flags,
    get_submission,
    list_submissions,
    quota_today,
    submission_to_dict,
)
from server.timeutil import local_day_bounds
from server.web import board_page, pages
from server.web.i18n import current_language, error_text, local_datetime
from server.web.identity import session_caller, sign_in, sign_out
from server.web.markup import render_markdown

__all__ = ["bp"]

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

CHART_TEAMS = 5

csrf = CSRFProtect()


@bp.before_request
def _check_csrf() -> None:
    """Every form and XHR of the pages carries the CSRF token (XHRs in X-CSRFToken)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


class SignInForm(FlaskForm):
    token = PasswordField("token", validators=[InputRequired()])


def _team() -> Caller:
    """The signed-in team, or a redirect to the sign-in form."""
    caller = session_caller()
    if not can_submit(caller):
        abort(redirect(url_for("web.signin", next=request.full_path.rstrip("?"))))
    return caller


def _comp_context(session: Any, comp: Competition, tab: str) -> dict[str, Any]:
    rt = current_runtime()
    now = rt.now()
    caller = session_caller()
    return {"comp": comp, "state": competition_state(comp, now), "tab": tab, "caller": caller,
            "now": now, "task": competition_task(rt, comp)}


@bp.get("/")
def index() -> str:
    rt = current_runtime()
    with rt.session() as session:
        now = rt.now()
        comps = [{"comp": c, "state": competition_state(c, now)} for c in list_competitions(session)]
        return render_template("index.html", competitions=comps, now=now)


@bp.get("/competitions/<slug>")
def overview(slug: str) -> str:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        ctx = _comp_context(session, comp, "overview")
        task = ctx["task"]
        return render_template(
            "competition/overview.html", **ctx,
            description_ko=render_markdown(task.description_ko), description_en=render_markdown(task.description_en),
            metric=pages.metric_formula(task),
            # The competition's own sample submission, else the bundled dataset's, else placeholders.
            example=pages.submission_example(task, sample_submission_rows(rt, session, comp, task.columns)))


@bp.get("/competitions/<slug>/data")
def data(slug: str) -> str:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        return render_template("competition/data.html", **_comp_context(session, comp, "data"),
                               files=[data_file_to_dict(f, comp.slug) for f in list_data_files(session, comp)])


@bp.get("/competitions/<slug>/rules")
def rules(slug: str) -> str:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        ctx = _comp_context(session, comp, "rules")
        return render_template("competition/rules.html", **ctx,
                               resets_at=local_day_bounds(ctx["now"], comp.timezone)[1])


@bp.get("/competitions/<slug>/leaderboard")
def leaderboard(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        caller = session_caller()
        cached = public_board_cached(rt, session, comp)
        if not board_page.shareable(caller, comp):  # signed in (own row, sign-out form) or private board
            return _render_leaderboard(rt, session, comp, cached)
        # Every anonymous visitor of this URL and language gets the same bytes (server.web.board_page).
        key = board_page.page_key(cached.etag, comp, current_language(), rt.now())
        etag = board_page.etag_of(key)
        if board_page.not_modified(etag):
            return board_page.respond(etag, None)
        return board_page.respond(etag, board_page.shared_page(
            rt, key, etag, lambda: _render_leaderboard(rt, session, comp, cached)))


def _render_leaderboard(rt: Any, session: Any, comp: Competition, cached: board_cache.PublicBoard) -> str:
    ctx = _comp_context(session, comp, "leaderboard")
    caller = ctx["caller"]
    public = cached.view
    private = leaderboard_view(session, comp, caller, "private") if can_see_private_scores(caller, comp) else None
    board = private if private is not None else public
    mine = caller.name if can_submit(caller) else None
    try:
        number = int(request.args.get("page", "0"))
    except ValueError:
        number = 0
    page = pages.paginate(board["entries"], number or pages.page_of(board["entries"], mine))
    if private is None:  # the public page's rows, formatted once per board, language and page
        rows = board_cache.cached(rt, ("rows", cached.etag, comp.timezone, current_language(), page.number),
                                  lambda: pages.board_rows(page.entries, comp.precision, comp.timezone))
    else:
        rows = pages.board_rows(page.entries, comp.precision, comp.timezone)
    # Ladder mode: those who may not see each submission's public score see Ladder steps.
    ladder = not can_see_public_scores(caller, comp)
    history = board_cache.cached(rt, ("chart", cached.etag, ladder),
                                 lambda: _top_history(session, comp, public, ladder))
    chart = pages.chart(history, comp.greater_is_better, comp.start_at, min(ctx["now"], comp.end_at))
    return render_template("competition/leaderboard.html", **ctx, board=board, private=private is not None,
                           page=page, rows=rows, mine=mine, chart=chart)


def _top_history(session: Any, comp: Competition, public: dict[str, Any], ladder: bool) -> list[dict[str, Any]]:
    """The best-score steps of the public board's top teams (kept with the board: it changes with it)."""
    names = [e["team"] for e in public["entries"][:CHART_TEAMS]]
    ids = {name: team_id for team_id, name in team_ids_named(session, names).items()}
    top = {ids[name]: name for name in names if name in ids}
    return best_score_history(session, comp, top, until=comp.frozen_at, ladder=ladder)


@bp.get("/competitions/<slug>/submit")
def submit(slug: str) -> str:
    caller = _team()
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        ctx = _comp_context(session, comp, "submit")
        assert caller.team_id is not None
        quota = quota_today(session, comp, caller.team_id, ctx["now"])
        remaining = max(comp.daily_limit - quota.counted, 0)
        return render_template("competition/submit.html", **ctx, remaining=remaining, resets_at=quota.resets_at,
                               recent=_rows(session, comp, caller)[:5],
                               code=pages.code_rules(ctx["task"], comp.max_upload_bytes))


def _rows(session: Any, comp: Competition, caller: Caller) -> list[dict[str, Any]]:
    flags = final_flags(session, comp, caller.team_id)
    subs = list_submissions(session, comp, caller)
    return [submission_to_dict(s, comp, caller, team_name=caller.name, final=flags.get(s.id)) for s in reversed(subs)]


@bp.post("/competitions/<slug>/upload")
def upload(slug: str) -> ResponseReturnValue:
    """The submit page's XHR: the same service as the API's upload; answers JSON like it."""
    caller = session_caller()
    if not can_submit(caller):
        return jsonify({"error": "unauthorized", "message": gettext("Sign in with your team token first.")}), 401
    rt = current_runtime()
    try:
        # Refused by its declared size before Werkzeug spools the form to disk.
        check_declared_size(rt, slug, request.content_length, MULTIPART_SLACK)
        file = request.files.get("file")
        if file is None or not file.filename:
            return jsonify({"error": "bad_request", "message": gettext("Choose a CSV file to submit.")}), 400
        accepted = accept_submission(rt, caller, slug, file.stream, filename=file.filename,
                                     note=request.form.get("note") or None, content_length=None)
    except AppError as exc:
        body = exc.to_dict()
        body["message"] = _localized_error(exc)
        return jsonify(body), exc.status
    with rt.session() as session:
        comp = get_competition(session, slug)
        body = submission_to_dict(accepted.submission, comp, caller, team_name=caller.name, final=None)
    body["remaining_today"] = accepted.remaining_today
    body["row_url"] = url_for("web.submission_row", slug=slug, submission_id=body["id"])
    return jsonify(body), 202


def _localized_error(exc: AppError) -> str:
    """The upload's refusals in the page's language (their English text from the service otherwise)."""
    rt = current_runtime()
    resets = exc.extra.get("resets_at")
    with rt.session() as session:
        comp = get_competition(session, request.view_args["slug"]) if request.view_args else None
    tz = comp.timezone if comp is not None else "Asia/Seoul"
    texts = {
        "rate_limited": gettext("Your team cannot submit more files today; the count resets at %(time)s.",
                                time=local_datetime(resets, tz)) if resets else None,
        "total_limit": gettext("Your team has used all submissions of this competition."),
        "closed": gettext("This competition no longer accepts submissions."),
        "not_open": gettext("This competition has not opened yet."),
        "payload_too_large": gettext("The file is larger than this competition's limit; compress it with gzip."),
    }
    return texts.get(exc.code) or error_text(exc)


@bp.get("/competitions/<slug>/submissions/<submission_id>/row")
def submission_row(slug: str, submission_id: str) -> str:
    """One submission as a table row in the page's language (the submit page swaps it in)."""
    caller = _team()
    rt = current_runtime()
    with rt.session() as session:
        sub, comp = get_submission(session, submission_id, caller)
        if comp.slug != slug:
            abort(404)
        flags = final_flags(session, comp, caller.team_id)
        row = submission_to_dict(sub, comp, caller, team_name=caller.name, final=flags.get(sub.id))
        return render_template("competition/_submission_row.html", s=row, comp=comp, selectable=False)


@bp.get("/competitions/<slug>/submissions")
def submissions(slug: str) -> str:
    caller = _team()
    rt = current_runtime()
    with rt.session() as session:
        comp = get_competition(session, slug)
        ctx = _comp_context(session, comp, "submissions")
        assert caller.team_id is not None
        selection = get_selection(session, comp, caller.team_id)
        quota = quota_today(session, comp, caller.team_id, ctx["now"])
        editable = selection_open(comp, ctx["now"])
        return render_template("competition/submissions.html", **ctx, rows=_rows(session, comp, caller),
                               selection=selection, editable=editable,
                               remaining=max(comp.daily_limit - quota.counted, 0), resets_at=quota.resets_at)


@bp.post("/competitions/<slug>/finals")
def finals(slug: str) -> Response:
    caller = _team()
    assert caller.team_id is not None
    ids = request.form.getlist("submission_ids")
    try:
        set_selection(current_runtime(), slug, caller.team_id, ids)
    except AppError as exc:
        # The service's refusals carry their numbers, so the page can say them in its language.
        if "max_final" in exc.extra:
            flash(gettext("Choose at most %(n)s final submissions.", n=exc.extra["max_final"]), "error")
        elif "closed_at" in exc.extra:
            flash(gettext("Final choices are closed."), "error")
        else:
            flash(exc.message, "error")
    else:
        flash(gettext("Final submissions saved.") if ids else
              gettext("No final submissions chosen: the automatic rule applies."), "ok")
    return redirect(url_for("web.submissions", slug=slug))  # type: ignore[return-value]


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    form = SignInForm()
    target = request.args.get("next") or url_for("web.index")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("web.index")  # only this site's pages
    error = None
    if form.validate_on_submit():
        caller = sign_in(form.token.data or "")
        if caller is not None:
            flash(gettext("Signed in as %(team)s.", team=caller.name), "ok")
            return redirect(target)
        error = gettext("This token is unknown or has been revoked. Check it, or ask the organizers to reissue "
                        "your team's token.")
    elif request.method == "POST":
        error = gettext("Enter your team token.")
    status = 401 if error else 200
    return render_template("signin.html", form=form, error=error, target=target), status


@bp.post("/signout")
def signout() -> Response:
    sign_out()
    return redirect(url_for("web.index"))  # type: ignore[return-value]


def _countdown_target(comp: Competition, now: datetime) -> datetime | None:
    state = competition_state(comp, now)
    return comp.start_at if state == "upcoming" else comp.end_at if state == "open" else None


bp.add_app_template_global(_countdown_target, "countdown_target")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """No icon; answered so browsers opening a non-page URL do not log a 404."""
    return Response(status=204)
