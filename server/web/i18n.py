"""Languages of the pages: Korean by default, English by a switch kept in the session.

Strings live in gettext catalogs (server/web/translations/<lang>/LC_MESSAGES/messages.po). The
`.mo` files are compiled at start into the instance folder, not committed: a committed binary
goes stale the first time someone edits a `.po` and forgets to rebuild, and the package folder
may be read-only once installed, while the instance folder is always writable by the server.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, Response, request, session
from flask_babel import Babel, get_locale, gettext

from server.errors import AppError
from server.timeutil import zone

__all__ = [
    "LANGUAGES", "DEFAULT_LANGUAGE", "api_language", "init_i18n", "compile_catalogs", "current_language",
    "local_datetime", "local_date", "local_time", "number", "score", "problem_text", "localized_submission",
    "error_text", "error_title", "template_text",
]

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
CATALOGS = Path(__file__).parent / "translations"


def compile_catalogs(target: Path, source: Path = CATALOGS) -> list[Path]:
    """Compile every `.po` under `source` into `target` when its `.mo` is missing or older.

    Written to a temporary file and renamed, so a second server process starting at the same
    moment never reads half a catalog. Returns the catalogs compiled.
    """
    compiled = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
        compiled.append(mo)
    return compiled


def _select_language() -> str:
    """`?lang=` (remembered in the session), else the session's choice, else Korean."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        # The API answers in English unless the client asks for Korean (Accept-Language: ko).
        return api_language()
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def api_language() -> str:
    """Korean when the client's Accept-Language prefers it to English; English otherwise."""
    return "ko" if request.accept_languages.best_match(["en", "ko"], default="en") == "ko" else "en"


def init_i18n(app: Flask) -> None:
    """Compile the catalogs at start when the instance exists, else before the first request
    (so a command that never serves a page, like `hackathon submit`, creates no instance folder)."""
    target = Path(app.config["HOME"]) / "i18n"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    Babel(app, locale_selector=_select_language)
    done: list[bool] = []

    def ensure_compiled() -> None:
        if not done:
            compile_catalogs(target)
            done.append(True)

    if Path(app.config["HOME"]).is_dir():
        ensure_compiled()
    app.before_request(ensure_compiled)
    app.after_request(_mark_api_language)


def _mark_api_language(response: Response) -> Response:
    """An API answer says its language, and caches keep one copy per Accept-Language."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        response.headers["Content-Language"] = current_language()
        response.vary.add("Accept-Language")
    return response


def current_language() -> str:
    locale = get_locale()
    return str(locale.language) if locale is not None else DEFAULT_LANGUAGE


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def local_datetime(value: datetime | str | None, tz_name: str, *, year: bool = True) -> str:
    """A UTC time shown in the competition's zone, written the locale's way (2026년 8월 1일 12:00)."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    tz, lang = zone(tz_name), current_language()
    day = format_skeleton("yMMMd" if year else "MMMd", moment, tzinfo=tz, locale=lang)
    return f"{day} {format_skeleton('Hm', moment, tzinfo=tz, locale=lang)}"


def local_date(value: datetime | str | None, tz_name: str) -> str:
    moment = _as_datetime(value)
    return "" if moment is None else format_skeleton("yMMMd", moment, tzinfo=zone(tz_name), locale=current_language())


def local_time(value: datetime | str | None, tz_name: str) -> str:
    moment = _as_datetime(value)
    return "" if moment is None else format_skeleton("Hm", moment, tzinfo=zone(tz_name), locale=current_language())


def number(value: float | int | None, decimals: int = 0) -> str:
    """A number with the locale's grouping and decimal signs."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=current_language())


def score(value: float | None, precision: int) -> str:
    return number(value, precision)


# Rejection problems: their code → the English msgid the catalog translates. Parameters are
# filled in after translation; a code not listed here (or none) shows the stored English text.
PROBLEM_TEXTS: dict[str, str] = {}


def _register_problem_texts() -> None:
    # Written as gettext calls with literal strings so extraction finds them; the lambda defers
    # the lookup to the request's language.
    texts = {
        "not_a_number": lambda: gettext("%(value)s is not a number"),
        "not_finite": lambda: gettext("%(value)s is not a finite number"),
        "not_a_probability": lambda: gettext("%(value)s is not a probability (expected 0 to 1)"),
        "empty_number": lambda: gettext("empty value (expected a number)"),
        "empty_probability": lambda: gettext("empty value (expected a probability)"),
        "empty_choice": lambda: gettext("empty value (expected one of %(allowed)s)"),
        "not_allowed_class": lambda: gettext("%(value)s is not an allowed class (expected one of %(allowed)s)"),
        "not_allowed_value": lambda: gettext("%(value)s is not allowed (expected %(allowed)s)"),
        "wrong_number_of_fields": lambda: gettext("expected %(expected)s fields, found %(found)s"),
        "empty_id": lambda: gettext("empty id"),
        "unknown_id": lambda: gettext("unknown id %(value)s"),
        "unknown_id_padded": lambda: gettext("unknown id %(value)s (remove the spaces around it)"),
        "duplicate_id": lambda: gettext("duplicate id %(value)s (first on line %(first_line)s)"),
        "missing_ids": lambda: gettext("%(count)s ids are missing, e.g. %(example)s"),
        "no_rows": lambda: gettext("the file has a header but no data rows"),
        "stopped": lambda: gettext("stopped reading at line %(line)s after %(count)s problems"),
        "repeated_column": lambda: gettext("column '%(name)s' appears %(count)s times"),
        "missing_column": lambda: gettext("missing column '%(name)s'"),
        "missing_column_padded": lambda: gettext("missing column '%(name)s': found '%(found)s' (remove the spaces or quotes around it)"),
        "missing_column_case": lambda: gettext("missing column '%(name)s': found '%(found)s' (column names are case-sensitive)"),
        "unexpected_column": lambda: gettext("unexpected column '%(name)s'"),
        "unexpected_column_blank": lambda: gettext("unexpected column '%(name)s' (a trailing comma, or an unnamed index column?)"),
        "unexpected_column_index": lambda: gettext("unexpected column '%(name)s' (the index of a pandas DataFrame? save with index=False)"),
        "header": lambda: gettext("expected the columns %(expected)s (in any order); found %(found)s"),
        "not_UTF-8": lambda: gettext("not UTF-8: byte %(byte)s at offset %(offset)s; save the file as UTF-8 (in Excel: 'CSV UTF-8')"),
        "empty_file": lambda: gettext("the file is empty"),
        "no_header": lambda: gettext("the first line is empty; it must be the header (the column names)"),
        "too_large": lambda: gettext("the file is larger than %(limit)s bytes"),
        "gzip": lambda: gettext("not a valid gzip file"),
        "malformed_CSV": lambda: gettext("malformed CSV: %(detail)s"),
        "score_not_finite": lambda: gettext("the score is not finite; are some predictions extremely large?"),
    }
    PROBLEM_TEXTS.update({code: text for code, text in texts.items()})  # type: ignore[misc]


_register_problem_texts()


def error_title(code: str | None, status: int) -> str:
    """An error page's heading in the page's language, from the error's code (or its status);
    the service's English message stays beneath it as the detail."""
    by_code = {
        "not_found": lambda: gettext("Not found"),
        "method_not_allowed": lambda: gettext("This address does not take that kind of request"),
        "bad_request": lambda: gettext("The request could not be read"),
        "unauthorized": lambda: gettext("Sign in first"),
        "forbidden": lambda: gettext("You may not see this"),
        "conflict": lambda: gettext("Not possible at this stage of the competition"),
        "closed": lambda: gettext("This competition no longer accepts submissions."),
        "not_open": lambda: gettext("This competition has not opened yet."),
        "frozen": lambda: gettext("The leaderboard is frozen"),
        "payload_too_large": lambda: gettext("The file is too large"),
        "request_entity_too_large": lambda: gettext("The file is too large"),
        "incomplete_upload": lambda: gettext("The upload was cut off; nothing was stored or counted"),
        "rate_limited": lambda: gettext("Too many requests"),
        "too_many_failed_authentications": lambda: gettext("Too many wrong tokens; try again in a minute"),
        "internal_error": lambda: gettext("Something went wrong on the server"),
    }
    by_status = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                 413: "payload_too_large", 429: "rate_limited", 500: "internal_error"}
    maker = by_code.get(code or "") or by_code.get(by_status.get(status, ""))
    return maker() if maker is not None else ""


def problem_text(problem: Mapping[str, Any]) -> str:
    """One rejection problem in the page's language: where it is, then what is wrong."""
    code = str(problem.get("code") or "")
    params = dict(problem.get("params") or {})
    maker: Any = PROBLEM_TEXTS.get(code)
    what = str(problem.get("message", ""))
    if maker is not None:
        shown = {k: number(v) if isinstance(v, int) and not isinstance(v, bool) and k not in ("line", "first_line")
                 else v for k, v in params.items()}
        try:
            what = maker() % shown
        except (KeyError, TypeError, ValueError):
            pass  # parameters of another version: keep the stored English text
    line, column = problem.get("line"), problem.get("column")
    if line is not None and column is not None:
        return gettext("line %(line)s, column %(column)s: %(message)s", line=line, column=column, message=what)
    if line is not None:
        return gettext("line %(line)s: %(message)s", line=line, message=what)
    if column is not None:
        return gettext("column %(column)s: %(message)s", column=column, message=what)
    return what


_MORE = re.compile(r"^and ([\d,]+) more problems? \(")


def localized_submission(body: dict[str, Any]) -> dict[str, Any]:
    """A submission object of the API in the request's language: in Korean, a rejection's
    `problems[].message` and its `message` summary are translated from their codes and params;
    in English (the default) the body is returned unchanged."""
    problems = body.get("problems") or []
    if current_language() == "en" or not problems:
        return body
    translated = []
    for problem in problems:
        what = problem_text({**problem, "line": None, "column": None})
        translated.append({**problem, "message": what})
    body = {**body, "problems": translated}
    if body.get("message"):
        lines = [problem_text(p) for p in problems]
        more = _MORE.match(str(body["message"]).splitlines()[-1])
        if more:
            lines.append(gettext("and %(count)s more problems", count=number(int(more.group(1).replace(",", "")))))
        body["message"] = "\n".join(lines)
    return body


def error_text(exc: AppError) -> str:
    """An error's message in the request's language: the API's language is English unless the
    client asks for Korean (Accept-Language), a page's is the session's. Text built without a
    template (or whose translation does not fit its parameters) stays as the service wrote it."""
    return template_text(exc.template, exc.params, exc.message)


def template_text(template: str | None, params: Mapping[str, Any] | None, english: str) -> str:
    """A message built with errors.msg, in the request's language: gettext of its template with its
    parameters; the English as written when there is no template (a report stored before templates
    were kept) or the translation does not fit the parameters."""
    if template is None or current_language() == "en":
        return english
    try:
        return gettext(template, **(params or {}))
    except (KeyError, TypeError, ValueError):
        return english
