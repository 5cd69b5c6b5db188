"""Freeze (the immutable final snapshot and its SHA-256) and publish."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import SCORER_VERSION
from server.db import LockKey, advisory_lock
from server.errors import Conflict
from server.models import PENDING_STATUSES, Competition, Snapshot, Submission, Team
from server.runtime import Runtime
from server.services.actionlog import append_action, canonical_json
from server.services.boards import ROW_COLUMNS, BoardBuilder, Row, chosen_finals, team_names
from server.services.competitions import get_competition, settings_dict
from server.services.inflight import arriving_uploads
from server.services.snapshot import get_snapshot, snapshot_content
from server.timeutil import isoformat_local, isoformat_utc

__all__ = ["freeze", "freeze_refusal", "publish", "build_snapshot", "snapshot_summary", "snapshot_digest", "SNAPSHOT_FORMAT"]

SNAPSHOT_FORMAT = 1


def snapshot_digest(text: str) -> str:
    """Return the SHA-256 of a snapshot's canonical JSON text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock_uploads(session: Session, comp: Competition) -> None:
    # PostgreSQL: an upload holds its team's advisory lock from its final check to its commit.
    # Taking every team's lock waits out uploads already past their check; later ones then see
    # frozen_at and are refused. (SQLite's BEGIN IMMEDIATE already serialises all writers.)
    if session.get_bind().dialect.name != "postgresql":
        return
    for team_id in session.execute(sa.select(Team.id).order_by(Team.id)).scalars():
        advisory_lock(session, LockKey.TEAM_UPLOAD, comp.id, team_id)


def build_snapshot(session: Session, comp: Competition, frozen_at: datetime, actor: str) -> dict[str, Any]:
    """Assemble the final standings: settings, boards, finals and every submission's scores."""
    names = team_names(session)
    builder = BoardBuilder(comp, chosen_finals(session, comp), names)
    submissions: list[dict[str, Any]] = []
    query = (sa.select(*ROW_COLUMNS, Submission.sha256, Submission.bytes)
             .where(Submission.competition_id == comp.id)
             .order_by(Submission.received_at, Submission.id))
    for r in session.execute(query.execution_options(yield_per=2000)):
        row = Row(*r[:6])
        builder.add(row)
        # Full-precision floats: canonical JSON writes repr(), which reads back to the same double.
        submissions.append({"id": row.id, "team_id": row.team_id, "team": names[row.team_id],
                            "status": row.status, "received_at": isoformat_utc(row.received_at),
                            "sha256": r.sha256, "bytes": r.bytes,
                            "public_score": row.public_score, "private_score": row.private_score})
    boards = builder.finish()
    flags = boards.final_flags()
    for sub in submissions:
        sub["final"] = flags.get(sub["id"])
    return {
        "format": SNAPSHOT_FORMAT,
        "competition": {"slug": comp.slug, "task": comp.task_slug, "title_ko": comp.title_ko,
                        "title_en": comp.title_en, "metric": comp.metric,
                        "greater_is_better": comp.greater_is_better, "rows": comp.labels_rows,
                        "public_rows": comp.public_rows, "settings": settings_dict(comp)},
        "labels_sha256": comp.labels_sha256,
        "split": {"method": comp.split_method, "seed": comp.split_seed, "public_fraction": comp.public_fraction},
        "scorer_version": SCORER_VERSION,
        "frozen_at": isoformat_utc(frozen_at),
        "frozen_by": actor,
        "public_board": boards.public,
        "private_board": boards.private,
        "finals": boards.finals,
        "submissions": submissions,
    }


def freeze_refusal(session: Session, comp: Competition, now: datetime, *, lock: bool = False) -> Conflict | None:
    """Why the competition cannot be frozen now (the error to raise), or None. With `lock`, inside
    the freeze's transaction: waits out uploads already past their checks before counting."""
    slug = comp.slug
    if comp.frozen_at is not None:
        snapshot = get_snapshot(session, comp)
        return Conflict(f"competition '{slug}' was already frozen at "
                        f"{isoformat_local(comp.frozen_at, comp.timezone)} (snapshot sha256 "
                        f"{snapshot.sha256 if snapshot else '?'}); a snapshot is never replaced",
                        code="already_frozen")
    if now < comp.end_at:
        return Conflict(f"competition '{slug}' ends at {isoformat_local(comp.end_at, comp.timezone)}; "
                        f"it can be frozen only after that (now {isoformat_local(now, comp.timezone)})",
                        code="not_ended", end_at=isoformat_utc(comp.end_at))
    if lock:
        _lock_uploads(session, comp)
    pending = session.execute(
        sa.select(sa.func.count()).where(Submission.competition_id == comp.id,
                                         Submission.status.in_(PENDING_STATUSES),
                                         Submission.received_at < comp.end_at)).scalar_one()
    if pending:
        return Conflict(f"{pending} submission{'s' if pending != 1 else ''} received before the end "
                        f"{'are' if pending != 1 else 'is'} still queued or being scored; wait for the "
                        "workers (or run `hackathon reconcile`) and freeze again",
                        code="scoring_pending", pending=pending)
    return None


def freeze(rt: Runtime, slug: str, actor: str) -> dict[str, Any]:
    """Store the final standings as an immutable snapshot; return its summary.

    Raises:
        Conflict: before end_at, while submissions received before end_at still wait for a
            score, or when the competition is already frozen.
    """
    now = rt.now()
    with rt.session() as session:
        comp = get_competition(session, slug)
    if comp.frozen_at is None and now >= comp.end_at:
        _wait_for_arriving_uploads(rt, comp, now)
        now = rt.now()
    with rt.write(LockKey.COMPETITION, comp.id) as session:
        comp = get_competition(session, slug)
        refusal = freeze_refusal(session, comp, now, lock=True)
        if refusal is not None:
            raise refusal
        content = build_snapshot(session, comp, now, actor)
        text = canonical_json(content)
        digest = snapshot_digest(text)
        snapshot = Snapshot(competition_id=comp.id, created_at=now, content=text, sha256=digest)
        session.add(snapshot)
        comp.frozen_at = now
        append_action(session, actor=actor, action="freeze", at=now, competition_id=comp.id,
                      payload={"slug": slug, "snapshot_sha256": digest,
                               "submissions": len(content["submissions"]),
                               "public_teams": len(content["public_board"]),
                               "private_teams": len(content["private_board"]),
                               "labels_sha256": comp.labels_sha256, "scorer_version": SCORER_VERSION})
        summary = snapshot_summary(comp, snapshot, content, include_private=True)
    from server.queue import enqueue_confidence  # after the commit: the job reads the snapshot

    enqueue_confidence(rt, comp.id)
    return summary


def _wait_for_arriving_uploads(rt: Runtime, comp: Competition, now: datetime) -> None:
    """Wait (up to FREEZE_WAIT seconds) for uploads received before end_at that are still arriving.

    Receipt is when a request arrived, so such an upload is on time and must be in the snapshot.
    An upload registers a moment after its receipt; the first second after end_at is waited out
    so one received just before the end is seen.
    """
    settle = (comp.end_at + timedelta(seconds=1) - now).total_seconds()
    if settle > 0:
        time.sleep(settle)
    deadline = time.monotonic() + rt.config.get("FREEZE_WAIT", 30)
    while arriving := arriving_uploads(rt, comp.id, comp.end_at):
        if time.monotonic() >= deadline:
            names = "; ".join(f"{a.team} since {isoformat_local(a.received_at, comp.timezone)}, {a.bytes:,} bytes so far"
                              for a in arriving[:10])
            raise Conflict(f"{len(arriving)} upload{'s' if len(arriving) != 1 else ''} received before the end "
                           f"{'are' if len(arriving) != 1 else 'is'} still arriving ({names}); they are on time, "
                           "so freeze again when they have arrived", code="uploads_arriving",
                           arriving=[{"team": a.team, "received_at": isoformat_utc(a.received_at), "bytes": a.bytes}
                                     for a in arriving])
        time.sleep(0.2)


def publish(rt: Runtime, slug: str, actor: str) -> dict[str, Any]:
    """Make the frozen private board public; return the snapshot summary.

    Raises:
        Conflict: when the competition is not frozen yet, or is already published.
    """
    now = rt.now()
    with rt.session() as session:
        comp = get_competition(session, slug)
    with rt.write(LockKey.COMPETITION, comp.id) as session:
        comp = get_competition(session, slug)
        if comp.frozen_at is None:
            raise Conflict(f"competition '{slug}' is not frozen; freeze it first (`hackathon freeze {slug}`)",
                           code="not_frozen")
        if comp.published_at is not None:
            raise Conflict(f"competition '{slug}' was already published at "
                           f"{isoformat_local(comp.published_at, comp.timezone)}", code="already_published")
        snapshot = get_snapshot(session, comp)
        if snapshot is None:  # frozen_at set by hand without a snapshot: never publish that
            raise Conflict(f"competition '{slug}' is marked frozen but has no snapshot; run `hackathon verify {slug}`")
        comp.published_at = now
        append_action(session, actor=actor, action="publish", at=now, competition_id=comp.id,
                      payload={"slug": slug, "snapshot_sha256": snapshot.sha256})
        return snapshot_summary(comp, snapshot, snapshot_content(snapshot), include_private=True)


def snapshot_summary(comp: Competition, snapshot: Snapshot, content: dict[str, Any], *,
                     include_private: bool) -> dict[str, Any]:
    """The snapshot as the API and CLI return it: hash, times, counts and the boards."""
    body: dict[str, Any] = {
        "competition": comp.slug, "sha256": snapshot.sha256,
        "frozen_at": isoformat_utc(comp.frozen_at), "frozen_at_local": isoformat_local(comp.frozen_at, comp.timezone),
        "published_at": isoformat_utc(comp.published_at),
        "published_at_local": isoformat_local(comp.published_at, comp.timezone),
        "scorer_version": content["scorer_version"], "labels_sha256": content["labels_sha256"],
        "submissions": len(content["submissions"]),
        "teams": len(content["finals"]),
        "public_board": content["public_board"],
    }
    if include_private:
        body["private_board"] = content["private_board"]
        body["finals"] = content["finals"]
    return body
