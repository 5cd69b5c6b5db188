"""A creation request's files saved to a private temporary folder, then the competition created
from them: the one path of the API (`POST /api/v1/competitions`) and the console's form.

Files are saved under the name they were uploaded as (errors name the file as the organizer knows
it); the folder is removed whatever happens.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from server.errors import BadRequest
from server.models import Competition
from server.runtime import Runtime
from server.services.competition_intake import CompetitionUpload, create_from_upload
from server.services.datafiles import DataFileInput
from server.storage import CHUNK

__all__ = ["FILE_FIELDS", "UploadedFile", "create_from_files"]

FILE_FIELDS = ("labels", "task_toml", "sample_submission", "data")


class UploadedFile(Protocol):
    """What a multipart part offers (werkzeug's FileStorage): its name and a stream of its bytes."""

    filename: str | None
    stream: IO[bytes]


def _safe_name(filename: str | None, default: str) -> str:
    name = Path(filename or "").name
    return name if name and not name.startswith(".") else default


def _save(upload: UploadedFile, folder: Path, name: str) -> Path:
    path = folder / name
    with path.open("wb") as out:
        while chunk := upload.stream.read(CHUNK):
            out.write(chunk)
    return path


def create_from_files(rt: Runtime, files: Mapping[str, Sequence[UploadedFile]], fields: Mapping[str, Any], *,
                      actor: str) -> Competition:
    """Create a competition from the uploaded files (by form field) and the text fields."""
    unknown = sorted(name for name, parts in files.items() if parts and name not in FILE_FIELDS)
    if unknown:
        raise BadRequest(f"unknown file field {unknown[0]!r}; expected {', '.join(FILE_FIELDS)}", field=unknown[0])
    rt.storage.ensure_folders()
    workdir = Path(tempfile.mkdtemp(dir=rt.storage.tmp_dir, prefix="create-"))
    try:
        singles: dict[str, Path | None] = {}
        for name in ("labels", "task_toml", "sample_submission"):
            parts = list(files.get(name, ()))
            if len(parts) > 1:
                raise BadRequest(f"give one {name} file, found {len(parts)}", field=name)
            folder = workdir / name
            folder.mkdir()
            singles[name] = _save(parts[0], folder, _safe_name(parts[0].filename, name)) if parts else None
        (workdir / "data").mkdir()
        data = [DataFileInput(Path(f.filename or "").name, _save(f, workdir / "data", f"{i}.upload"))
                for i, f in enumerate(files.get("data", ()))]
        upload = CompetitionUpload(labels=singles["labels"], task_toml=singles["task_toml"],
                                   sample_submission=singles["sample_submission"], data=data, fields=fields)
        return create_from_upload(rt, upload, actor=actor, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
