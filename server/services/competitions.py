"""Competitions: creation from a task folder and hidden labels, schedule, limits and state."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import LabelsError, Task, TaskSpecError, get_metric, load_task, parse_task, read_labels
from server.db import LockKey
from server.errors import BadRequest, Conflict, NotFound, msg
from server.models import Competition
from server.runtime import Runtime
from server.services.actionlog import append_action
from server.services.competition_defaults import SETTING_KEYS, check, resolve
from server.timeutil import isoformat_local, isoformat_utc, parse_datetime

__all__ = [
    "CompetitionSettings", "create_competition", "update_competition", "get_competition",
    "list_competitions", "competition_state", "competition_task", "competition_labels",
    "competition_to_dict",
]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass
class CompetitionSettings:
    """Organizer-set values. None means: on create, the next source in the order of
    services.competition_defaults (task [defaults], instance configuration, built-in); on
    update, unchanged."""

    start: str | None = None
    end: str | None = None
    timezone: str | None = None
    daily_limit: int | None = None
    total_limit: int | None = None
    max_final: int | None = None
    precision: int | None = None
    public_fraction: float | None = None
    max_upload_mb: float | None = None
    public_feedback: str | None = None
    title_ko: str | None = None
    title_en: str | None = None


def get_competition(session: Session, slug: str) -> Competition:
    comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one_or_none()
    if comp is None:
        raise NotFound(msg("no competition '%(slug)s'", slug=slug))
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


def _store(comp: Competition, values: dict[str, Any]) -> None:
    """Write checked setting values onto the row (total_limit 0 is stored as "no limit")."""
    for key, value in values.items():
        if key == "max_upload_mb":
            comp.max_upload_bytes = int(value * 1_000_000)
        elif key == "total_limit":
            comp.total_limit = value or None
        else:
            setattr(comp, key, value)


def _apply_schedule_and_titles(comp: Competition, s: CompetitionSettings) -> None:
    """Start, end (read in the competition's zone when they carry no offset) and titles."""
    if s.start is not None:
        comp.start_at = parse_datetime(s.start, "start", comp.timezone)
    if s.end is not None:
        comp.end_at = parse_datetime(s.end, "end", comp.timezone)
    for name in ("title_ko", "title_en"):
        if getattr(s, name):
            setattr(comp, name, getattr(s, name))
    if comp.end_at <= comp.start_at:
        raise BadRequest(
            f"end must be after start; found start {isoformat_local(comp.start_at, comp.timezone)} "
            f"and end {isoformat_local(comp.end_at, comp.timezone)}", field="end", code="end_before_start"
        )


def _given(s: CompetitionSettings) -> dict[str, Any]:
    return {key: getattr(s, key) for key in SETTING_KEYS}


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
        raise BadRequest(msg("slug must be 3-64 lowercase letters, digits and dashes, found %(found)s",
                                 found=repr(slug)), field="slug")
    if not labels_file.is_file():
        raise BadRequest(f"labels file {labels_file} does not exist")
    # One order for every setting: flag/API value, task.toml [defaults], HACKATHON_<KEY>, built-in.
    values = resolve(_given(s), task.defaults, rt.config, BadRequest)
    fraction = float(values["public_fraction"])
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
        public_rows=int(labels.public_mask.sum()),
        start_at=now, end_at=now + timedelta(days=30), created_at=now, updated_at=now,
    )
    _store(comp, values)
    _apply_schedule_and_titles(comp, s)
    comp.labels_file, comp.labels_sha256 = rt.storage.save_labels(labels_file)
    if comp.labels_sha256 != labels.sha256:
        raise Conflict("labels file changed while it was being read; try again")
    with rt.write(LockKey.INSTANCE) as session:
        if session.execute(sa.select(Competition.id).where(Competition.slug == slug)).first():
            raise Conflict(msg("competition '%(slug)s' already exists; choose another --slug", slug=slug), field="slug")
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
            raise Conflict(f"competition '{slug}' is frozen; its settings can no longer change", code="frozen")
        if settings.public_fraction is not None:
            raise BadRequest("public_fraction cannot change after creation: the split is fixed so scores stay comparable",
                             field="public_fraction")
        before = settings_dict(comp)
        given = {k: v for k, v in _given(settings).items() if v is not None}  # None: unchanged
        for key, value in given.items():
            problem = check(key, value, "the organizer's settings")
            if problem:
                raise BadRequest(problem, field=key)
        _store(comp, given)
        _apply_schedule_and_titles(comp, settings)
        comp.updated_at = now
        after = settings_dict(comp)
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        if "public_feedback" in changed or "precision" in changed:
            _refresh_standings(session, comp)
        append_action(session, actor=actor, action="competition.update", at=now,
                      competition_id=comp.id, payload={"slug": slug, "changed": changed})
    return comp


def _refresh_standings(session: Session, comp: Competition) -> None:
    """Recompute every team's public standing: what the board shows depends on the mode and precision."""
    from server.models import TeamStanding
    from server.services.leaderboard import refresh_standing  # imported here: leaderboard imports this module's users

    session.flush()
    for team_id in session.execute(sa.select(TeamStanding.team_id).where(TeamStanding.competition_id == comp.id)
                                   .order_by(TeamStanding.team_id)).scalars().all():  # refresh_standing locks: in order
        refresh_standing(session, comp, team_id)


def settings_dict(comp: Competition) -> dict[str, Any]:
    return {
        "start_at": isoformat_utc(comp.start_at), "end_at": isoformat_utc(comp.end_at),
        "timezone": comp.timezone, "daily_limit": comp.daily_limit, "total_limit": comp.total_limit,
        "max_final": comp.max_final, "precision": comp.precision,
        "public_fraction": comp.public_fraction, "max_upload_bytes": comp.max_upload_bytes,
        "public_feedback": comp.public_feedback,
    }


@functools.lru_cache(maxsize=256)
def task_kind(task_toml: str) -> str:
    """The task's kind, "csv" (prediction files) or "code" (submit.zip); cached by the TOML text."""
    return parse_task(task_toml, "stored task").kind


def competition_to_dict(comp: Competition, now: datetime) -> dict[str, Any]:
    """Public description of a competition (no labels path, no seed)."""
    return {
        "slug": comp.slug, "task": comp.task_slug, "kind": task_kind(comp.task_toml), "title_ko": comp.title_ko, "title_en": comp.title_en,
        "metric": comp.metric, "greater_is_better": comp.greater_is_better,
        "state": competition_state(comp, now),
        "start_at": isoformat_utc(comp.start_at), "end_at": isoformat_utc(comp.end_at),
        "start_at_local": isoformat_local(comp.start_at, comp.timezone),
        "end_at_local": isoformat_local(comp.end_at, comp.timezone),
        "timezone": comp.timezone, "daily_limit": comp.daily_limit, "total_limit": comp.total_limit,
        "max_final": comp.max_final, "precision": comp.precision,
        "public_fraction": comp.public_fraction, "public_rows": comp.public_rows, "rows": comp.labels_rows,
        "max_upload_bytes": comp.max_upload_bytes, "public_feedback": comp.public_feedback,
        "frozen_at": isoformat_utc(comp.frozen_at), "published_at": isoformat_utc(comp.published_at),
    }
