"""Judges' audits: every submission with its file hash and scores, the snapshot hash, the action log.

Two formats. CSV (one table per file: `submissions` or `log`), safe to open in a spreadsheet:
text cells that a spreadsheet would run as a formula get a leading apostrophe, while score cells
stay numbers, written as repr() so that they read back to the exact double. JSON (one object,
strict: no NaN/Infinity) with everything, including the snapshot's canonical text so its SHA-256
can be recomputed from the file alone. Both are streamed: rows are read in batches.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.caller import Caller
from server.errors import BadRequest
from server.models import ActionLogEntry, Competition, RankConfidence, Submission
from server.runtime import Runtime
from server.services.access import can_see_private_scores, check_audit
from server.services.boards import build_boards, team_names
from server.services.competitions import get_competition
from server.services.snapshot import get_snapshot, snapshot_content
from server.timeutil import isoformat_local, isoformat_utc

__all__ = [
    "COLUMNS", "LOG_COLUMNS", "FORMATS", "TABLES", "audit_csv", "audit_json",
    "neutralise", "iter_submissions", "CHAIN_RULE",
]

FORMATS = ("csv", "json")
TABLES = ("submissions", "log", "confidence")
CONFIDENCE_COLUMNS = ("rank", "team", "team_id", "submission_id", "rank_low", "rank_high", "wins_next",
                      "losses_next", "p_beats_next", "bayes_factor_next", "tied_with_next")
BATCH = 1000

COLUMNS = (
    "submission_id", "team", "team_id", "received_at_utc", "received_at_local", "sha256", "bytes", "rows",
    "status", "message", "public_score", "private_score", "final", "metric", "scorer_version",
    "labels_sha256", "scoring_seconds", "attempts", "snapshot_sha256",
)
NUMERIC = {"team_id", "bytes", "rows", "public_score", "private_score", "scoring_seconds", "attempts",
           "rank", "rank_low", "rank_high", "wins_next", "losses_next", "p_beats_next", "bayes_factor_next"}
LOG_COLUMNS = ("id", "created_at_utc", "actor", "action", "competition_id", "payload", "prev_sha256", "sha256")
CHAIN_RULE = ('sha256 = SHA-256 of the UTF-8 canonical JSON (sorted keys, separators "," and ":", no ASCII '
              'escaping) of {"prev": prev_sha256, "at": created_at_utc, "actor", "action", '
              '"competition_id", "payload": payload text}; the first entry\'s prev_sha256 is 64 zeros')
SNAPSHOT_RULE = "sha256 = SHA-256 of the UTF-8 bytes of content"

# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would otherwise evaluate."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


@dataclass(frozen=True)
class _Context:
    comp: Competition
    names: dict[int, str]
    finals: dict[str, str]
    snapshot_sha256: str | None
    snapshot_text: str | None
    include_private: bool
    confidence_sha256: str | None = None
    confidence_text: str | None = None


def _context(session: Session, comp: Competition, caller: Caller) -> _Context:
    snapshot = get_snapshot(session, comp) if comp.frozen_at is not None else None
    if snapshot is not None:
        # After the freeze the snapshot is the record of which submissions were final.
        finals = {sid: f["mode"] for f in snapshot_content(snapshot)["finals"] for sid in f["submission_ids"]}
    else:
        finals = build_boards(session, comp).final_flags()
    confidence = session.get(RankConfidence, comp.id)
    return _Context(comp, team_names(session), finals, snapshot.sha256 if snapshot else None,
                    snapshot.content if snapshot else None, can_see_private_scores(caller, comp),
                    confidence.sha256 if confidence else None, confidence.content if confidence else None)


def iter_submissions(rt: Runtime, comp_id: int, columns: tuple[Any, ...] = (Submission,),
                     batch: int = BATCH) -> Iterator[Any]:
    """Yield a competition's submissions by (received_at, id), one short read per batch."""
    last: tuple[datetime, str] | None = None
    while True:
        query = sa.select(*columns).where(Submission.competition_id == comp_id)
        if last is not None:
            query = query.where(sa.or_(Submission.received_at > last[0],
                                       sa.and_(Submission.received_at == last[0], Submission.id > last[1])))
        query = query.order_by(Submission.received_at, Submission.id).limit(batch)
        with rt.session() as session:
            rows = session.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        # (`columns == (Submission,)` would build SQL: attribute == builds an expression.)
        tail = rows[-1][0] if len(columns) == 1 and columns[0] is Submission else rows[-1]
        last = (tail.received_at, tail.id)


def _finite(value: float | None) -> float | None:
    # Scores are finite by validation; anything else is reported as missing rather than as
    # non-standard JSON (or a CSV cell a spreadsheet reads as text).
    return value if value is not None and math.isfinite(value) else None


def _record(sub: Submission, ctx: _Context) -> dict[str, Any]:
    comp = ctx.comp
    return {
        "submission_id": sub.id, "team": ctx.names.get(sub.team_id, f"#{sub.team_id}"), "team_id": sub.team_id,
        "received_at_utc": isoformat_utc(sub.received_at),
        "received_at_local": isoformat_local(sub.received_at, comp.timezone),
        "sha256": sub.sha256, "bytes": sub.bytes, "rows": sub.rows, "status": sub.status,
        "message": sub.message, "public_score": _finite(sub.public_score),
        "private_score": _finite(sub.private_score) if ctx.include_private else None,
        "final": ctx.finals.get(sub.id), "metric": comp.metric, "scorer_version": sub.scorer_version,
        "labels_sha256": sub.labels_sha256, "scoring_seconds": _finite(sub.duration_s),
        "attempts": sub.attempts, "snapshot_sha256": ctx.snapshot_sha256,
    }


def _load(rt: Runtime, slug: str, caller: Caller) -> _Context:
    with rt.session() as session:
        comp = get_competition(session, slug)
        check_audit(caller, comp)  # who: services/access.py
        return _context(session, comp, caller)


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in NUMERIC:
        return repr(value) if isinstance(value, float) else value
    return neutralise(str(value))


def audit_csv(rt: Runtime, slug: str, caller: Caller, table: str = "submissions") -> Iterator[str]:
    """Stream the audit as CSV lines: the submissions table, or the action log."""
    if table not in TABLES:
        raise BadRequest(f"table must be one of {', '.join(TABLES)}, found {table!r}")
    ctx = _load(rt, slug, caller)  # access is checked here, before the first line is sent
    return _csv_lines(rt, ctx, table)


def _csv_lines(rt: Runtime, ctx: _Context, table: str) -> Iterator[str]:
    if table == "confidence":
        yield _csv_line(list(CONFIDENCE_COLUMNS))
        if ctx.confidence_text is not None and ctx.include_private:
            for entry in json.loads(ctx.confidence_text)["entries"]:
                yield _csv_line([_cell(c, entry[c]) if c != "tied_with_next" else entry[c] for c in CONFIDENCE_COLUMNS])
        return
    if table == "log":
        yield _csv_line(list(LOG_COLUMNS))
        for entry in _log_entries(rt):
            yield _csv_line([_cell(c, entry[c]) if c != "id" else entry[c] for c in LOG_COLUMNS])
        return
    yield _csv_line(list(COLUMNS))
    for (sub,) in iter_submissions(rt, ctx.comp.id):
        record = _record(sub, ctx)
        yield _csv_line([_cell(c, record[c]) for c in COLUMNS])


def _log_entries(rt: Runtime) -> Iterator[dict[str, Any]]:
    # The whole chain: each entry's hash depends on the one before, whatever its competition.
    # Read at once (organizer actions number in the thousands at most) so no read stays open
    # while a slow client downloads.
    with rt.session() as session:
        entries = list(session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars())
    for e in entries:
        yield {"id": e.id, "created_at_utc": isoformat_utc(e.created_at), "actor": e.actor,
               "action": e.action, "competition_id": e.competition_id, "payload": e.payload,
               "prev_sha256": e.prev_sha256, "sha256": e.sha256}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def audit_json(rt: Runtime, slug: str, caller: Caller) -> Iterator[str]:
    """Stream the audit as one strict JSON object."""
    ctx = _load(rt, slug, caller)
    return _json_chunks(rt, ctx)


def _json_chunks(rt: Runtime, ctx: _Context) -> Iterator[str]:
    comp = ctx.comp
    head = {
        "competition": {"slug": comp.slug, "id": comp.id, "task": comp.task_slug, "metric": comp.metric,
                        "greater_is_better": comp.greater_is_better, "precision": comp.precision,
                        "timezone": comp.timezone, "labels_sha256": comp.labels_sha256,
                        "end_at": isoformat_utc(comp.end_at), "frozen_at": isoformat_utc(comp.frozen_at),
                        "published_at": isoformat_utc(comp.published_at)},
        "private_scores_included": ctx.include_private,
        "columns": list(COLUMNS),
        # The exact canonical text, so that anyone can recompute its SHA-256 from this file.
        "snapshot": None if ctx.snapshot_sha256 is None else {
            "sha256": ctx.snapshot_sha256, "rule": SNAPSHOT_RULE,
            "content": ctx.snapshot_text if ctx.include_private else None},
        # The post-freeze rank confidence, canonical text as hashed (its SHA-256 is in the action log).
        "rank_confidence": None if ctx.confidence_sha256 is None else {
            "sha256": ctx.confidence_sha256, "rule": SNAPSHOT_RULE,
            "content": ctx.confidence_text if ctx.include_private else None},
    }
    yield _dumps(head)[:-1] + ',"submissions":['
    first = True
    for (sub,) in iter_submissions(rt, comp.id):
        yield ("" if first else ",") + _dumps(_record(sub, ctx))
        first = False
    yield '],"action_log":{"rule":' + _dumps(CHAIN_RULE) + ',"entries":['
    first = True
    for entry in _log_entries(rt):
        yield ("" if first else ",") + _dumps(entry)
        first = False
    yield "]}}\n"
