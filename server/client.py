"""A small HTTP client for the API (stdlib only), used by `hackathon submit` and the demo."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["ApiClient", "ApiError"]


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
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            exc.close()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"error": "http_error", "message": raw.decode("utf-8", "replace")[:500] or exc.reason}
            raise ApiError(exc.code, body) from None
        except urllib.error.URLError as exc:
            raise ApiError(0, {"error": "unreachable", "message": f"cannot reach {self.base}: {exc.reason}"}) from None

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post_json(self, path: str, body: Any, method: str = "POST") -> Any:
        return self._request(method, path, data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})

    def upload(self, slug: str, file: Path, note: str | None = None) -> dict[str, Any]:
        """Send the file as the raw body (cheaper than multipart for large files)."""
        with open(file, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        query = {"filename": file.name}
        path = f"/api/v1/competitions/{urllib.parse.quote(slug)}/submissions?{urllib.parse.urlencode(query)}"
        headers = {"Content-Type": "application/gzip" if gz else "text/csv", "Content-Length": str(file.stat().st_size)}
        if note:  # a header, not the URL: 1,000 Korean characters do not fit a request line
            headers["X-Submission-Note"] = urllib.parse.quote(note)
        with open(file, "rb") as fh:
            return self._request("POST", path, data=fh, headers=headers)
