"""`hackathon serve` plus one benchmark-only route, POST /bench/bare, that streams the request body
to a file under <HOME>/tmp and deletes it: the upload path with nothing of the app's own work
(auth, limits, hashing, the database, the queue). Used by bench_upload.py; never a production route.

    python benchmarks/_served_bare.py PORT      (the instance from HACKATHON_HOME, as `serve`)
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHUNK = 1 << 20


def bare_upload(app: Callable[..., Iterable[bytes]], folder: Path) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/bench/bare" or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        stream, size = environ["wsgi.input"], 0
        with tempfile.NamedTemporaryFile(dir=folder, prefix="bare-") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                size += len(chunk)
            out.flush()
        body = b'{"bytes": %d}' % size
        start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def main() -> None:
    from server import create_app
    from server.cli.app import init_database
    from server.serve import serve

    app = create_app()
    rt = app.extensions["hackathon"]
    init_database(rt)
    folder = Path(rt.home) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    app.wsgi_app = bare_upload(app.wsgi_app, folder)  # type: ignore[method-assign]
    serve(app, host="127.0.0.1", port=int(sys.argv[1]))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
