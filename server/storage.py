"""Where uploaded bytes and hidden labels live: content-addressed files under the instance folder.

Submissions go to ``files/<aa>/<sha256>`` (exact bytes as received); hidden labels to
``labels/<sha256>.csv``, a folder no route serves; competition data files (train, test, sample
submission) to ``data/<aa>/<sha256>``. Files are written to a temporary name and
renamed, so a crash never leaves a half file under a real name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from server.errors import AppError, BadRequest, PayloadTooLarge, msg

__all__ = ["Storage", "StoredFile", "CHUNK", "IncompleteUpload", "body_read_error", "file_sha256", "human_bytes"]

CHUNK = 1 << 20


class IncompleteUpload(BadRequest):
    """The client stopped sending before the end of its body: nothing is stored or counted."""

    code = "incomplete_upload"


def body_read_error(exc: BaseException, received: int | None = None, expected: int | None = None) -> AppError | None:
    """Translate an error raised while reading a request body into the caller's error, if it is one.

    The HTTP server raises these from `wsgi.input`: the client closed or stalled (gunicorn's
    NoMoreData, a socket timeout or reset, Werkzeug's ClientDisconnected) or sent a malformed
    chunked body (gunicorn's ParseException). None: not a body error (a bug, let it propagate).
    """
    from gunicorn.http.errors import NoMoreData, ParseException
    from werkzeug.exceptions import ClientDisconnected

    if isinstance(exc, ParseException):
        return BadRequest(f"the request body is malformed ({type(exc).__name__}: {str(exc)[:200]}); expected a "
                          "body of Content-Length bytes or valid chunked transfer encoding", code="malformed_body")
    if isinstance(exc, (NoMoreData, ClientDisconnected, ConnectionError, TimeoutError, BlockingIOError)):
        return _incomplete(received, expected)
    return None


def _incomplete(received: int | None, expected: int | None) -> IncompleteUpload:
    # One template per case: a translation cannot be assembled from English fragments.
    if received is not None and expected is not None:
        text = msg("the upload is incomplete: the connection closed or stalled after %(received)s of the "
                   "%(expected)s announced; nothing was stored or counted, send the file again",
                   received=human_bytes(received), expected=human_bytes(expected))
    elif received is not None:
        text = msg("the upload is incomplete: the connection closed or stalled after %(received)s; nothing was "
                   "stored or counted, send the file again", received=human_bytes(received))
    elif expected is not None:
        text = msg("the upload is incomplete: the connection closed or stalled of the %(expected)s announced; "
                   "nothing was stored or counted, send the file again", expected=human_bytes(expected))
    else:
        text = msg("the upload is incomplete: the connection closed or stalled; nothing was stored or counted, "
                   "send the file again")
    return IncompleteUpload(text)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    bytes: int
    path: Path


class Storage:
    """Stored submissions and hidden labels of one instance."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.files_dir = home / "files"
        self.labels_dir = home / "labels"
        self.tmp_dir = home / "tmp"
        self.data_dir = home / "data"

    def ensure_folders(self) -> None:
        for folder in (self.files_dir, self.labels_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.labels_dir.chmod(0o700)

    def submission_path(self, sha256: str) -> Path:
        return self.files_dir / sha256[:2] / sha256

    def save_stream(self, stream: IO[bytes], max_bytes: int, expected_bytes: int | None = None,
                    on_progress: Callable[[int], None] | None = None) -> StoredFile:
        """Stream an upload to disk, hashing as it goes; refuse it past `max_bytes`.

        With `expected_bytes` (the request's Content-Length) a shorter body is incomplete: the
        server hands the app what arrived before the client closed, which must not be stored.

        Raises:
            PayloadTooLarge: with the limit and how far the upload got.
            IncompleteUpload: the client closed or stalled before the end of its body.
            BadRequest: a malformed (chunked) body.
        """
        tmp_name, sha, size = self.spool_upload(stream, max_bytes, expected_bytes, on_progress)
        try:
            final = self.submission_path(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp_name)  # same bytes already stored
            else:
                # On disk before its row commits: the row survives a power cut (synchronous=FULL),
                # so must the file it names, under its name.
                _fsync(tmp_name)
                os.replace(tmp_name, final)
                _fsync(final.parent)
            return StoredFile(sha, size, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def spool_upload(self, stream: IO[bytes], max_bytes: int, expected_bytes: int | None = None,
                     on_progress: Callable[[int], None] | None = None) -> tuple[str, str, int]:
        """Write an upload to a temporary file while hashing it: (its path, sha256, bytes). On any
        error (too large, incomplete, malformed) nothing is left behind."""
        self.ensure_folders()
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := _read(stream, size, expected_bytes):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(msg(
                            "file is larger than this competition's limit of %(limit)s; received %(size)s so "
                            "far. Compress it with gzip or check that it is the right file.",
                            limit=human_bytes(max_bytes), size=human_bytes(size)))
                    digest.update(chunk)
                    out.write(chunk)
                    if on_progress is not None:
                        on_progress(size)
            if expected_bytes is not None and size < expected_bytes:
                # gunicorn hands over what arrived before the client closed, without an error.
                raise _incomplete(size, expected_bytes)
            return tmp_name, digest.hexdigest(), size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def save_labels(self, source: Path) -> tuple[str, str]:
        """Copy a hidden labels file in; return (path relative to the instance folder, sha256)."""
        self.ensure_folders()
        sha, _ = file_sha256(source)
        target = self.labels_dir / f"{sha}.csv"
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
            target.chmod(0o600)
        return str(target.relative_to(self.home)), sha

    def labels_path(self, relative: str) -> Path:
        return self.home / relative

    def save_data(self, source: Path) -> tuple[str, StoredFile]:
        """Copy a data file in by content, streamed; return (path relative to the instance, file)."""
        self.ensure_folders()
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="data-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            final = self.data_dir / sha[:2] / sha
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp_name)  # same bytes already stored (e.g. one sample file in two competitions)
            else:
                os.replace(tmp_name, final)
            return str(final.relative_to(self.home)), StoredFile(sha, size, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def data_path(self, relative: str) -> Path:
        return self.home / relative


def _read(stream: IO[bytes], received: int, expected: int | None) -> bytes:
    try:
        return stream.read(CHUNK)
    except Exception as exc:
        error = body_read_error(exc, received, expected)
        if error is None:
            raise
        raise error from exc


def file_sha256(path: Path) -> tuple[str, int]:
    """Return the SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def human_bytes(n: int) -> str:
    """Return a size for people: 812 bytes, 12.5 KB, 30.2 MB."""
    if n < 1_000:
        return f"{n:,} bytes"
    if n < 1_000_000:
        return f"{n / 1_000:,.1f} KB"
    return f"{n / 1_000_000:,.1f} MB"


def _fsync(path: str | Path) -> None:
    """Flush a file's data, or a folder's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
