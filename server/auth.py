"""Tokens (random, stored as SHA-256, compared in constant time), the caller of a request, and the
view guard. Who may do what is decided in server/services/access.py; `Caller` and `Role` live in
the Flask-free server/caller.py (re-exported here)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from server.caller import ANONYMOUS, TOKEN_ROLES, Caller, Role
from server.errors import Unauthorized, msg
from server.models import Token
from server.services.access import Gate, check_gate, check_may_change_state

__all__ = ["Caller", "ANONYMOUS", "Role", "new_token", "hash_token", "find_caller", "caller_of", "refusal_message",
           "current_caller", "current_actor", "require", "counts_as_read", "STATE_CHANGING", "init_app"]

# Requests that change state; a read-only caller (a judge) is refused them before any view runs.
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

TOKEN_PREFIX = "lgh_"

F = TypeVar("F", bound=Callable[..., Any])


def new_token() -> str:
    """Return a fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_caller(session: Session, token: str) -> Caller | None:
    """Return the caller a token belongs to, or None.

    The lookup is by the token's SHA-256 (an index seek, which leaks nothing about the token);
    the final comparison is constant-time all the same.
    """
    digest = hash_token(token)
    row = session.execute(
        sa.select(Token).where(Token.token_hash == digest, Token.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return caller_of(row)


def caller_of(row: Token) -> Caller | None:
    """The caller an unrevoked token row stands for (None for a role no longer issued)."""
    if row.role not in TOKEN_ROLES:
        return None
    return Caller(role=Role(row.role), name=row.name, team_id=row.team_id)


def refusal_message(session: Session, token: str) -> str:
    """Why a token that `find_caller` refused is not valid, and what its holder can do."""
    row = session.execute(sa.select(Token.role).where(Token.token_hash == hash_token(token))).first()
    if row is not None and row.role == "team":
        return msg("this team token is no longer valid: the organizers revoked it or issued a new one; "
                   "ask the organizers for a new team token")
    if row is not None:
        return msg("this %(role)s token was revoked; ask the organizers for a new one", role=row.role)
    return msg("this token is not valid: check that it was copied whole (it starts with 'lgh_'); "
               "if your team lost it, ask the organizers for a new team token")


def current_caller() -> Caller:
    """Return the caller of the current request (anonymous without a token)."""
    if "caller" in g:
        return g.caller
    from server.runtime import current_runtime  # late: runtime imports the app's pieces

    header = request.headers.get("Authorization", "")
    caller = ANONYMOUS
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(msg("expected the header 'Authorization: Bearer <token>'"))
        with current_runtime().session() as session:
            found = find_caller(session, token.strip())
            if found is None:
                raise Unauthorized(refusal_message(session, token.strip()))
        caller = found
    elif request.method in ("GET", "HEAD") and request.cookies:
        # Whoever is signed in on the pages may read what their role may (the submit page polls a
        # team's submissions; the consoles link the audits and raw files); only reads, so no API
        # call that changes anything is ever made by a cookie.
        from server.web.identity import session_caller

        caller = session_caller()
    g.caller = caller
    return caller


def require(*allowed: Gate | Role | str) -> Callable[[F], F]:
    """Guard a view with a gate of the access policy (`require(access.MANAGE)`); role names are
    read as a gate of those roles. 401 without a token, 403 with a token of another role."""
    gate = allowed[0] if len(allowed) == 1 and isinstance(allowed[0], Gate) else \
        Gate("+".join(str(r) for r in allowed), frozenset(Role(r) for r in allowed if not isinstance(r, Gate)))

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            check_gate(current_caller(), gate)
            return view(*args, **kwargs)

        wrapped.access_gate = gate  # type: ignore[attr-defined]  # for documentation and tests
        return wrapped  # type: ignore[return-value]

    return decorator


def current_actor() -> str:
    """The action log's actor for this request: role and the signed-in token's name."""
    caller = current_caller()
    return f"{caller.role.value}:{caller.name}"


def counts_as_read(view: F) -> F:
    """Mark a state-changing route that judges may call all the same: it only reads (starting a
    verification); everything else a judge POSTs, PUTs, PATCHes or DELETEs answers 403."""
    view.counts_as_read = True  # type: ignore[attr-defined]
    return view


def _refuse_read_only_writes() -> None:
    # Before the view, so a refused request runs no service and logs no action.
    if request.method not in STATE_CHANGING or not request.headers.get("Authorization"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "counts_as_read", False):
        return
    check_may_change_state(current_caller())


def init_app(app: Flask) -> None:
    app.before_request(_refuse_read_only_writes)
