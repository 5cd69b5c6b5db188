"""The organizer console (/console/...) and the sign-in form of organizers and judges.

Every page reads through the services, every form calls the same service as the API route, and
each action is recorded by that service in the hash-chained action log with the signed-in token's
name as the actor. Who may use a page is the access policy's (services.access) decision, taken
once for the whole blueprint before any view runs: a judge's request, read or write, answers 403
and reaches no service. One function per panel (`_panel_*`), so richer services can be plugged in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import PasswordField
from wtforms.validators import InputRequired

from server.auth import Caller
from server.errors import AppError
from server.models import Competition
from server.runtime import current_runtime
from server.services import console_queries
from server.services.access import can_sign_in_to_console, can_sign_in_to_pages, can_use_console
from server.services.award import STATES, award_view, set_eligibility, set_verification
from server.services.boards import team_names
from server.services.competitions import (
    CompetitionSettings,
    competition_state,
    get_competition,
    list_competitions,
    update_competition,
)
from server.services.freeze import freeze, publish
from server.services.leaderboard import leaderboard_view
from server.services.snapshot import get_snapshot
from server.services.submission_console import FILTERS, SubmissionFilter, read_filters
from server.services.submission_console import STATUSES as FILTER_STATUSES
from server.services.submissions import final_flags, list_submissions, submission_to_dict
from server.services.team_tokens import list_teams, reissue_team_token, revoke_team_token
from server.services.teams import MAX_MEMBERS, create_team
from server.timeutil import zone
from server.web.identity import session_caller, sign_in
from server.web.views import csrf

__all__ = ["bp", "actor_of", "award_standings", "refusal_text", "no_store"]

bp = Blueprint("console", __name__, template_folder="templates")

LOG_ENTRIES = 200


def actor_of(caller: Caller) -> str:
    """The action log's actor for a console action: as the API writes it."""
    return f"organizer:{caller.name}"


def no_store(response: Response) -> Response:
    # Personal pages (tokens shown once, private scores): never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


bp.after_request(no_store)


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    """The console is the organizers': others are sent to sign in (the public) or refused (403)."""
    if request.endpoint == "console.signin":
        if request.method == "POST":
            csrf.protect()
        return None
    caller = session_caller()
    if not can_use_console(caller):
        if request.method in ("GET", "HEAD"):  # a read: offer the sign-in (nothing is shown)
            if can_sign_in_to_pages(caller):
                flash(gettext("The organizer console is for organizers: sign in with an organizer token."), "error")
            return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))
        # A judge or a team: refused before anything is read, changed or logged.
        abort(403, description=gettext("The organizer console is for organizers: this session cannot use it."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


def _caller() -> Caller:
    return session_caller()


# --- sign-in ---------------------------------------------------------------------------------

class StaffSignInForm(FlaskForm):
    token = PasswordField("token", validators=[InputRequired()])


@bp.route("/console/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    form = StaffSignInForm()
    target = request.args.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = ""  # only this site's pages
    error = None
    if form.validate_on_submit():
        caller = sign_in(form.token.data or "", admits=can_sign_in_to_console)
        if caller is not None:
            flash(gettext("Signed in as %(name)s.", name=caller.name), "ok")
            home = url_for("console.dashboard") if can_use_console(caller) else url_for("judge.home")
            return redirect(target or home)
        error = gettext("This organizer or judge token is unknown or has been revoked.")
    elif request.method == "POST":
        error = gettext("Enter your organizer or judge token.")
    return render_template("console/signin.html", form=form, error=error, target=target), 401 if error else 200


# --- dashboard -------------------------------------------------------------------------------

def _panel_competitions(session: Session, now: datetime) -> list[dict[str, Any]]:
    return console_queries.competitions_overview(session, now)


@bp.get("/console/")
def dashboard() -> str:
    rt = current_runtime()
    with rt.session() as session:
        now = rt.now()
        return render_template("console/dashboard.html", competitions=_panel_competitions(session, now),
                               statuses=console_queries.STATUS_ORDER, teams=console_queries.team_count(session),
                               now=now, section="dashboard")


# --- a competition: schedule and limits ------------------------------------------------------

def _local_input(moment: datetime, tz_name: str) -> str:
    """A stored UTC time as a datetime-local field's value in the competition's zone."""
    return moment.astimezone(zone(tz_name)).strftime("%Y-%m-%dT%H:%M")


def _settings_values(comp: Competition) -> dict[str, Any]:
    return {"start": _local_input(comp.start_at, comp.timezone), "end": _local_input(comp.end_at, comp.timezone),
            "daily_limit": comp.daily_limit, "total_limit": comp.total_limit or 0, "max_final": comp.max_final,
            "precision": comp.precision, "max_upload_mb": comp.max_upload_bytes / 1_000_000,
            "title_ko": comp.title_ko, "title_en": comp.title_en}


INT_FIELDS = ("daily_limit", "total_limit", "max_final", "precision")


def _settings_from_form(form: Any) -> CompetitionSettings:
    """The form's text as settings; a number field that is not a number is named in the error."""
    values: dict[str, Any] = {}
    for key in ("start", "end", "title_ko", "title_en"):
        text = (form.get(key) or "").strip()
        values[key] = text or None
    for key in (*INT_FIELDS, "max_upload_mb"):
        text = (form.get(key) or "").strip()
        if not text:
            continue
        try:
            values[key] = int(text) if key in INT_FIELDS else float(text)
        except ValueError:
            raise _FormError(gettext("%(field)s must be a whole number, found %(value)s", field=key, value=text[:40])
                             if key in INT_FIELDS else
                             gettext("%(field)s must be a number, found %(value)s", field=key, value=text[:40])) from None
    return CompetitionSettings(**values)


class _FormError(Exception):
    pass


def _comp_page(session: Session, comp: Competition, section: str) -> dict[str, Any]:
    now = current_runtime().now()
    return {"comp": comp, "state": competition_state(comp, now), "now": now, "section": section}


@bp.route("/console/competitions/<slug>", methods=["GET", "POST"])
def competition(slug: str) -> ResponseReturnValue:
    rt = current_runtime()
    error, values, status = None, None, 200
    if request.method == "POST":
        try:
            update_competition(rt, slug, _settings_from_form(request.form), actor=actor_of(_caller()))
        except (_FormError, AppError) as exc:
            error, values, status = str(exc) if isinstance(exc, _FormError) else refusal_text(exc), \
                request.form.to_dict(), 400
        else:
            flash(gettext("Settings saved; the change is in the action log."), "ok")
            return redirect(url_for("console.competition", slug=slug))
    with rt.session() as session:
        comp = get_competition(session, slug)
        return render_template("console/competition.html", **_comp_page(session, comp, "settings"),
                               values=values or _settings_values(comp), error=error), status


# --- teams -----------------------------------------------------------------------------------

def _panel_teams(session: Session, query: str) -> list[dict[str, Any]]:
    """Teams matching the search (id, name or a member's name), as list_teams describes them."""
    counts = console_queries.submissions_by_team(session)
    teams = [{**t, "submissions": counts.get(int(t["id"]), 0)} for t in list_teams(session)]  # type: ignore[call-overload]
    q = query.strip().casefold()
    if not q:
        return teams
    return [t for t in teams if q == str(t["id"]) or q in str(t["name"]).casefold()
            or any(q in str(m).casefold() for m in t["members"])]  # type: ignore[attr-defined]


@bp.get("/console/teams")
def teams() -> str:
    query = request.args.get("q", "")[:100]
    with current_runtime().session() as session:
        return render_template("console/teams.html", teams=_panel_teams(session, query), q=query,
                               max_members=MAX_MEMBERS, section="teams")


@bp.post("/console/teams")
def create_team_page() -> ResponseReturnValue:
    name = request.form.get("name", "")
    members = [m.strip() for m in request.form.get("members", "").replace(",", "\n").splitlines() if m.strip()]
    try:
        created = create_team(current_runtime(), name, actor=actor_of(_caller()), members=members,
                              eligible=request.form.get("eligible") == "yes")
    except AppError as exc:
        flash(gettext("The team was not created: %(reason)s", reason=refusal_text(exc)), "error")
        return redirect(url_for("console.teams"))
    return render_template("console/token.html", team_name=created.team.name, team_id=created.team.id,
                           token=created.token, section="teams")


@bp.post("/console/teams/<int:team_id>/token")
def team_token(team_id: int) -> ResponseReturnValue:
    """Reissue or revoke a team's token: first a confirmation page, then the action."""
    action = request.form.get("action")
    if action not in ("reissue", "revoke"):
        abort(400, description=gettext("Choose to reissue or to revoke the token."))
    rt = current_runtime()
    if request.form.get("confirmed") != "yes":
        with rt.session() as session:
            team = next((t for t in list_teams(session) if t["id"] == team_id), None)
            if team is None:
                abort(404)
            return render_template("console/confirm_token.html", team=team, action=action, section="teams")
    try:
        if action == "reissue":
            issued = reissue_team_token(rt, team_id, actor=actor_of(_caller()))
            return render_template("console/token.html", team_name=issued.team["name"], team_id=team_id,
                                   token=issued.token, section="teams")
        revoked = revoke_team_token(rt, team_id, actor=actor_of(_caller()))
    except AppError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(gettext("The token of %(team)s is revoked; it can no longer sign in or submit.",
                      team=revoked.team["name"]), "ok")
    return redirect(url_for("console.teams"))


@bp.post("/console/teams/<int:team_id>/eligibility")
def eligibility(team_id: int) -> ResponseReturnValue:
    try:
        set_eligibility(current_runtime(), team_id, request.form.get("eligible") == "yes",
                        request.form.get("reason") or None, actor=actor_of(_caller()))
    except AppError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(gettext("Eligibility saved."), "ok")
    return redirect(url_for("console.teams", q=request.form.get("q") or None))


# --- submissions -----------------------------------------------------------------------------

def _panel_submissions(session: Session, comp: Competition, caller: Caller,
                       filters: SubmissionFilter | None = None) -> list[dict[str, Any]]:
    names = team_names(session)
    flags = final_flags(session, comp)
    return [submission_to_dict(s, comp, caller, team_name=names.get(s.team_id, f"#{s.team_id}"), final=flags.get(s.id))
            for s in reversed(list_submissions(session, comp, caller, filters))]


def _filter_error(exc: AppError, args: dict[str, str]) -> str:
    """read_filters' refusal in the page's language, naming what was typed."""
    field = exc.extra.get("field", "")
    if field == "team":
        return gettext("No team has the id or exact name %(value)s; the teams page finds it.", value=args["team"])
    if field == "status":
        return gettext("Unknown status %(value)s.", value=args["status"])
    if field in ("since", "until"):
        try:
            datetime.fromisoformat(args[field])
        except ValueError:
            pass
        else:  # a valid time refused: the period is the wrong way round
            return gettext("The end of the period must be after its start.")
        return gettext("%(field)s must be a date and time such as 2026-08-01T10:00, found %(value)s",
                       field=gettext("From") if field == "since" else gettext("To"), value=args[field])
    return refusal_text(exc)


@bp.get("/console/competitions/<slug>/submissions")
def submissions(slug: str) -> ResponseReturnValue:
    """The list, narrowed by the GET form's filters (team, status, from/to in the competition's zone)."""
    args = {key: (request.args.get(key) or "").strip()[:100] for key in FILTERS}
    args["status"] = ",".join(s.strip() for s in request.args.getlist("status") if s.strip())[:100]
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        try:
            filters, error = read_filters(session, comp, _caller(), args), None
        except AppError as exc:
            filters, error = None, _filter_error(exc, args)
        rows = _panel_submissions(session, comp, _caller(), filters) if error is None else []
        return render_template("console/submissions.html", **_comp_page(session, comp, "submissions"),
                               rows=rows, filters=args, filter_error=error, statuses=FILTER_STATUSES), \
            400 if error else 200


# --- final standings -------------------------------------------------------------------------

def _panel_final(session: Session, comp: Competition, caller: Caller) -> dict[str, Any]:
    """What the final-standings page shows: the snapshot, the private board, who is verified."""
    snapshot = get_snapshot(session, comp)
    board = leaderboard_view(session, comp, caller, "private")
    try:
        award: dict[str, Any] | None = award_view(session, comp, caller)
    except AppError:
        award = None  # not frozen: nothing to verify yet
    checks: dict[str, dict[str, Any]] = {}  # by team name, as the board names teams
    if award is not None:
        for group in ("standings", "disqualified", "pending", "not_eligible"):
            for item in award[group]:
                checks[item["team"]] = item
    return {"snapshot": snapshot, "board": board, "award": award, "checks": checks,
            "pending": console_queries.pending_before_end(session, comp)}


@bp.get("/console/competitions/<slug>/final")
def final(slug: str) -> str:
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        return render_template("console/final.html", **_comp_page(session, comp, "final"),
                               **_panel_final(session, comp, _caller()), states=STATES)


def _panel_freeze_preview(session: Session, comp: Competition, caller: Caller) -> dict[str, Any]:
    """What a freeze (or publish) would do: pending submissions, teams, the board it would store."""
    board = leaderboard_view(session, comp, caller, "private")
    return {"pending": console_queries.pending_before_end(session, comp), "board": board,
            "teams": len(board["entries"]), "snapshot": get_snapshot(session, comp)}


def _confirm_final(slug: str, step: str, refusal: str | None = None) -> ResponseReturnValue:
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        page = render_template("console/confirm_final.html", **_comp_page(session, comp, "final"),
                               **_panel_freeze_preview(session, comp, _caller()), step=step, refusal=refusal)
    return page, 409 if refusal else 200


@bp.route("/console/competitions/<slug>/freeze", methods=["GET", "POST"])
def freeze_page(slug: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _confirm_final(slug, "freeze")
    try:
        summary = freeze(current_runtime(), slug, actor_of(_caller()))
    except AppError as exc:
        return _confirm_final(slug, "freeze", refusal_text(exc))
    flash(gettext("Frozen. Snapshot SHA-256: %(sha)s", sha=summary["sha256"]), "ok")
    return redirect(url_for("console.final", slug=slug))


@bp.route("/console/competitions/<slug>/publish", methods=["GET", "POST"])
def publish_page(slug: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _confirm_final(slug, "publish")
    try:
        publish(current_runtime(), slug, actor_of(_caller()))
    except AppError as exc:
        return _confirm_final(slug, "publish", refusal_text(exc))
    flash(gettext("Published: the private leaderboard is now public."), "ok")
    return redirect(url_for("console.final", slug=slug))


@bp.post("/console/competitions/<slug>/verification")
def verification(slug: str) -> ResponseReturnValue:
    """Record a team's code verification; a disqualification asks for confirmation first."""
    form = request.form
    state, reason = form.get("state"), (form.get("reason") or "").strip() or None
    try:
        team_id = int(form.get("team_id", ""))
    except ValueError:
        abort(400, description=gettext("Choose a team."))
    if state == "disqualified" and reason and form.get("confirmed") != "yes":
        with current_runtime().session() as session:
            comp = get_competition(session, slug)
            return render_template("console/confirm_disqualify.html", **_comp_page(session, comp, "final"),
                                   team_id=team_id, team=team_names(session).get(team_id, f"#{team_id}"),
                                   reason=reason)
    try:
        done = set_verification(current_runtime(), slug, team_id, state, reason, actor=actor_of(_caller()))
    except AppError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(gettext("%(team)s: %(state)s recorded.", team=done["team"], state=state_text(done["state"])), "ok")
    return redirect(url_for("console.final", slug=slug))


def award_standings(session: Session, comp: Competition) -> tuple[dict[str, Any] | None, str | None]:
    """The award standings the signed-in caller may read, or why not (the console's and the judges' page)."""
    try:
        return award_view(session, comp, _caller()), None
    except AppError as exc:
        return None, refusal_text(exc)


@bp.get("/console/competitions/<slug>/award")
def award(slug: str) -> str:
    with current_runtime().session() as session:
        comp = get_competition(session, slug)
        standings, refusal = award_standings(session, comp)
        return render_template("console/award.html", **_comp_page(session, comp, "award"), award=standings,
                               refusal=refusal, area="console")


# --- action log ------------------------------------------------------------------------------

def _panel_log(session: Session) -> dict[str, Any]:
    names = {c.id: c.slug for c in list_competitions(session)}
    return {"entries": console_queries.recent_actions(session, LOG_ENTRIES), "chain": console_queries.chain_report(session),
            "slugs": names}


@bp.get("/console/log")
def log() -> str:
    with current_runtime().session() as session:
        return render_template("console/log.html", **_panel_log(session), section="log", limit=LOG_ENTRIES)


# --- texts -----------------------------------------------------------------------------------

def state_text(state: str) -> str:
    return {"pending": gettext("pending verification"), "verified": gettext("verified"),
            "disqualified": gettext("disqualified")}.get(state, state)


def refusal_text(exc: AppError) -> str:
    """A service's refusal in the page's language (its English text when no translation fits)."""
    extra = exc.extra
    texts = {
        "not_ended": lambda: gettext("The competition has not ended yet; it can be frozen only after its end."),
        "scoring_pending": lambda: gettext("%(n)s submissions received before the end are still queued or being "
                                           "scored; wait for the workers and freeze again.", n=extra.get("pending")),
        "uploads_arriving": lambda: gettext("Uploads received before the end are still arriving; they are on "
                                            "time, so freeze again when they have arrived."),
        "already_frozen": lambda: gettext("The competition is already frozen; a snapshot is never replaced."),
        "not_frozen": lambda: gettext("The competition is not frozen yet; freeze it first."),
        "already_published": lambda: gettext("The final standings are already published."),
        "forbidden": lambda: gettext("Judges see this once the competition is frozen."),
        "end_before_start": lambda: gettext("The end must be after the start."),
        "reason_required": lambda: gettext("A disqualification needs a reason: it is recorded in the action log and shown to judges."),
        "frozen": lambda: gettext("The competition is frozen: its settings can no longer change."),
    }
    maker = texts.get(exc.code)
    return maker() if maker is not None else exc.message
