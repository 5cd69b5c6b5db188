"""Submissions as organizers and judges work with them: filters for the list, one submission's
history (attempts, replaced scores, the log entries naming it), and re-queueing a failed one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy.orm import Session

from server.caller import Caller
from server.db import LockKey
from server.errors import BadRequest, Conflict
from server.models import ActionLogEntry, Competition, ScoreHistory, Submission, Team
from server.queue import enqueue_scoring, job_id
from server.runtime import Runtime
from server.services.access import can_see_private_scores, check_list_submissions
from server.services.actionlog import append_action
from server.services.leaderboard import refresh_standing
from server.services.ranking import shown
from server.services.submissions import get_submission
from server.services.team_tokens import MAX_ID
from server.timeutil import isoformat_local, isoformat_utc, parse_datetime

__all__ = ["SubmissionFilter", "read_filters", "apply_filters", "submission_history", "requeue_failed",
           "requeue_refusal", "FILTERS", "STATUSES"]

STATUSES = ("queued", "scoring", "scored", "rejected", "failed")
FILTERS = ("team", "status", "since", "until")


@dataclass(frozen=True)
class SubmissionFilter:
    team_id: int | None = None
    statuses: tuple[str, ...] = ()
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before

    @property
    def empty(self) -> bool:
        return self == SubmissionFilter()


def read_filters(session: Session, comp: Competition, caller: Caller, args: Mapping[str, str]) -> SubmissionFilter:
    """Filters from the query string: team (id or exact name), status (comma-separated), since and
    until (ISO 8601; without an offset, in the competition's timezone). A team lists only its own
    submissions, so `team` is for organizers and judges."""
    team_ref = (args.get("team") or "").strip()
    team_id = None
    if team_ref:
        if check_list_submissions(caller) is not None:
            raise BadRequest("a team lists only its own submissions; leave out team=", field="team")
        if team_ref.isascii() and team_ref.isdigit() and 0 < int(team_ref) <= MAX_ID \
                and session.get(Team, int(team_ref)) is not None:
            team_id = int(team_ref)
        if team_id is None:
            team_id = session.execute(sa.select(Team.id).where(Team.name == team_ref)).scalar_one_or_none()
        if team_id is None:
            raise BadRequest(f"team must be a team's id or exact name, found {team_ref!r} (GET /api/v1/teams?q= "
                             "finds it)", field="team")
    statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
    wrong = [s for s in statuses if s not in STATUSES]
    if wrong:
        raise BadRequest(f"status must be some of {', '.join(STATUSES)} (comma-separated), found {wrong[0]!r}",
                         field="status")
    since = parse_datetime(args["since"], "since", comp.timezone) if (args.get("since") or "").strip() else None
    until = parse_datetime(args["until"], "until", comp.timezone) if (args.get("until") or "").strip() else None
    if since is not None and until is not None and until <= since:
        raise BadRequest(f"until must be after since; found since {args['since']!r} and until {args['until']!r}",
                         field="until")
    return SubmissionFilter(team_id, statuses, since, until)


def apply_filters(query: sa.Select, f: SubmissionFilter | None) -> sa.Select:
    if f is None:
        return query
    if f.team_id is not None:
        query = query.where(Submission.team_id == f.team_id)
    if f.statuses:
        query = query.where(Submission.status.in_(f.statuses))
    if f.since is not None:
        query = query.where(Submission.received_at >= f.since)
    if f.until is not None:
        query = query.where(Submission.received_at < f.until)
    return query


def submission_history(session: Session, submission_id: str, caller: Caller) -> dict[str, Any]:
    """Attempts, scoring times and the scores a rescore replaced; private ones where the caller may
    see them. Organizers and judges (the gate of the route)."""
    sub, comp = get_submission(session, submission_id, caller)
    private = can_see_private_scores(caller, comp)
    replaced = session.execute(sa.select(ScoreHistory).where(ScoreHistory.submission_id == sub.id)
                               .order_by(ScoreHistory.replaced_at, ScoreHistory.id)).scalars().all()
    history = []
    for h in replaced:
        item: dict[str, Any] = {"status": h.status, "public_score": shown(comp, h.public_score),
                                "scorer_version": h.scorer_version, "labels_sha256": h.labels_sha256,
                                "scored_at": isoformat_utc(h.scored_at), "replaced_at": isoformat_utc(h.replaced_at)}
        if private:
            item["private_score"] = shown(comp, h.private_score)
        history.append(item)
    # Entries that name this submission: a per-submission requeue, or a rescore that selected it.
    needle = f'%"{sub.id}"%'
    actions = session.execute(
        sa.select(ActionLogEntry).where(ActionLogEntry.competition_id == comp.id,
                                        ActionLogEntry.payload.like(needle))
        .order_by(ActionLogEntry.id)).scalars().all()
    team = session.get_one(Team, sub.team_id)
    return {
        "id": sub.id, "competition": comp.slug, "team": team.name, "team_id": team.id, "status": sub.status,
        "received_at": isoformat_utc(sub.received_at),
        "received_at_local": isoformat_local(sub.received_at, comp.timezone),
        "attempts": sub.attempts, "started_at": isoformat_utc(sub.started_at), "scored_at": isoformat_utc(sub.scored_at),
        "duration_s": sub.duration_s, "scorer_version": sub.scorer_version, "labels_sha256": sub.labels_sha256,
        "file_url": f"/api/v1/submissions/{sub.id}/file", "history": history,
        "actions": [{"id": a.id, "created_at": isoformat_utc(a.created_at), "actor": a.actor, "action": a.action}
                    for a in actions],
    }


def requeue_refusal(sub: Submission, comp: Competition) -> Conflict | None:
    """Why `requeue_failed` would refuse this submission now (None: it would queue it). The pages
    ask before offering the button; requeue_failed asks again under its lock."""
    if comp.frozen_at is not None:
        return Conflict(f"competition '{comp.slug}' is frozen; its submissions can no longer be scored again",
                        code="frozen")
    if sub.status != "failed":
        return Conflict(f"submission {sub.id} is {sub.status}, not failed; only a failed submission is queued "
                        "again (scored and rejected ones: POST /api/v1/competitions/{slug}/rescore)",
                        code="not_failed")
    return None


def requeue_failed(rt: Runtime, submission_id: str, caller: Caller, *, actor: str) -> Submission:
    """Queue a `failed` submission (scoring failed on our side) for a fresh set of attempts.

    The failure is kept in score_history; the submission keeps its receipt time, so it counts as
    on time. Scored and rejected ones are rescored with POST .../rescore instead.

    Raises:
        Conflict: the submission is not failed (`not_failed`), or its competition is frozen (`frozen`).
    """
    now = rt.now()
    with rt.session() as session:
        sub, comp = get_submission(session, submission_id, caller)
    with rt.write(LockKey.TEAM_UPLOAD, comp.id, sub.team_id) as session:
        sub = session.get_one(Submission, sub.id)
        comp = session.get_one(Competition, comp.id)
        refusal = requeue_refusal(sub, comp)
        if refusal is not None:
            raise refusal
        session.add(ScoreHistory(submission_id=sub.id, status=sub.status, public_score=sub.public_score,
                                 private_score=sub.private_score, scorer_version=sub.scorer_version,
                                 labels_sha256=sub.labels_sha256, scored_at=sub.scored_at, replaced_at=now))
        previous = {"message": sub.message, "attempts": sub.attempts}
        sub.status, sub.attempts, sub.message, sub.problems = "queued", 0, None, None
        sub.scored_at, sub.started_at, sub.duration_s = None, None, None
        refresh_standing(session, comp, sub.team_id)
        append_action(session, actor=actor, action="submission.requeue", at=now, competition_id=comp.id,
                      payload={"submission_id": sub.id, "team_id": sub.team_id, "previous": previous})
    try:  # the failed job may still be registered under the same id
        Job.fetch(job_id(sub.id), connection=rt.redis).delete()
    except (NoSuchJobError, redis.RedisError):
        pass
    enqueue_scoring(rt, sub.id)  # a queue outage leaves it queued: the reconciler queues it
    return sub

