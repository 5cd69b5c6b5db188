"""Data files of a competition (train, test, sample submission): checked, stored by content, served.

A data file is refused, before anything is stored, when it would hand out the hidden labels:
- it is the labels file: the same bytes, or the same CSV once a BOM, line endings, trailing blanks
  and blank lines are normalised (gzip is looked into);
- it is a CSV whose header holds the task's id column and a target column, whose ids include rows
  of the test set, and whose values in a target column vary over those rows. Only the header, the
  id column and the target columns are read (pyarrow, streamed). A sample submission carries the
  test ids with one constant placeholder per column, which tells nothing, so it is accepted.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import Task, TaskSpecError, load_task
from server.db import LockKey
from server.errors import BadRequest, Conflict, NotFound, msg
from server.models import Competition, DataFile
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.services.code_jobs import hidden_feature_hashes
from server.services.competitions import competition_task, create_competition, get_competition
from server.storage import CHUNK, file_sha256, human_bytes
from server.timeutil import isoformat_utc

__all__ = [
    "DataFileInput", "LabelsFingerprint", "collect_data_files", "labels_fingerprint", "check_data_file",
    "create_competition_with_data", "attach_data_files", "list_data_files", "get_data_file",
    "data_file_path", "data_file_to_dict", "normalised_csv_sha256", "sample_submission_rows",
]

# A name that is safe in a URL path, in Content-Disposition and on every file system.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
GZIP_MAGIC = b"\x1f\x8b"
HEADER_LIMIT = 1 << 20  # a header line longer than this is not a CSV header we check
_BLANKS = b" \t\r\n"


@dataclass(frozen=True)
class DataFileInput:
    """A file to attach: the name participants download it as, and where it is now."""

    name: str
    path: Path


@dataclass(frozen=True)
class LabelsFingerprint:
    """What a data file is compared with: the hidden labels' hashes, id column, targets and ids."""

    sha256: str
    normalised_sha256: str
    header: list[str] | None
    id_column: str
    targets: tuple[str, ...]
    ids: pa.Array  # trimmed strings


@dataclass(frozen=True)
class _Checked:
    item: DataFileInput
    sha256: str
    bytes: int


# -- inputs ------------------------------------------------------------------------------------

def collect_data_files(paths: Sequence[Path]) -> list[DataFileInput]:
    """Expand `--data` arguments: a folder gives its regular files (not hidden, not recursive), a file itself.

    Raises:
        BadRequest: a path is missing, a folder has no file, a name is unsafe or given twice.
    """
    items: list[DataFileInput] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise BadRequest(f"data folder {path} has no files; expected e.g. train.csv, test.csv, sample_submission.csv")
            items.extend(DataFileInput(p.name, p) for p in files)
        elif path.is_file():
            items.append(DataFileInput(path.name, path))
        else:
            raise BadRequest(f"data path {path} is neither a file nor a folder")
    seen: dict[str, Path] = {}
    for item in items:
        _check_name(item.name)
        if item.name in seen:
            raise BadRequest(f"two data files are named {item.name}: {seen[item.name]} and {item.path}; names must differ")
        seen[item.name] = item.path
    return items


def _check_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise BadRequest(f"data file name must be 1-128 letters, digits, '.', '_' or '-' and start with a "
                         f"letter or digit (e.g. train.csv); found {name!r}")


# -- the checks ----------------------------------------------------------------------------------

@contextmanager
def _open_content(path: Path) -> Iterator[IO[bytes]]:
    """Open a file for reading its content: gzip is decompressed (streamed)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as stream:
        yield stream  # type: ignore[misc]


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _normalise(segment: bytes) -> bytes:
    segment = segment.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    segment = re.sub(rb"[ \t]+\n", b"\n", segment)
    return re.sub(rb"\n{2,}", b"\n", segment)


def normalised_csv_sha256(path: Path) -> str:
    """SHA-256 of a CSV's content with BOM, line endings, trailing blanks and blank lines normalised.

    Streamed: blanks at a chunk's end wait for the next chunk, so the result never depends on
    where chunks split.
    """
    digest = hashlib.sha256()
    pending = b""
    started = False
    with _open_content(path) as stream:
        first = True
        while chunk := stream.read(CHUNK):
            if first:
                chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
            data = pending + chunk
            end = len(data.rstrip(_BLANKS))
            if end == 0:
                pending = data if started else b""
                continue
            segment, pending = _normalise(data[:end]), data[end:]
            if not started:
                segment, started = segment.lstrip(b"\n"), True
            digest.update(segment)
    if started:
        digest.update(b"\n")
    return digest.hexdigest()


def _read_ids(path: Path, id_column: str) -> pa.Array:
    options = pacsv.ConvertOptions(include_columns=[id_column], column_types={id_column: pa.string()},
                                   strings_can_be_null=False)
    table = pacsv.read_csv(_arrow_input(path), convert_options=options)
    return pc.utf8_trim_whitespace(table.column(id_column).combine_chunks())


def _arrow_input(path: Path) -> Any:
    return pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None)


def labels_fingerprint(task: Task, labels_path: Path) -> LabelsFingerprint:
    """Read what the checks need from the hidden labels (their id column only, not their values)."""
    sha, _ = file_sha256(labels_path)
    return LabelsFingerprint(sha256=sha, normalised_sha256=normalised_csv_sha256(labels_path),
                             header=_csv_header(labels_path),
                             id_column=task.id_column, targets=tuple(task.target_names),
                             ids=_read_ids(labels_path, task.id_column))


def _csv_header(path: Path) -> list[str] | None:
    """The first line as CSV fields, or None when the file is not UTF-8 text (e.g. a zip)."""
    try:
        with _open_content(path) as stream:
            head = stream.read(HEADER_LIMIT)
    except (OSError, EOFError) as exc:
        raise BadRequest(f"{path.name} cannot be read ({exc}); a .gz data file must be valid gzip") from None
    line = head.removeprefix(b"\xef\xbb\xbf").lstrip(_BLANKS).split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return [field.strip() for field in next(csv.reader([text]), [])]


def _normalised_or_error(item: DataFileInput) -> str:
    try:
        return normalised_csv_sha256(item.path)
    except (OSError, EOFError) as exc:
        raise BadRequest(f"{item.name} cannot be read ({exc}); a .gz data file must be valid gzip") from None


def check_data_file(fp: LabelsFingerprint, item: DataFileInput) -> _Checked:
    """Refuse a data file that would give away the hidden labels; return its hash and size.

    Raises:
        BadRequest (code data_leaks_labels): what the file holds and what to do instead.
    """
    sha, size = file_sha256(item.path)
    leak = "data_leaks_labels"
    if sha == fp.sha256:
        raise BadRequest(f"{item.name} is the hidden labels file (same SHA-256 {sha[:12]}…); "
                         "refused: data files are published to every participant", code=leak)
    header = _csv_header(item.path)
    # Normalising reads the whole file; a different header already proves a different content.
    if header == fp.header and _normalised_or_error(item) == fp.normalised_sha256:
        raise BadRequest(f"{item.name} has the same content as the hidden labels file (after normalising "
                         "line endings and blanks); refused: data files are published to every participant",
                         code=leak)
    if header and fp.id_column in header:
        targets = [t for t in fp.targets if t in header]
        if targets:
            _check_target_columns(fp, item, targets)
    return _Checked(item, sha, size)


def _check_target_columns(fp: LabelsFingerprint, item: DataFileInput, targets: list[str]) -> None:
    """Stream the id and target columns; refuse values that vary over rows of the test set."""
    columns = [fp.id_column, *targets]
    options = pacsv.ConvertOptions(include_columns=columns, column_types={c: pa.string() for c in columns},
                                   strings_can_be_null=False)
    first_value: dict[str, Any] = {}
    try:
        reader = pacsv.open_csv(_arrow_input(item.path), convert_options=options)
        for batch in reader:
            ids = pc.utf8_trim_whitespace(batch.column(fp.id_column))
            in_test = pc.is_in(ids, value_set=fp.ids)
            if not pc.any(in_test).as_py():
                continue
            for name in targets:
                values = pc.unique(pc.filter(batch.column(name), in_test)).to_pylist()
                first_value.setdefault(name, values[0])
                if any(v != first_value[name] for v in values):
                    example = pc.filter(ids, in_test)[0].as_py()
                    raise BadRequest(
                        f"{item.name} holds the target column {name} for rows of the hidden test set "
                        f"(e.g. {fp.id_column} {example}); refused: data files must never carry the test "
                        f"labels. Remove the target columns from the test rows (a sample submission may keep "
                        f"them with one constant placeholder value per column)", code="data_leaks_labels")
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise BadRequest(f"{item.name} has the columns {', '.join(columns)} but cannot be read as CSV to check "
                         f"that it holds no test labels: {exc}") from None


# -- attaching -----------------------------------------------------------------------------------

def create_competition_with_data(rt: Runtime, *, actor: str, task_dir: Path, labels_file: Path,
                                 data: Sequence[DataFileInput], **kwargs: Any) -> Competition:
    """Create a competition and attach its data files; a refused data file refuses the whole creation."""
    if data:
        try:
            task = load_task(task_dir)
        except TaskSpecError as exc:
            raise BadRequest(str(exc)) from None
        if not labels_file.is_file():
            raise BadRequest(f"labels file {labels_file} does not exist")
        fp = _fingerprint_or_error(task, labels_file)
        for item in data:
            check_data_file(fp, item)
    comp = create_competition(rt, actor=actor, task_dir=task_dir, labels_file=labels_file, **kwargs)
    if data:
        attach_data_files(rt, comp.slug, data, actor=actor)
    return comp


def _fingerprint_or_error(task: Task, labels_path: Path) -> LabelsFingerprint:
    try:
        return labels_fingerprint(task, labels_path)
    except (pa.ArrowInvalid, KeyError) as exc:
        raise BadRequest(f"labels file {labels_path.name}: cannot read its {task.id_column} column: {exc}") from None


def attach_data_files(rt: Runtime, slug: str, items: Sequence[DataFileInput], *, actor: str) -> list[DataFile]:
    """Check every file, then store them by content and record them; all or nothing is refused.

    A name already attached with the same bytes is kept as it is (reruns are harmless); with other
    bytes it is refused, as participants may already have downloaded the old file.
    """
    names = [item.name for item in items]
    for name in names:
        _check_name(name)
    if len(set(names)) != len(names):
        raise BadRequest(f"data file names must differ; found {', '.join(names)}")
    with rt.session() as session:
        comp = get_competition(session, slug)
        task = competition_task(rt, comp)
        labels_path = rt.storage.labels_path(comp.labels_file)
        existing = {f.name: f.sha256 for f in list_data_files(session, comp)}
    fp = _fingerprint_or_error(task, labels_path)
    checked = [check_data_file(fp, item) for item in items]
    hidden = hidden_feature_hashes(rt, comp) if task.kind == "code" else {}
    for c in checked:
        _refuse_replacement(slug, c.item.name, existing.get(c.item.name), c.sha256)
        if c.sha256 in hidden:
            raise BadRequest(f"{c.item.name} is the hidden test features file {hidden[c.sha256]} of this code "
                             "competition (same SHA-256); refused: data files are published to every participant",
                             code="hidden_test_features")
    stored = []
    for c in checked:
        relative, saved = rt.storage.save_data(c.item.path)
        if saved.sha256 != c.sha256:
            raise Conflict(f"{c.item.name} changed while it was being checked; try again")
        stored.append((c, relative))
    now = rt.now()
    rows: list[DataFile] = []
    with rt.write(LockKey.INSTANCE) as session:
        comp = get_competition(session, slug)
        current = {f.name: f for f in list_data_files(session, comp)}
        added = []
        for c, relative in stored:
            old = current.get(c.item.name)
            _refuse_replacement(slug, c.item.name, old.sha256 if old else None, c.sha256)
            if old is not None:
                rows.append(old)
                continue
            row = DataFile(competition_id=comp.id, name=c.item.name, bytes=c.bytes, sha256=c.sha256,
                           stored_name=relative, created_at=now)
            session.add(row)
            rows.append(row)
            added.append({"name": row.name, "bytes": row.bytes, "sha256": row.sha256})
        session.flush()
        if added:
            append_action(session, actor=actor, action="competition.data.attach", at=now,
                          competition_id=comp.id, payload={"slug": slug, "files": added})
    return rows


def _refuse_replacement(slug: str, name: str, old_sha: str | None, new_sha: str) -> None:
    if old_sha is not None and old_sha != new_sha:
        raise Conflict(f"competition '{slug}' already has a data file named {name} with other content "
                       f"(SHA-256 {old_sha[:12]}…); participants may have downloaded it, so attach the "
                       "new version under another name")


# -- reading -------------------------------------------------------------------------------------

def list_data_files(session: Session, comp: Competition) -> list[DataFile]:
    return list(session.execute(
        sa.select(DataFile).where(DataFile.competition_id == comp.id).order_by(DataFile.name)
    ).scalars())


def get_data_file(session: Session, comp: Competition, name: str) -> DataFile:
    row = session.execute(
        sa.select(DataFile).where(DataFile.competition_id == comp.id, DataFile.name == name)
    ).scalar_one_or_none()
    if row is None:
        names = [f.name for f in list_data_files(session, comp)]
        if names:
            raise NotFound(msg("competition '%(slug)s' has no data file named %(name)s; its files: %(files)s",
                               slug=comp.slug, name=repr(name), files=", ".join(names)))
        raise NotFound(msg("competition '%(slug)s' has no data file named %(name)s; its files: none yet",
                           slug=comp.slug, name=repr(name)))
    return row


def data_file_path(rt: Runtime, row: DataFile) -> Path:
    return rt.storage.data_path(row.stored_name)


SAMPLE_NAMES = ("sample_submission.csv", "sample_submission.csv.gz")


def sample_submission_rows(rt: Runtime, session: Session, comp: Competition, columns: Sequence[str],
                           rows: int = 4) -> list[list[str]] | None:
    """The header and first rows of the competition's own attached sample submission, when its
    header is the task's columns; None when none is attached (or it cannot be read as that CSV).
    Reads at most the first HEADER_LIMIT bytes."""
    for name in SAMPLE_NAMES:
        row = session.execute(sa.select(DataFile).where(
            DataFile.competition_id == comp.id, DataFile.name == name)).scalar_one_or_none()
        if row is None:
            continue
        try:
            with _open_content(data_file_path(rt, row)) as stream:
                head = stream.read(HEADER_LIMIT)
        except (OSError, EOFError):  # a missing or broken stored file: fall back, never a 500
            return None
        lines = head.decode("utf-8-sig", errors="replace").splitlines()
        parsed = [line for _, line in zip(range(rows), csv.reader(lines[:rows]), strict=False)]
        if parsed and parsed[0] == list(columns):
            return parsed
    return None


def data_file_to_dict(row: DataFile, slug: str) -> dict[str, Any]:
    return {"name": row.name, "bytes": row.bytes, "size": human_bytes(row.bytes), "sha256": row.sha256,
            "url": f"/api/v1/competitions/{slug}/data/{row.name}", "created_at": isoformat_utc(row.created_at)}
