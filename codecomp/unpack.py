"""Safe extraction of a team's submit.zip (DACON layout: script.py, model/, requirements.txt at the root).

Every refusal is an `UnpackError` with a message for the team; none is charged. Sizes are counted
from the bytes actually written while extracting, never from the zip's own (forgeable) headers.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["UnpackError", "unpack", "SCRIPT", "REQUIREMENTS", "RESERVED"]

SCRIPT = "script.py"
REQUIREMENTS = "requirements.txt"
RESERVED = ("data", "output")  # the server provides these folders; the zip's own are dropped
_CHUNK = 1 << 16
_IGNORED_TOP = (("__MACOSX",),)  # macOS Finder metadata, harmless and common


class UnpackError(Exception):
    """submit.zip cannot be used; `message` says what was expected and what was found."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unpack(zip_path: str | os.PathLike[str], dest: str | os.PathLike[str], *, zip_bytes: int,
           unpacked_bytes: int, files: int) -> Path:
    """Extract `zip_path` into the empty folder `dest`; return `dest`.

    Raises:
        UnpackError: not a zip, too large, too many files, an unsafe entry (absolute path, `..`,
            symlink, device, encrypted), the whole content inside one extra folder, or no script.py.
    """
    source, out = Path(zip_path), Path(dest)
    size = source.stat().st_size
    if size > zip_bytes:
        raise UnpackError(f"submit.zip is {size:,} bytes; the limit is {zip_bytes:,} bytes")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnpackError(f"submit.zip is not a readable zip file ({exc})") from None
    with archive:
        entries = [e for e in archive.infolist() if PurePosixPath(e.filename).parts[:1] not in _IGNORED_TOP]
        if len(entries) > files:
            raise UnpackError(f"submit.zip holds {len(entries):,} entries; the limit is {files:,} files")
        names = [_safe_name(e) for e in entries]
        _check_layout(names, entries)
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        seen: set[PurePosixPath] = set()
        for entry, name in zip(entries, names):
            if name in seen:
                raise UnpackError(f"submit.zip holds {entry.filename!r} twice")
            seen.add(name)
            if name.parts[0] in RESERVED:
                continue
            target = out.joinpath(*name.parts)
            try:
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise UnpackError(f"{entry.filename!r} is in submit.zip both as a file and a folder") from None
            except OSError as exc:
                raise UnpackError(f"cannot extract {entry.filename[:200]!r}: {exc.strerror or exc}") from None
            written = _extract(archive, entry, target, written, unpacked_bytes)
    for folder in RESERVED:
        shutil.rmtree(out / folder, ignore_errors=True)
        (out / folder).mkdir()
    return out


def _safe_name(entry: zipfile.ZipInfo) -> PurePosixPath:
    raw = entry.filename
    if entry.flag_bits & 0x1:
        raise UnpackError(f"{raw!r} is encrypted; upload a zip without a password")
    mode = entry.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise UnpackError(f"{raw!r} is a symbolic link; submit.zip may hold only regular files and folders")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnpackError(f"{raw!r} is a device, pipe or socket; submit.zip may hold only regular files and folders")
    if "\\" in raw or "\0" in raw:
        raise UnpackError(f"{raw!r} has a backslash or NUL in its name; use '/' between folders")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise UnpackError(f"{raw!r} is an absolute path; paths in submit.zip must be relative to its root")
    path = PurePosixPath(raw)
    if any(part == ".." for part in path.parts):
        raise UnpackError(f"{raw!r} points outside the zip ('..'); paths must stay inside its root")
    parts = [p for p in path.parts if p != "."]
    if not parts:
        raise UnpackError(f"{raw!r} is not a file name")
    return PurePosixPath(*parts)


def _check_layout(names: list[PurePosixPath], entries: list[zipfile.ZipInfo]) -> None:
    files = {n for n, e in zip(names, entries) if not e.is_dir()}
    if PurePosixPath(SCRIPT) in files:
        return
    tops = {n.parts[0] for n in names}
    if len(tops) == 1 and any(len(n.parts) == 2 and n.name == SCRIPT for n in files):
        top = next(iter(tops))
        raise UnpackError(f"everything in submit.zip is inside the folder '{top}/'; zip its contents "
                          f"(script.py, model/, requirements.txt) so that script.py is at the zip's root")
    found = ", ".join(sorted(str(n) for n in files)[:5]) or "nothing"
    raise UnpackError(f"submit.zip has no script.py at its root (found: {found}); expected script.py, "
                      f"model/ and requirements.txt at the root")


def _extract(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, written: int, limit: int) -> int:
    try:
        with archive.open(entry) as src, open(target, "xb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise UnpackError(f"submit.zip unpacks to more than {limit:,} bytes (stopped at "
                                      f"{entry.filename!r}); the limit is {limit:,} bytes")
                dst.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise UnpackError(f"cannot extract {entry.filename!r}: {exc}") from None
    except FileExistsError:
        raise UnpackError(f"{entry.filename!r} is in submit.zip twice, or both as a file and a folder") from None
    except IsADirectoryError:
        raise UnpackError(f"{entry.filename!r} is in submit.zip both as a file and a folder") from None
    except OSError as exc:
        raise UnpackError(f"cannot extract {entry.filename[:200]!r}: {exc.strerror or exc}") from None
    except RuntimeError as exc:  # zipfile: encrypted or unsupported compression
        raise UnpackError(f"cannot extract {entry.filename!r}: {exc}") from None
    target.chmod(0o644)
    return written
