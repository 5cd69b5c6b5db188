"""Uploads: schedule, daily limit (checked and inserted in one atomic step), views of a submission."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import redis
import sqlalchemy as sa
from redis.client import Pipeline
from sqlalchemy.orm import Session

from server.caller import Caller
from server.db import LockKey
from server.errors import BadRequest, Conflict, PayloadTooLarge, RateLimited, msg
from server.models import COUNTED_STATUSES, Competition, Submission
from server.queue import enqueue_scoring
from server.runtime import Runtime
from server.services.access import (
    can_see_private_scores,
    can_see_public_scores,
    check_list_submissions,
    check_submission,
    check_submission_file,
    own_team,
)
from server.services.board_version import publish_with
from server.services.boards import build_boards
from server.services.competitions import competition_state, get_competition
from server.services.inflight import track_upload
from server.services.leaderboard import standing_after_upload
from server.services.ranking import shown
from server.statuses import SubmissionStatus
from server.storage import human_bytes
from server.timeutil import isoformat_local, isoformat_utc, local_day_bounds

__all__ = [
    "Accepted", "accept_submission", "get_submission", "get_submission_file", "list_submissions", "submission_to_dict",
    "quota_today", "check_declared_size", "REJECTED_PER_LIMIT", "MULTIPART_SLACK",
]

log = logging.getLogger(__name__)

# At most daily_limit × 3 invalid files a day are taken (spam guard); they do not count otherwise.
REJECTED_PER_LIMIT = 3
MAX_NOTE = 1000
# Room for multipart headers and the note around the file itself.
MULTIPART_SLACK = 64 * 1024


@dataclass(frozen=True)
class Accepted:
    submission: Submission
    competition: Competition
    remaining_today: int
    resets_at: datetime


@dataclass(frozen=True)
class Quota:
    counted: int
    uncounted: int
    resets_at: datetime
    total: int


def quota_today(session: Session, comp: Competition, team_id: int, now: datetime) -> Quota:
    """Count the team's submissions of the local calendar day holding `now`."""
    start, end = local_day_bounds(now, comp.timezone)
    rows = session.execute(
        sa.select(Submission.status, sa.func.count())
        .where(Submission.competition_id == comp.id, Submission.team_id == team_id,
               Submission.received_at >= start, Submission.received_at < end)
        .group_by(Submission.status)
    ).all()
    counted = sum(n for status, n in rows if status in COUNTED_STATUSES)
    uncounted = sum(n for status, n in rows if status not in COUNTED_STATUSES)
    total = 0
    if comp.total_limit:
        total = session.execute(
            sa.select(sa.func.count()).where(Submission.competition_id == comp.id, Submission.team_id == team_id,
                                             Submission.status.in_(COUNTED_STATUSES))
        ).scalar_one()
    return Quota(counted, uncounted, end, total)


def _check_open(comp: Competition, received_at: datetime) -> None:
    state = competition_state(comp, received_at)
    if state == "upcoming":
        raise Conflict(msg("competition '%(slug)s' opens at %(time)s", slug=comp.slug,
                           time=isoformat_local(comp.start_at, comp.timezone)),
                       code="not_open", opens_at=comp.start_at)
    if state != "open":
        if state in ("frozen", "published"):
            text = msg("competition '%(slug)s' is frozen; submissions are no longer accepted", slug=comp.slug)
        else:
            text = msg("competition '%(slug)s' closed at %(time)s; submissions are no longer accepted",
                       slug=comp.slug, time=isoformat_local(comp.end_at, comp.timezone))
        raise Conflict(text, code="closed")


def _check_quota(comp: Competition, quota: Quota) -> None:
    resets = isoformat_local(quota.resets_at, comp.timezone)
    if comp.total_limit and quota.total >= comp.total_limit:
        raise RateLimited(msg("your team has used all %(limit)s submissions of this competition",
                              limit=comp.total_limit),
                          code="total_limit", resets_at=None)
    if quota.counted >= comp.daily_limit:
        raise RateLimited(msg("daily limit reached: %(counted)s of %(limit)s submissions today; "
                              "the count resets at %(resets)s", counted=quota.counted, limit=comp.daily_limit,
                              resets=resets), resets_at=quota.resets_at)
    if quota.uncounted >= comp.daily_limit * REJECTED_PER_LIMIT:
        raise RateLimited(msg("too many invalid files today (%(count)s); check your file against "
                              "sample_submission.csv with `hackathon score`; the count resets at %(resets)s",
                              count=quota.uncounted, resets=resets),
                          resets_at=quota.resets_at)


def accept_submission(rt: Runtime, caller: Caller, slug: str, stream: IO[bytes], *,
                      filename: str | None, note: str | None, content_length: int | None) -> Accepted:
    """Store an upload and queue it for scoring, if schedule and limits allow.

    The receipt time is when the request arrived, so a slow upload started before the deadline
    still counts as on time. Limits are checked cheaply before the bytes are read, and then again,
    together with the insert, in one serialised transaction.
    """
    team_id = own_team(caller)
    received_at = rt.now()
    if note is not None and len(note) > MAX_NOTE:
        note = note[:MAX_NOTE]
    with rt.session() as session:
        comp = get_competition(session, slug)
        _check_open(comp, received_at)
        _check_quota(comp, quota_today(session, comp, team_id, received_at))
    _check_size(comp, content_length)
    # Registered while the bytes arrive and until the row is committed: a freeze waits for it.
    with track_upload(rt, comp.id, caller.name, received_at) as arriving:
        stored = rt.storage.save_stream(stream, comp.max_upload_bytes, content_length, on_progress=arriving.progress)
        if stored.bytes == 0:
            raise BadRequest(msg("the file is empty; expected a CSV with a header line (or submit.zip for a code "
                                 "competition)"))
        # What Redis hears after the commit (the boards' new version, the entry's removal, the
        # job) goes in one round trip instead of four.
        after_commit = _pipeline(rt)
        with rt.write(LockKey.TEAM_UPLOAD, comp.id, team_id) as session:
            if after_commit is not None:
                publish_with(session, after_commit)
            comp = get_competition(session, slug)
            _check_open(comp, received_at)
            quota = quota_today(session, comp, team_id, received_at)
            _check_quota(comp, quota)
            sub = Submission(competition_id=comp.id, team_id=team_id, status=SubmissionStatus.QUEUED,
                             received_at=received_at, sha256=stored.sha256, bytes=stored.bytes,
                             filename=(filename or None) and filename[:255], note=note or None, attempts=0)
            session.add(sub)
            session.flush()
            standing_after_upload(session, comp, sub)
        if after_commit is not None:
            arriving.done_with(after_commit)
    _observe_upload(sub.id, stored.bytes)
    enqueue_scoring(rt, sub.id, comp, pipeline=after_commit)
    return Accepted(sub, comp, max(comp.daily_limit - quota.counted - 1, 0), quota.resets_at)


def _pipeline(rt: Runtime) -> Pipeline | None:
    try:
        pipe = rt.redis.pipeline()
    except redis.RedisError:
        return None  # no queue configured: each step says so in the log on its own
    pipe.multi()  # RQ's enqueue puts a given pipeline in MULTI; it must be before any command
    return pipe


def _observe_upload(submission_id: str, size: int) -> None:
    from server.logs import bind_submission
    from server.metrics import metrics

    bind_submission(submission_id)  # the request's log line names the new submission
    metrics().upload_bytes.inc(size)
    metrics().uploads.inc()


def check_declared_size(rt: Runtime, slug: str, content_length: int | None, slack: int = 0) -> None:
    """Refuse an upload by its declared length before any byte is read (multipart included)."""
    if content_length is not None:
        with rt.session() as session:
            _check_size(get_competition(session, slug), content_length, slack)


def _check_size(comp: Competition, content_length: int | None, slack: int = 0) -> None:
    if content_length is not None and content_length > comp.max_upload_bytes + slack:
        raise PayloadTooLarge(msg("file is %(size)s, larger than this competition's limit of %(limit)s; "
                                  "compress it with gzip or check it is the right file",
                                  size=human_bytes(content_length), limit=human_bytes(comp.max_upload_bytes)))


def get_submission(session: Session, submission_id: str, caller: Caller) -> tuple[Submission, Competition]:
    """Return a submission the caller may read (access.can_read_submission); else 404."""
    sub = check_submission(caller, session.get(Submission, submission_id) if len(submission_id) <= 64 else None,
                           submission_id)
    return sub, session.get_one(Competition, sub.competition_id)


def get_submission_file(session: Session, submission_id: str, caller: Caller) -> Submission:
    """Return a submission whose bytes the caller may download; else 404."""
    return check_submission_file(
        caller, session.get(Submission, submission_id) if len(submission_id) <= 64 else None, submission_id)


def list_submissions(session: Session, comp: Competition, caller: Caller, filters: Any = None) -> list[Submission]:
    """The submissions the caller may list: a team its own, organizers and judges every team's;
    narrowed by `filters` (services.submission_console.SubmissionFilter) when given."""
    team_id = check_list_submissions(caller)
    query = sa.select(Submission).where(Submission.competition_id == comp.id)
    if team_id is not None:
        query = query.where(Submission.team_id == team_id)
    if filters is not None:
        from server.services.submission_console import apply_filters  # it imports this module

        query = apply_filters(query, filters)
    return list(session.execute(query.order_by(Submission.received_at, Submission.id)).scalars())


def final_flags(session: Session, comp: Competition, team_id: int | None = None) -> dict[str, str]:
    """Map submission id → "chosen"/"auto" for every final pick."""
    return build_boards(session, comp, team_id=team_id).final_flags()


def submission_to_dict(sub: Submission, comp: Competition, caller: Caller, *, team_name: str,
                       final: str | None) -> dict[str, Any]:
    """The submission object of the API; the private score only where the caller may see it."""
    body: dict[str, Any] = {
        "id": sub.id, "competition": comp.slug, "team": team_name, "status": sub.status,
        "received_at": isoformat_utc(sub.received_at),
        "received_at_local": isoformat_local(sub.received_at, comp.timezone),
        "sha256": sub.sha256, "bytes": sub.bytes, "rows": sub.rows, "filename": sub.filename,
        "note": sub.note,
        "public_score": shown(comp, sub.public_score) if can_see_public_scores(caller, comp) else None,
        "ladder": sub.ladder, "ladder_score": shown(comp, sub.ladder_score),
        "message": sub.message, "problems": json.loads(sub.problems) if sub.problems else [],
        "final": final, "scored_at": isoformat_utc(sub.scored_at), "attempts": sub.attempts,
    }
    if sub.outcome is not None:  # code competitions: the outcome class, times, peak memory
        body["outcome"] = sub.outcome
        body["run"] = json.loads(sub.run_info) if sub.run_info else None
    if can_see_private_scores(caller, comp):
        body["private_score"] = shown(comp, sub.private_score)
    return body

