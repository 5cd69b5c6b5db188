"""The gunicorn worker `hackathon serve` runs: gthread, made safe for slow clients and JSON errors.

gunicorn's gthread worker waits for a connection's first byte in its event loop, but once a
byte arrived a pool thread reads the rest of the headers and the body with blocking reads.
So each trickling client holds a thread; what keeps the site answering is a pool far larger
than the number of slow clients (WEB_THREADS, 256 by default: an idle thread blocked in recv
costs no CPU and little memory) plus a per-read timeout, so a client that stops sending
altogether frees its thread after IDLE_TIMEOUT seconds (a slow link that keeps sending is never
cut). See README "Reliability" for why this model and not a buffering server.

Errors gunicorn answers itself, before the app (414 request line too long, 431 header too
large, 400 malformed request), are rewritten as the API's JSON error objects.
"""

from __future__ import annotations

import html
import json
import logging
import re
import socket
import struct
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

__all__ = ["HackathonWorker", "IDLE_TIMEOUT"]

# Seconds a connection may send (or accept) nothing before the read (write) fails: long enough
# for any live link, short enough that stalled clients do not pile up.
IDLE_TIMEOUT = 30

_CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed",
          431: "request_header_fields_too_large", 500: "internal_error", 501: "not_implemented"}
_HINTS = {414: "; a long note goes in the multipart 'note' field or the X-Submission-Note header",
          431: "; each header line must stay under 16 KB"}


class _Captured:
    """Stands in for the client socket while gunicorn writes its HTML error page."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data


def _json_error(raw: bytes) -> bytes:
    """Turn gunicorn's HTML error response into the API's JSON error object, same status."""
    head, _, page = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 400
    reason = parts[2] if len(parts) > 2 else "Bad Request"
    text = re.sub(r"<[^>]+>", " ", page.decode("latin-1"))
    detail = " ".join(html.unescape(text).split()).removeprefix(reason).strip()
    message = f"{reason.lower()}: {detail}" if detail else reason.lower()
    body = json.dumps({"error": _CODES.get(status, "bad_request"),
                       "message": message + _HINTS.get(status, "")}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body


def _wants_html(req: Any) -> bool:
    path = getattr(req, "path", None)
    return isinstance(path, str) and bool(path) and not (path.startswith("/api/") or path == "/healthz")


class HackathonWorker(ThreadWorker):  # type: ignore[misc]
    """gthread with per-read timeouts and JSON errors (see the module docstring)."""

    def init_process(self) -> None:
        logging.getLogger("gunicorn.error").addFilter(_quiet_timeouts)
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        # Kernel-level timeouts survive gunicorn's setblocking(True) on the socket; a stalled read
        # raises EAGAIN in the thread holding the connection, which then lets it go.
        timeval = struct.pack("ll", IDLE_TIMEOUT, 0)
        try:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        except OSError:
            pass  # already closed: the thread will find out
        super().enqueue_req(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if _wants_html(req):
            super().handle_error(req, client, addr, exc)
            return
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        try:
            client.setblocking(False)
            client.sendall(_json_error(captured.data))
        except OSError:
            self.log.debug("Failed to send error message.")
        finally:
            try:
                client.setblocking(True)
            except OSError:
                pass


def _quiet_timeouts(record: logging.LogRecord) -> bool:
    """A client that stalled past IDLE_TIMEOUT is routine: one line, not a traceback."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, (BlockingIOError, TimeoutError)):
        record.msg, record.args = "closed a client idle for %ss", (IDLE_TIMEOUT,)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True
