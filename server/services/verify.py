"""Verify a competition from its raw material: stored files, hidden labels, snapshot, action log.

For every submission: re-read the stored file and check its SHA-256 and size, re-score it from
scratch with the current scorer against freshly parsed labels (never the process cache), and
compare status and scores with the database (exact, or within 1e-12 relative) and with the frozen
snapshot (exact). Then recompute the snapshot's hash, rebuild both boards and the final picks
from the database and compare them with the snapshot, and check the action log's hash chain.

Memory stays bounded: submissions are read in batches and only a count, per-team board state and
the first differences are kept (plus the snapshot's per-submission scores, which is the record
being checked).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scoring import SCORER_VERSION, Labels, SubmissionRejected, Task, parse_task, read_labels, score
from server.errors import Text, msg
from server.models import PENDING_STATUSES, ActionLogEntry, Competition, Snapshot, Submission
from server.runtime import Runtime
from server.services.actionlog import check_chain
from server.services.audit import iter_submissions
from server.services.boards import BoardBuilder, Boards, Row, chosen_finals, team_names
from server.services.competitions import get_competition, settings_dict
from server.services.confidence import build_confidence, get_confidence, recorded_confidence_hashes
from server.services.freeze import snapshot_digest
from server.services.scoring_jobs import DECOMPRESSED_FACTOR
from server.services.snapshot import get_snapshot
from server.statuses import SubmissionStatus
from server.storage import file_sha256

__all__ = ["verify", "VerifyReport", "Difference", "same_score", "RELATIVE_TOLERANCE"]

# Recorded and re-computed scores agree when equal or within this relative difference (a BLAS
# or pandas upgrade may change the last bits of a sum; a real change is far larger).
RELATIVE_TOLERANCE = 1e-12
MAX_DETAILS = 500

_COLUMNS = (Submission.id, Submission.team_id, Submission.status, Submission.received_at,
            Submission.public_score, Submission.private_score, Submission.sha256, Submission.bytes,
            Submission.rows, Submission.labels_sha256)


def same_score(recorded: float | None, computed: float | None) -> bool:
    """True when both are missing, equal, or within RELATIVE_TOLERANCE of each other."""
    if recorded is None or computed is None:
        return recorded is None and computed is None
    if recorded == computed:
        return True
    return abs(recorded - computed) <= RELATIVE_TOLERANCE * max(abs(recorded), abs(computed))


@dataclass(frozen=True)
class Difference:
    """One thing that does not match: kind, what it concerns (an id), and how it differs.

    `message` is English; built with errors.msg it keeps its template and parameters, which
    `to_record` stores so a page can show it in Korean (the API and the CLI print the English)."""

    kind: str  # file | status | score | labels | snapshot | board | log | confidence
    subject: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}

    def to_record(self) -> dict[str, Any]:
        body: dict[str, Any] = {**self.to_dict(), "message": str(self.message)}
        if isinstance(self.message, Text):
            body["template"], body["params"] = self.message.template, self.message.params
        return body


@dataclass
class VerifyReport:
    competition: str
    scorer_version: str = SCORER_VERSION
    labels_sha256: str | None = None
    snapshot_sha256: str | None = None
    submissions: int = 0
    files: int = 0  # stored files read and hashed
    rescored: int = 0
    matches: int = 0  # submissions whose file, status, scores and snapshot entry all agree
    pending: int = 0  # queued or scoring: no result to compare yet
    not_scored: int = 0  # failed (our fault): file checked, nothing to compare
    log_entries: int = 0
    differences_total: int = 0
    differences: list[Difference] = field(default_factory=list)
    mismatches: int = 0  # submissions with at least one difference
    culprits: list[str] = field(default_factory=list)  # their ids (the first MAX_DETAILS)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.differences_total == 0

    def add(self, kind: str, subject: str, message: str) -> None:
        self.differences_total += 1
        if len(self.differences) < MAX_DETAILS:
            self.differences.append(Difference(kind, subject, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "competition": self.competition, "ok": self.ok, "scorer_version": self.scorer_version,
            "labels_sha256": self.labels_sha256, "snapshot_sha256": self.snapshot_sha256,
            "submissions": self.submissions, "files": self.files, "rescored": self.rescored,
            "matches": self.matches, "mismatches": self.mismatches,
            "pending": self.pending, "not_scored": self.not_scored, "log_entries": self.log_entries,
            "differences_total": self.differences_total,
            "differences": [d.to_dict() for d in self.differences],
            "culprits": self.culprits, "seconds": round(self.seconds, 3),
        }

    def to_record(self) -> dict[str, Any]:
        """What a verify run stores: `to_dict()` with each difference's message template and
        parameters (`template`, `params`), which verify_runs leaves out of the API's answer."""
        return {**self.to_dict(), "differences": [d.to_record() for d in self.differences]}


@dataclass
class _Checker:
    """State of one verify run."""

    rt: Runtime
    comp: Competition
    report: VerifyReport
    task: Task | None = None
    labels: Labels | None = None
    expected: dict[str, tuple[str, float | None, float | None]] | None = None  # from the snapshot

    last_culprit: str | None = None

    def culprit(self, sub_id: str) -> None:
        # Differences of one submission arrive together, so comparing with the last id dedups.
        if sub_id == self.last_culprit:
            return
        self.last_culprit = sub_id
        self.report.mismatches += 1
        if len(self.report.culprits) < MAX_DETAILS:
            self.report.culprits.append(sub_id)

    def differ(self, kind: str, sub_id: str, message: str) -> None:
        self.report.add(kind, sub_id, message)
        self.culprit(sub_id)

    def load_labels(self) -> None:
        """Parse task and labels afresh, after checking the labels file's SHA-256."""
        comp = self.comp
        self.task = parse_task(comp.task_toml, f"competition {comp.slug}")
        path = self.rt.storage.labels_path(comp.labels_file)
        try:
            digest, _ = file_sha256(path)
        except FileNotFoundError:
            self.report.add("labels", "labels", msg("hidden labels file %(file)s is missing; nothing can be re-scored",
                                                    file=comp.labels_file))
            return
        if digest != comp.labels_sha256:
            self.report.add("labels", "labels", msg("hidden labels file changed: its SHA-256 is %(found)s, the "
                                                    "competition recorded %(recorded)s; nothing can be re-scored",
                                                    found=digest, recorded=comp.labels_sha256))
            return
        # A fresh parse, not competition_labels(): the cache could hide a changed split.
        self.labels = read_labels(path, self.task, public_fraction=comp.public_fraction, seed=comp.split_seed)
        if self.labels.split != comp.split_method or int(self.labels.public_mask.sum()) != comp.public_rows:
            self.report.add("labels", "labels", msg("the public/private split no longer reproduces: recorded "
                                                    "%(recorded_split)s with %(recorded_rows)s public rows, found "
                                                    "%(found_split)s with %(found_rows)s",
                                                    recorded_split=comp.split_method, recorded_rows=comp.public_rows,
                                                    found_split=self.labels.split,
                                                    found_rows=int(self.labels.public_mask.sum())))

    def check(self, r: Any) -> None:
        """Check one submission row: file, re-score, snapshot entry."""
        report = self.report
        report.submissions += 1
        before = report.differences_total
        path = self.rt.storage.submission_path(r.sha256)
        file_ok = False
        try:
            digest, size = file_sha256(path)
            report.files += 1
            if digest != r.sha256:
                self.differ("file", r.id, msg("stored file was altered: its SHA-256 is %(found)s, recorded %(recorded)s",
                                                found=digest, recorded=r.sha256))
            elif size != r.bytes:
                self.differ("file", r.id, msg("stored file has %(found)s bytes, recorded %(recorded)s",
                                                found=size, recorded=r.bytes))
            else:
                file_ok = True
        except FileNotFoundError:
            stored = f"files/{r.sha256[:2]}/{r.sha256}"
            self.differ("file", r.id, msg("stored file %(path)s is missing", path=stored))
        self._check_snapshot_entry(r)
        if r.status in PENDING_STATUSES:
            report.pending += 1
        elif r.status not in (SubmissionStatus.SCORED, SubmissionStatus.REJECTED):
            report.not_scored += 1
        elif file_ok and self.labels is not None:
            self._rescore(r, path)
        if report.differences_total == before and r.status in (SubmissionStatus.SCORED, SubmissionStatus.REJECTED) and file_ok:
            report.matches += 1

    def _rescore(self, r: Any, path: Path) -> None:
        assert self.task is not None and self.labels is not None
        self.report.rescored += 1
        if r.labels_sha256 and r.labels_sha256 != self.comp.labels_sha256:
            self.differ("labels", r.id, msg("scored against labels %(used)s, but the competition's labels are "
                                            "%(current)s; rescore it", used=r.labels_sha256,
                                            current=self.comp.labels_sha256))
        try:
            result = score(path, self.labels, self.task, max_bytes=self.comp.max_upload_bytes * DECOMPRESSED_FACTOR)
        except SubmissionRejected as exc:
            if r.status != SubmissionStatus.REJECTED:
                self.differ("status", r.id, msg("recorded %(status)s, but re-scoring rejects it: %(reason)s",
                                                status=str(r.status), reason=exc.message))
            return
        except Exception as exc:  # a verifier reports a crash per file and goes on
            self.differ("status", r.id, msg("re-scoring raised %(error)s: %(detail)s",
                                            error=type(exc).__name__, detail=str(exc)))
            return
        if r.status != SubmissionStatus.SCORED:
            self.differ("status", r.id, msg("recorded %(status)s, but re-scoring accepts it (public %(public)s)",
                                            status=str(r.status), public=repr(result.public_score)))
            return
        for split, recorded, computed in (("public", r.public_score, result.public_score),
                                          ("private", r.private_score, result.private_score)):
            if not same_score(recorded, computed):
                # One template per split, so a translation names the split in its own words.
                shown = {"recorded": repr(recorded), "computed": repr(computed)}
                self.differ("score", r.id, msg("public score recorded %(recorded)s, re-scored %(computed)s", **shown)
                            if split == "public" else
                            msg("private score recorded %(recorded)s, re-scored %(computed)s", **shown))
        if r.rows is not None and r.rows != result.rows:
            self.differ("score", r.id, msg("recorded %(recorded)s rows, re-scoring read %(found)s",
                                           recorded=r.rows, found=result.rows))

    def _check_snapshot_entry(self, r: Any) -> None:
        if self.expected is None:
            return
        entry = self.expected.pop(r.id, None)
        if entry is None:
            self.differ("snapshot", r.id, msg("submission is in the database but not in the snapshot"))
            return
        status, public, private = entry
        # Exact: the snapshot holds the very doubles the database held at the freeze.
        if (status, public, private) != (r.status, r.public_score, r.private_score):
            self.differ("snapshot", r.id, msg("database has %(status)s public %(public)s private %(private)s; the "
                                              "snapshot has %(snapshot_status)s public %(snapshot_public)s "
                                              "private %(snapshot_private)s",
                                              status=str(r.status), public=repr(r.public_score),
                                              private=repr(r.private_score), snapshot_status=str(status),
                                              snapshot_public=repr(public), snapshot_private=repr(private)))


def _check_snapshot(checker: _Checker, snapshot: Snapshot | None, freeze_hashes: list[str]) -> dict[str, Any] | None:
    """Check the snapshot on its own; return its parsed content (None when absent or unreadable)."""
    comp, report = checker.comp, checker.report
    if snapshot is None:
        if comp.frozen_at is not None:
            report.add("snapshot", "snapshot", msg("the competition is marked frozen but has no snapshot"))
        return None
    report.snapshot_sha256 = snapshot.sha256
    if comp.frozen_at is None:
        report.add("snapshot", "snapshot", msg("a snapshot exists but the competition is not marked frozen"))
    recomputed = snapshot_digest(snapshot.content)
    if recomputed != snapshot.sha256:
        report.add("snapshot", "snapshot", msg("snapshot content does not match its SHA-256: stored %(stored)s, "
                                               "recomputed %(recomputed)s", stored=snapshot.sha256, recomputed=recomputed))
    if not freeze_hashes:
        report.add("log", "freeze", msg("the action log has no freeze entry for this competition"))
    elif snapshot.sha256 not in freeze_hashes:
        report.add("snapshot", "snapshot", msg("snapshot SHA-256 %(sha256)s is not the one the action log's freeze "
                                               "entry recorded (%(recorded)s)",
                                               sha256=snapshot.sha256, recorded=", ".join(freeze_hashes)))
    try:
        content: dict[str, Any] = json.loads(snapshot.content, object_hook=_compact_submission)
    except ValueError as exc:
        report.add("snapshot", "snapshot", msg("snapshot content is not JSON: %(error)s", error=str(exc)))
        return None
    if content.get("labels_sha256") != comp.labels_sha256:
        report.add("labels", "snapshot", msg("snapshot labels SHA-256 %(snapshot)s differs from the competition's "
                                             "%(competition)s", snapshot=str(content.get("labels_sha256")),
                                             competition=comp.labels_sha256))
    settings = content.get("competition", {}).get("settings")
    if isinstance(settings, dict) and "public_feedback" not in settings:
        settings = {**settings, "public_feedback": "exact"}  # frozen before the mode existed: exact
    if settings != settings_dict(comp):
        changed = sorted(k for k in settings_dict(comp) if (settings or {}).get(k) != settings_dict(comp)[k])
        report.add("snapshot", "settings", msg("competition settings differ from the snapshot's: %(settings)s",
                                               settings=", ".join(changed)))
    checker.expected = {}
    for i, entry in enumerate(content.pop("submissions", [])):
        if isinstance(entry, tuple):
            checker.expected[entry[0]] = entry[1:]
        else:
            report.add("snapshot", f"snapshot submission {i + 1}", msg("entry lacks id, status or sha256"))
    return content


def _compact_submission(obj: dict[str, Any]) -> Any:
    # Called for every JSON object as it is parsed: a submission entry becomes a small tuple at
    # once, so the snapshot's bulk never exists as dicts (memory stays near the text's size).
    if "sha256" in obj and "status" in obj and "id" in obj:
        return (obj["id"], obj["status"], obj.get("public_score"), obj.get("private_score"))
    return obj


def _describe(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "nothing"
    return (f"team {entry.get('team')!r} submission {entry.get('submission_id')} score {entry.get('score')!r}"
            if "submission_id" in entry else f"team {entry.get('team')!r} {entry.get('mode')} {entry.get('submission_ids')}")


def _compare_boards(report: VerifyReport, content: dict[str, Any], boards: Boards) -> None:
    for name, recorded, rebuilt in (("public board", content.get("public_board", []), boards.public),
                                    ("private board", content.get("private_board", []), boards.private),
                                    ("finals", content.get("finals", []), boards.finals)):
        for i in range(max(len(recorded), len(rebuilt))):
            a = recorded[i] if i < len(recorded) else None
            b = rebuilt[i] if i < len(rebuilt) else None
            if a != b:
                where = f"{name} rank {i + 1}" if name != "finals" else f"finals of team {(a or b or {}).get('team')!r}"
                fields = sorted(k for k in set(a or {}) | set(b or {}) if (a or {}).get(k) != (b or {}).get(k))
                report.add("board", where, msg("snapshot has %(recorded)s; the database gives %(rebuilt)s (differs "
                                               "in %(fields)s)", recorded=_describe(a), rebuilt=_describe(b),
                                               fields=", ".join(fields)))


def _check_confidence(checker: _Checker, content: dict[str, Any]) -> None:
    """Recompute the post-freeze rank confidence (same files, labels and seed) and compare it all."""
    comp, report, rt = checker.comp, checker.report, checker.rt
    with rt.session() as session:
        row = get_confidence(session, comp)
        recorded = recorded_confidence_hashes(session, comp)
        if row is None:
            return  # not computed yet (the job runs after the freeze): nothing recorded to check
        board = content.get("private_board", [])
        ids = [e["submission_id"] for e in board]
        sha_of = dict(session.execute(sa.select(Submission.id, Submission.sha256).where(Submission.id.in_(ids))).all())
    digest = hashlib.sha256(row.content.encode("utf-8")).hexdigest()
    if digest != row.sha256:
        report.add("confidence", "rank confidence", msg("stored rank confidence does not match its SHA-256: stored "
                                                        "%(stored)s, recomputed %(recomputed)s",
                                                        stored=row.sha256, recomputed=digest))
    if row.sha256 not in recorded:
        report.add("confidence", "rank confidence", msg("rank confidence SHA-256 %(sha256)s is not the one the "
                                                        "action log's freeze.confidence entry recorded (%(recorded)s)",
                                                        sha256=row.sha256, recorded=", ".join(recorded) or "none"))
    if checker.task is None or checker.labels is None:
        return
    try:
        stored = json.loads(row.content)
        again = build_confidence(rt, comp, board, sha_of, stored["seed"], int(stored["replicates"]),
                                 checker.task, checker.labels)
    except (ValueError, KeyError, TypeError) as exc:
        report.add("confidence", "rank confidence", msg("cannot recompute the rank confidence: %(error)s: %(detail)s",
                                                        error=type(exc).__name__, detail=str(exc)))
        return
    for key in sorted(set(stored) | set(again)):
        if key == "entries":
            continue
        if stored.get(key) != again.get(key):
            report.add("confidence", key, msg("rank confidence %(key)s: stored %(stored)s, recomputed %(recomputed)s",
                                              key=key, stored=repr(stored.get(key)), recomputed=repr(again.get(key))))
    recorded_entries, entries = stored.get("entries", []), again["entries"]
    for i in range(max(len(recorded_entries), len(entries))):
        a = recorded_entries[i] if i < len(recorded_entries) else {}
        b = entries[i] if i < len(entries) else {}
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if fields:
            report.add("confidence", f"rank {i + 1}", msg(
                "rank confidence differs from the recomputation in %(fields)s",
                fields=", ".join(f"{k} (stored {a.get(k)!r}, recomputed {b.get(k)!r})" for k in fields)))


def _recorded_hash(payload: str) -> str:
    try:
        return str(json.loads(payload).get("snapshot_sha256"))
    except (ValueError, AttributeError):
        return "(unreadable freeze entry)"  # an edited entry: check_chain names it


def verify(rt: Runtime, slug: str, progress: Callable[[VerifyReport, int], None] | None = None) -> VerifyReport:
    """Check every stored file, score, the snapshot and the action log of one competition.

    `progress(report, total)` is called before the first submission, after each one (the callee
    decides how often to record it: report.files and report.rescored out of `total`) and at the end.
    """
    started = time.perf_counter()
    with rt.session() as session:
        comp = get_competition(session, slug)
        total = session.execute(sa.select(sa.func.count()).where(Submission.competition_id == comp.id)).scalar_one() \
            if progress is not None else 0
        snapshot = get_snapshot(session, comp)
        chosen, names = chosen_finals(session, comp), team_names(session)
        log_entries, chain_problems = check_chain(session)
        freeze_payloads = session.execute(
            sa.select(ActionLogEntry.payload).where(ActionLogEntry.competition_id == comp.id,
                                                    ActionLogEntry.action == "freeze")).scalars().all()
    report = VerifyReport(competition=slug, labels_sha256=comp.labels_sha256, log_entries=log_entries)
    for problem in chain_problems:
        report.add("log", f"log entry {problem.entry_id}", problem.message)
    checker = _Checker(rt, comp, report)
    freeze_hashes = [_recorded_hash(p) for p in freeze_payloads]
    content = _check_snapshot(checker, snapshot, freeze_hashes)
    del snapshot  # its text is no longer needed; the parsed boards are
    checker.load_labels()
    builder = BoardBuilder(comp, chosen, names)
    if progress is not None:
        progress(report, total)
    for r in iter_submissions(rt, comp.id, _COLUMNS):
        builder.add(Row(r.id, r.team_id, r.status, r.received_at, r.public_score, r.private_score))
        checker.check(r)
        if progress is not None:
            progress(report, total)
    for sub_id in sorted(checker.expected or {}):
        checker.differ("snapshot", sub_id, msg("submission is in the snapshot but not in the database"))
    if content is not None:
        _compare_boards(report, content, builder.finish())
        _check_confidence(checker, content)
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(report, max(total, report.submissions))
    return report
