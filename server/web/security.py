"""Security of the pages: headers on every response, the session cookie, the secret key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface

__all__ = ["init_security", "CSP"]

# No inline script or style anywhere: scripts are modules under /static, styles one file.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (behind a proxy, run
    it with ProxyFix so `request.is_secure` sees the original scheme)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _secret_key(app: Flask) -> str:
    """SECRET_KEY from the configuration, else one kept in the instance folder (mode 0600), so
    sessions survive restarts and every process of the instance signs alike."""
    configured = app.config.get("SECRET_KEY")
    if configured:
        return str(configured)
    path = Path(app.config["HOME"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process wrote it first
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    caller = g.get("caller") or g.get("page_caller")
    personal = request.headers.get("Authorization") or (caller is not None and caller.role is not None)
    if personal:
        # A signed-in page or token-authenticated JSON: never kept by a browser or proxy cache.
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Cookie")
    return response


def init_security(app: Flask) -> None:
    app.secret_key = _secret_key(app)
    app.session_interface = _SessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "hackathon_session"
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # tied to the session instead: a page left open still works
    app.after_request(_headers)
