"""Where a CSV's bytes come from: bytes, a path or a binary file; gzip detected and size-capped."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from scoring.errors import Problem, SubmissionRejected

__all__ = ["BOM", "DEFAULT_MAX_BYTES", "Source", "SourceLike", "open_source", "reject"]

# Largest CSV accepted, counted after decompression.
DEFAULT_MAX_BYTES = 1 << 30

BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 16 << 20

SourceLike = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO


def reject(message: str, line: int | None = None, column: str | None = None, kind: str = "file",
           **params: object) -> SubmissionRejected:
    """Build the rejection for one problem that stops reading (its code: the kind, snake_cased)."""
    problem = Problem(line, column, message, kind.replace(" ", "_"), params)
    return SubmissionRejected(str(problem), [problem], {kind: 1})


@dataclass
class Source:
    """A CSV to read: in memory (`data`) or a plain file on disk (`path`) that pyarrow reads itself."""

    path: Path | None
    data: bytes | None
    size: int

    @property
    def bom(self) -> int:
        """Return the length of the UTF-8 byte-order mark at the start (0 or 3)."""
        return 3 if self.head(3) == BOM else 0

    def head(self, n: int) -> bytes:
        """Return the first n bytes."""
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with open(self.path, "rb") as f:
            return f.read(n)

    def load(self) -> bytes:
        """Return all bytes, reading the file if needed (the precise, slow path needs them)."""
        if self.data is None:
            assert self.path is not None
            self.data = self.path.read_bytes()
        return self.data

    def arrow_input(self) -> str | pa.BufferReader:
        """Return what pyarrow.csv.read_csv should read."""
        if self.data is not None:
            return pa.BufferReader(self.data)
        return str(self.path)


def open_source(source: SourceLike, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Open a CSV given as bytes, a path (str or PathLike) or a binary file; gunzip it if needed.

    Raises:
        SubmissionRejected: too large, or a broken gzip stream.
        OSError: the path cannot be read (the caller's problem, not the file's).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        size = path.stat().st_size
        with open(path, "rb") as f:
            magic = f.read(2)
        if magic != _GZIP_MAGIC:
            if size > max_bytes:
                raise reject(f"file is larger than {max_bytes:,} bytes ({size:,} bytes)", kind="too large",
                             limit=max_bytes)
            return Source(path, None, size)
        data = path.read_bytes()
    else:
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes):
            raise TypeError(f"expected a binary file, its read() returned {type(data).__name__}")
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, max_bytes)
    elif len(data) > max_bytes:
        raise reject(f"file is larger than {max_bytes:,} bytes", kind="too large", limit=max_bytes)
    return Source(None, data, len(data))


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress gzip data (one or more members), refusing more than max_bytes of output."""
    parts: list[bytes] = []
    total = 0
    pending = data
    while True:
        d = zlib.decompressobj(wbits=31)
        while True:
            limit = min(_CHUNK, max_bytes + 1 - total)
            try:
                chunk = d.decompress(pending, limit)
            except zlib.error as exc:
                raise reject(f"not a valid gzip file: {exc}", kind="gzip") from None
            total += len(chunk)
            parts.append(chunk)
            if total > max_bytes:
                raise reject(f"file is larger than {max_bytes:,} bytes after decompression", kind="too large",
                             limit=max_bytes)
            pending = d.unconsumed_tail
            if d.eof:
                break
            if not pending and len(chunk) < limit:
                raise reject("the gzip file is truncated (its end is missing)", kind="gzip")
        pending = d.unused_data
        if not pending.strip(b"\x00"):
            return b"".join(parts)
        if pending[:2] != _GZIP_MAGIC:
            raise reject("unexpected data after the end of the gzip stream", kind="gzip")
