"""A small HTTP client for the API (stdlib only), used by `hackathon submit` and the demo."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["ApiClient", "ApiError", "server_base_url"]

EXAMPLE_URL = "http://127.0.0.1:8000"


def server_base_url(value: str) -> tuple[str, bool]:
    """Return the server's base URL and whether `http://` was assumed (for `host:port` or `host`).

    Raises:
        ValueError: not an http(s) URL with a host (and, if any, a numeric port).
    """
    text = value.strip()
    assumed = "://" not in text
    parts = urllib.parse.urlsplit("http://" + text if assumed else text)
    expected = f"expected the server's address such as {EXAMPLE_URL} (or 127.0.0.1:8000), found {value!r}"
    try:
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        raise ValueError(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(expected)
    return parts.geturl().rstrip("/"), assumed


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message") or f"HTTP {status}")
        self.status = status
        self.body = body


class ApiClient:
    def __init__(self, server: str, token: str | None = None, timeout: float = 300) -> None:
        self.base = server.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, *, data: Any = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            exc.close()
            try:
                body = json.loads(raw)
            except ValueError:
                text = " ".join(raw.decode("utf-8", "replace").split())  # one line, even from an HTML page
                body = {"error": "http_error", "message": text[:300] or exc.reason}
            raise ApiError(exc.code, body) from None
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:  # reset, timed out, or not an HTTP server
            raise self._unreachable(exc) from None
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(0, {"error": "bad_response", "message": f"{self.base}{path} did not answer with JSON: "
                                                                   "is it the hackathon server?"}) from None

    def _unreachable(self, reason: object) -> ApiError:
        why = reason.strerror if isinstance(reason, OSError) and reason.strerror else (str(reason) or type(reason).__name__)
        return ApiError(0, {"error": "unreachable", "message": f"cannot reach the server at {self.base}: {why}"})

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post_json(self, path: str, body: Any, method: str = "POST") -> Any:
        return self._request(method, path, data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})

    def upload(self, slug: str, file: Path, note: str | None = None) -> dict[str, Any]:
        """Send the file as the raw body (cheaper than multipart for large files)."""
        with open(file, "rb") as fh:
            magic = fh.read(4)
        gz, zipped = magic[:2] == b"\x1f\x8b", magic == b"PK\x03\x04"  # zipped: a code competition's submit.zip
        query = {"filename": file.name}
        path = f"/api/v1/competitions/{urllib.parse.quote(slug)}/submissions?{urllib.parse.urlencode(query)}"
        headers = {"Content-Type": "application/zip" if zipped else "application/gzip" if gz else "text/csv",
                   "Content-Length": str(file.stat().st_size)}
        if note:  # a header, not the URL: 1,000 Korean characters do not fit a request line
            headers["X-Submission-Note"] = urllib.parse.quote(note)
        with open(file, "rb") as fh:
            return self._request("POST", path, data=fh, headers=headers)
