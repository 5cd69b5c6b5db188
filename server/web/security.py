"""Security of the pages: headers on every response, the session cookie, the secret key."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface

from server.caller import ANONYMOUS

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

    def get_signing_serializer(self, app: Flask) -> Any:
        # The key is read (or made) on the first request, not when the app is built: commands
        # that never serve a page create nothing in the instance folder.
        if not app.secret_key:
            app.secret_key = _secret_key(app)
        return super().get_signing_serializer(app)


def _secret_key(app: Flask) -> str:
    """SECRET_KEY from the configuration, else one kept in the instance folder (mode 0600), so
    sessions survive restarts and every process of the instance signs alike."""
    configured = app.config.get("SECRET_KEY")
    if configured:
        return str(configured)
    path = Path(app.config["HOME"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a process starting
        # at the same moment sees either no key or the whole key, and only one key ever wins.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    caller = g.get("caller") or g.get("page_caller")
    personal = request.headers.get("Authorization") or (caller is not None and caller != ANONYMOUS)
    if personal:
        # A signed-in page or token-authenticated JSON: never kept by a browser or proxy cache.
        headers["Cache-Control"] = "no-store"
    if personal or response.mimetype == "text/html":
        response.vary.add("Cookie")  # the language and the team come from the session
    return response


def init_security(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "hackathon_session"
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # tied to the session instead: a page left open still works
    app.after_request(_headers)
