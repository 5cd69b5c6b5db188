"""Competitions: creation from a task folder and hidden labels, schedule, limits and state."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import LabelsError, Task, TaskSpecError, get_metric, load_task, parse_task, read_labels
from server.errors import BadRequest, Conflict, NotFound
from server.models import Competition
from server.db import LockKey
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.timeutil import isoformat_local, isoformat_utc, parse_datetime, zone

__all__ = [
    "CompetitionSettings", "create_competition", "update_competition", "get_competition",
    "list_competitions", "competition_state", "competition_task", "competition_labels",
    "competition_to_dict",
]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass
class CompetitionSettings:
    """Organizer-set values; None means "the task's default" (create) or "unchanged" (update)."""

    start: str | None = None
    end: str | None = None
    timezone: str | None = None
    daily_limit: int | None = None
    total_limit: int | None = None
    max_final: int | None = None
    precision: int | None = None
    public_fraction: float | None = None
    max_upload_mb: float | None = None
    title_ko: str | None = None
    title_en: str | None = None


def get_competition(session: Session, slug: str) -> Competition:
    comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one_or_none()
    if comp is None:
        raise NotFound(f"no competition '{slug}'")
    return comp


def list_competitions(session: Session) -> list[Competition]:
    return list(session.execute(sa.select(Competition).order_by(Competition.start_at, Competition.id)).scalars())


def competition_state(comp: Competition, now: datetime) -> str:
    """upcoming | open | closed | frozen | published."""
    if comp.published_at is not None:
        return "published"
    if comp.frozen_at is not None:
        return "frozen"
    if now < comp.start_at:
        return "upcoming"
    if now < comp.end_at:
        return "open"
    return "closed"


def competition_task(rt: Runtime, comp: Competition) -> Task:
    return rt.cached(("task", comp.id, comp.task_toml), lambda: parse_task(comp.task_toml, f"competition {comp.slug}"))


def competition_labels(rt: Runtime, comp: Competition) -> Any:
    """Parsed hidden labels with the competition's split; cached per process (workers reuse it)."""
    task = competition_task(rt, comp)
    path = rt.storage.labels_path(comp.labels_file)
    key = ("labels", comp.labels_sha256, comp.split_seed, comp.public_fraction, comp.task_toml)
    return rt.cached(key, lambda: read_labels(path, task, public_fraction=comp.public_fraction, seed=comp.split_seed))


def _check_int(name: str, value: int | None, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise BadRequest(f"{name} must be a whole number {bound}, found {value!r}")


def _apply_settings(comp: Competition, s: CompetitionSettings, task: Task | None) -> None:
    defaults = dict(task.defaults) if task else {}
    tz = s.timezone or comp.timezone
    zone(tz)
    comp.timezone = tz
    if s.start is not None:
        comp.start_at = parse_datetime(s.start, "start", tz)
    if s.end is not None:
        comp.end_at = parse_datetime(s.end, "end", tz)
    for name in ("daily_limit", "max_final", "precision"):
        value = getattr(s, name)
        if value is None and task is not None:
            value = defaults.get(name)
        _check_int(name, value, 1 if name != "precision" else 0, 12 if name == "precision" else None)
        if value is not None:
            setattr(comp, name, value)
    if s.total_limit is not None:
        _check_int("total_limit", s.total_limit, 0)
        comp.total_limit = s.total_limit or None  # 0 clears the limit
    if s.max_upload_mb is not None or task is not None:
        mb = s.max_upload_mb if s.max_upload_mb is not None else defaults.get("max_upload_mb", 100)
        if not isinstance(mb, int | float) or mb <= 0 or mb > 10_000:
            raise BadRequest(f"max_upload_mb must be a number of megabytes in (0, 10000], found {mb!r}")
        comp.max_upload_bytes = int(mb * 1_000_000)
    for name in ("title_ko", "title_en"):
        if getattr(s, name):
            setattr(comp, name, getattr(s, name))
    if comp.end_at <= comp.start_at:
        raise BadRequest(
            f"end must be after start; found start {isoformat_local(comp.start_at, tz)} "
            f"and end {isoformat_local(comp.end_at, tz)}"
        )


def create_competition(rt: Runtime, *, actor: str, task_dir: Path, labels_file: Path,
                       slug: str | None = None, settings: CompetitionSettings | None = None,
                       split_seed: str | None = None) -> Competition:
    """Create a competition from a task folder and a hidden labels file.

    The task.toml text and a copy of the labels are stored in the instance, so the competition
    never depends on the folders it was made from.
    """
    s = settings or CompetitionSettings()
    try:
        task = load_task(task_dir)
    except TaskSpecError as exc:
        raise BadRequest(str(exc)) from None
    toml_path = task_dir / "task.toml" if task_dir.is_dir() else task_dir
    slug = slug or task.slug
    if not SLUG_RE.match(slug):
        raise BadRequest(f"slug must be 3-64 lowercase letters, digits and dashes, found {slug!r}")
    if not labels_file.is_file():
        raise BadRequest(f"labels file {labels_file} does not exist")
    fraction = s.public_fraction if s.public_fraction is not None else float(task.defaults.get("public_fraction", 0.3))
    if not 0 < fraction < 1:
        raise BadRequest(f"public_fraction must be between 0 and 1 (exclusive), found {fraction!r}")
    seed = split_seed or secrets.token_hex(16)
    try:
        labels = read_labels(labels_file, task, public_fraction=fraction, seed=seed)
    except LabelsError as exc:
        raise BadRequest(f"labels file {labels_file.name}: {exc}") from None
    metric = get_metric(task.metric)
    now = rt.now()
    comp = Competition(
        slug=slug, task_slug=task.slug, task_toml=toml_path.read_text(encoding="utf-8"),
        title_ko=task.title_ko, title_en=task.title_en, metric=task.metric,
        greater_is_better=bool(metric.greater_is_better),
        labels_rows=labels.rows, split_method=labels.split, split_seed=seed,
        public_fraction=fraction, public_rows=int(labels.public_mask.sum()),
        start_at=now, end_at=now + timedelta(days=30), timezone=rt.config["TIMEZONE"],
        daily_limit=3, max_final=2, precision=6, max_upload_bytes=rt.config["MAX_UPLOAD_MB"] * 1_000_000,
        created_at=now, updated_at=now,
    )
    if s.start is None and s.end is not None:
        comp.start_at = now
    _apply_settings(comp, s, task)
    comp.labels_file, comp.labels_sha256 = rt.storage.save_labels(labels_file)
    if comp.labels_sha256 != labels.sha256:
        raise Conflict("labels file changed while it was being read; try again")
    with rt.write(LockKey.INSTANCE) as session:
        if session.execute(sa.select(Competition.id).where(Competition.slug == slug)).first():
            raise Conflict(f"competition '{slug}' already exists; choose another --slug")
        session.add(comp)
        session.flush()
        append_action(session, actor=actor, action="competition.create", at=now, competition_id=comp.id,
                      payload={"slug": slug, "task": task.slug, "labels_sha256": comp.labels_sha256,
                               "split": labels.split, "split_seed": seed, "settings": settings_dict(comp)})
    return comp


def update_competition(rt: Runtime, slug: str, settings: CompetitionSettings, *, actor: str) -> Competition:
    """Change schedule and limits; refused once the competition is frozen."""
    now = rt.now()
    with rt.write(LockKey.INSTANCE) as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is not None:
            raise Conflict(f"competition '{slug}' is frozen; its settings can no longer change")
        if settings.public_fraction is not None:
            raise BadRequest("public_fraction cannot change after creation: the split is fixed so scores stay comparable")
        before = settings_dict(comp)
        _apply_settings(comp, settings, None)
        comp.updated_at = now
        after = settings_dict(comp)
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        append_action(session, actor=actor, action="competition.update", at=now,
                      competition_id=comp.id, payload={"slug": slug, "changed": changed})
    return comp


def settings_dict(comp: Competition) -> dict[str, Any]:
    return {
        "start_at": isoformat_utc(comp.start_at), "end_at": isoformat_utc(comp.end_at),
        "timezone": comp.timezone, "daily_limit": comp.daily_limit, "total_limit": comp.total_limit,
        "max_final": comp.max_final, "precision": comp.precision,
        "public_fraction": comp.public_fraction, "max_upload_bytes": comp.max_upload_bytes,
    }


def competition_to_dict(comp: Competition, now: datetime) -> dict[str, Any]:
    """Public description of a competition (no labels path, no seed)."""
    return {
        "slug": comp.slug, "task": comp.task_slug, "title_ko": comp.title_ko, "title_en": comp.title_en,
        "metric": comp.metric, "greater_is_better": comp.greater_is_better,
        "state": competition_state(comp, now),
        "start_at": isoformat_utc(comp.start_at), "end_at": isoformat_utc(comp.end_at),
        "start_at_local": isoformat_local(comp.start_at, comp.timezone),
        "end_at_local": isoformat_local(comp.end_at, comp.timezone),
        "timezone": comp.timezone, "daily_limit": comp.daily_limit, "total_limit": comp.total_limit,
        "max_final": comp.max_final, "precision": comp.precision,
        "public_fraction": comp.public_fraction, "public_rows": comp.public_rows, "rows": comp.labels_rows,
        "max_upload_bytes": comp.max_upload_bytes,
        "frozen_at": isoformat_utc(comp.frozen_at), "published_at": isoformat_utc(comp.published_at),
    }
