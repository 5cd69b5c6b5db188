"""A team, organizer or judge signed in on the pages: the session holds the token row's id and a keyed digest of its
hash, never the token. Every request checks both against the database, so revoking the token
ends the session at once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app, g, session

from server.auth import ANONYMOUS, Caller, caller_of, find_caller, hash_token
from server.models import Token
from server.runtime import current_runtime
from server.services.access import can_sign_in_to_pages, can_submit

__all__ = ["sign_in", "sign_out", "session_caller", "signed_in"]

_KEY = "team"


def _seal(token_hash: str) -> str:
    # Keyed with the app's secret: the cookie (signed, but readable) never shows the stored hash.
    key = str(current_app.secret_key).encode("utf-8")
    return hmac.new(key, token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def sign_in(token: str, admits: Callable[[Caller], bool] = can_submit) -> Caller | None:
    """Check a token that `admits` (the access policy's decision for this form: team tokens on
    /signin, organizer and judge tokens on the console's); on success remember it in the session."""
    token = token.strip()
    if not token or len(token) > 200:
        return None
    rt = current_runtime()
    with rt.session() as db:
        caller = find_caller(db, token)
        if caller is None or not admits(caller):
            return None
        row_id = db.execute(sa.select(Token.id).where(Token.token_hash == hash_token(token))).scalar_one()
    session.clear()  # a fresh session on sign-in (no fixation); the language choice survives
    session[_KEY] = {"tid": row_id, "seal": _seal(hash_token(token))}
    g.pop("page_caller", None)
    return caller


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.pop("page_caller", None)


def signed_in() -> bool:
    return _KEY in session


def session_caller() -> Caller:
    """The team, organizer or judge signed in on this browser, or the public; checked against the
    database each request (the role comes from the token row, never from the cookie)."""
    if "page_caller" in g:
        return g.page_caller
    caller = ANONYMOUS
    data = session.get(_KEY)
    if isinstance(data, dict) and isinstance(data.get("tid"), int) and isinstance(data.get("seal"), str):
        with current_runtime().session() as db:
            row = db.get(Token, data["tid"])
            if row is not None and row.revoked_at is None and hmac.compare_digest(_seal(row.token_hash), data["seal"]):
                candidate = caller_of(row)
                if candidate is not None and can_sign_in_to_pages(candidate):
                    caller = candidate
        if caller is ANONYMOUS:
            session.pop(_KEY, None)  # revoked or reissued: the session ends
    g.page_caller = caller
    return caller
