"""Competitions created and changed over HTTP: form fields read into settings, a task from the bundled
ones or from an uploaded task.toml and sample submission, then the same services as the CLI.

Field names are the CLI's option names with underscores (`daily_limit`, `max_upload_mb`, ...). A
multipart form sends text; a JSON body may send numbers. Every refusal names its field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.errors import AppError, BadRequest, msg
from server.models import Competition
from server.runtime import Runtime
from server.services.competition_defaults import SETTINGS, check
from server.services.competitions import CompetitionSettings, update_competition
from server.services.datafiles import DataFileInput, create_competition_with_data
from server.timeutil import parse_datetime

__all__ = ["SETTING_FIELDS", "CREATE_FIELDS", "CompetitionUpload", "read_settings", "create_from_upload",
           "update_from_fields", "SAMPLE_NAME"]

_KINDS = {s.key: s.kind for s in SETTINGS}
# Schedule and titles are text; the settings of competition_defaults have their own kinds.
SETTING_FIELDS = ("start", "end", "title_ko", "title_en", *(s.key for s in SETTINGS))
CREATE_FIELDS = ("slug", "split_seed", "task", *SETTING_FIELDS)
SAMPLE_NAME = "sample_submission.csv"


@dataclass(frozen=True)
class CompetitionUpload:
    """What a creation request brought: a bundled task's name, or an uploaded task.toml and sample
    submission (saved to files by the view); the hidden labels file; data files; form fields."""

    labels: Path | None
    fields: Mapping[str, Any]
    task_toml: Path | None = None
    sample_submission: Path | None = None
    data: Sequence[DataFileInput] = ()


def _number(key: str, raw: Any, kind: type) -> Any:
    if isinstance(raw, bool):
        raise BadRequest(f"{key} must be a number, found {raw!r}", field=key)
    if isinstance(raw, int | float):
        value = raw
    elif isinstance(raw, str) and raw.strip():
        try:
            value = float(raw.strip()) if kind is float else int(raw.strip())
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise BadRequest(f"{key} must be {what}, found {raw!r}", field=key) from None
    else:
        raise BadRequest(f"{key} must be a number, found {raw!r}", field=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{key} must be a finite number, found {raw!r}", field=key)
    problem = check(key, value, "the organizer's settings")
    if problem:
        raise BadRequest(problem, field=key)
    return value


def read_settings(fields: Mapping[str, Any], allowed: Sequence[str]) -> CompetitionSettings:
    """Settings from form or JSON fields; an unknown field or a bad value answers 400 naming it.
    Empty text means "not given" (an HTML form sends every field)."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; expected some of: {', '.join(allowed)}", field=unknown[0])
    values: dict[str, Any] = {}
    for key in SETTING_FIELDS:
        raw = fields.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        kind = _KINDS.get(key, str)
        if kind is str:
            if not isinstance(raw, str):
                raise BadRequest(f"{key} must be text, found {raw!r}", field=key)
            value: Any = raw.strip()
            if key in _KINDS:
                problem = check(key, value, "the organizer's settings")
                if problem:
                    raise BadRequest(problem, field=key)
        else:
            value = _number(key, raw, kind)
        if key in ("start", "end"):
            parse_datetime(value, key, "UTC")  # the form now; the zone is applied once it is known
        values[key] = value
    return CompetitionSettings(**values)


def _text(fields: Mapping[str, Any], key: str) -> str | None:
    raw = fields.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"{key} must be text, found {raw!r}", field=key)
    return raw.strip()


def _task_folder(upload: CompetitionUpload, workdir: Path) -> tuple[Path, list[DataFileInput]]:
    """The task folder to create from, and the data files it adds (an uploaded sample submission)."""
    name = _text(upload.fields, "task")
    if name is not None and (upload.task_toml or upload.sample_submission):
        raise BadRequest("give either task (a bundled task's name) or the files task_toml and sample_submission, "
                         "not both", field="task")
    if name is not None:
        import datasets

        try:
            return datasets.task_dir(name), []
        except ValueError as exc:
            raise BadRequest(str(exc), field="task") from None
    if upload.task_toml is None:
        raise BadRequest(msg("expected task (a bundled task's name, e.g. antenna) or an uploaded task_toml file "
                             "with its sample_submission"), field="task_toml")
    if upload.sample_submission is None:
        raise BadRequest(msg("an uploaded task needs its sample submission: add the file field sample_submission"),
                         field="sample_submission")
    folder = workdir / "task"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.toml").write_bytes(upload.task_toml.read_bytes())
    extra = [] if any(d.name == SAMPLE_NAME for d in upload.data) else [DataFileInput(SAMPLE_NAME, upload.sample_submission)]
    return folder, extra


def create_from_upload(rt: Runtime, upload: CompetitionUpload, *, actor: str, workdir: Path) -> Competition:
    """Create a competition as `hackathon competition create` does (labels into the organizer-only
    folder, data files checked against them, one action-log entry each)."""
    settings = read_settings(upload.fields, CREATE_FIELDS)
    if upload.labels is None:
        raise BadRequest(msg("expected the hidden labels file in the file field labels"), field="labels")
    task_dir, extra = _task_folder(upload, workdir)
    try:
        return create_competition_with_data(
            rt, actor=actor, task_dir=task_dir, labels_file=upload.labels, data=[*upload.data, *extra],
            slug=_text(upload.fields, "slug"), settings=settings, split_seed=_text(upload.fields, "split_seed"))
    except AppError as exc:
        # The files were saved under a temporary folder: its path means nothing to the caller.
        exc.message = exc.message.replace(f"{workdir}/", "").replace(str(workdir), "")
        exc.args = (exc.message,)
        exc.extra.setdefault("field", _field_of(exc))
        raise


def _field_of(exc: AppError) -> str | None:
    """The form field an error of the creation services is about."""
    if exc.code == "data_leaks_labels" or exc.message.startswith("data file"):
        return "data"
    if exc.message.startswith("labels file"):
        return "labels"
    if exc.message.startswith("slug") or "choose another --slug" in exc.message:
        return "slug"
    if "task.toml" in exc.message:
        return "task_toml"
    return None


def update_from_fields(rt: Runtime, slug: str, fields: Mapping[str, Any], *, actor: str) -> Competition:
    """Change schedule and limits (only the fields given); as `hackathon competition update`."""
    if not fields:
        raise BadRequest(f"nothing to change: give some of {', '.join(SETTING_FIELDS)}")
    return update_competition(rt, slug, read_settings(fields, SETTING_FIELDS), actor=actor)
