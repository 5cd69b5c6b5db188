"""Tokens (random, stored as SHA-256, compared in constant time), roles, and view guards."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import g, request
from sqlalchemy.orm import Session

from server.errors import Forbidden, Unauthorized
from server.models import ROLES, Token

__all__ = ["Caller", "ANONYMOUS", "new_token", "hash_token", "find_caller", "current_caller", "require"]

TOKEN_PREFIX = "lgh_"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    """Who is calling: a role and, for a team token, the team."""

    role: str | None  # None: anonymous (the public)
    name: str = "public"
    team_id: int | None = None

    @property
    def is_organizer(self) -> bool:
        return self.role == "organizer"

    @property
    def is_judge(self) -> bool:
        return self.role == "judge"

    @property
    def is_team(self) -> bool:
        return self.role == "team"


ANONYMOUS = Caller(role=None)


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
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.role not in ROLES:
        return None
    return Caller(role=row.role, name=row.name, team_id=row.team_id)


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
            raise Unauthorized("expected the header 'Authorization: Bearer <token>'")
        with current_runtime().session() as session:
            found = find_caller(session, token.strip())
        if found is None:
            raise Unauthorized("unknown or revoked token; ask the organizers for a new one")
        caller = found
    elif request.method in ("GET", "HEAD") and request.cookies:
        # A team signed in on the pages may read its own submissions (the submit page polls
        # them); only reads, so no API call that changes anything is ever made by a cookie.
        from server.web.identity import session_caller

        caller = session_caller()
    g.caller = caller
    return caller


def require(*roles: str) -> Callable[[F], F]:
    """Guard a view: the caller must hold one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            caller = current_caller()
            if caller.role is None:
                raise Unauthorized(
                    "this needs a token: send 'Authorization: Bearer <token>' "
                    f"(role {' or '.join(roles)})"
                )
            if caller.role not in roles:
                raise Forbidden(f"a {caller.role} token cannot do this; it needs role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
