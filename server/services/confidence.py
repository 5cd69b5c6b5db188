"""Rank confidence of the final standings, computed by a background job after the freeze.

The job re-reads each ranked team's final submission (the one its private rank comes from),
runs scoring.confidence on the private rows with the snapshot's SHA-256 as the seed, and stores
the result as canonical JSON beside the snapshot (which is immutable, so it cannot hold it). A
`freeze.confidence` action-log entry records the result's SHA-256, so the hash chain covers it;
`verify` recomputes it from the same files and seed and compares every value.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring import Labels, Task, parse_task
from scoring.confidence import rank_confidence
from scoring.predictions import read_predictions
from server.db import LockKey
from server.models import ActionLogEntry, Competition, RankConfidence
from server.runtime import Runtime
from server.services.actionlog import append_action, canonical_json
from server.services.competitions import competition_labels
from server.services.snapshot import get_snapshot, snapshot_content

__all__ = ["compute_confidence", "build_confidence", "get_confidence", "confidence_by_team", "CONFIDENCE_FORMAT",
           "recorded_confidence_hashes"]

log = logging.getLogger(__name__)
CONFIDENCE_FORMAT = 1
# Fields of each team's entry that boards, the award and the audit show.
SHOWN = ("rank_low", "rank_high", "p_beats_next", "bayes_factor_next", "tied_with_next")


def build_confidence(rt: Runtime, comp: Competition, board: list[dict[str, Any]], sha_of: dict[str, str],
                     snapshot_sha256: str, replicates: int, task: Task, labels: Labels) -> dict[str, Any]:
    """The confidence document for a snapshot's private board (deterministic in its inputs);
    `sha_of` maps each board entry's submission id to its stored file's SHA-256."""
    preds = []
    for entry in board:
        path = rt.storage.submission_path(sha_of[entry["submission_id"]])
        preds.append(read_predictions(path, labels, task, max_bytes=comp.max_upload_bytes * 10).private)
    rows = labels.private
    cluster = task.cluster_column or task.group_column
    result = rank_confidence(task, rows.y_true, preds, groups=rows.groups, clusters=rows.clusters,
                             replicates=replicates, seed=snapshot_sha256)
    entries = [{"team_id": e["team_id"], "team": e["team"], "submission_id": e["submission_id"], **r}
               for e, r in zip(board, result, strict=True)]
    return {"format": CONFIDENCE_FORMAT, "competition": comp.slug, "snapshot_sha256": snapshot_sha256,
            "seed": snapshot_sha256, "replicates": replicates, "cluster_column": cluster,
            "rows": int(len(rows.index)), "tied_below": 3.0, "entries": entries}


def compute_confidence(rt: Runtime, competition_id: int) -> str:
    """The job: compute and store the rank confidence of a frozen competition (once)."""
    with rt.session() as session:
        comp = session.get(Competition, competition_id)
        if comp is None or comp.frozen_at is None:
            return "not frozen"
        if session.get(RankConfidence, competition_id) is not None:
            return "exists"
        snapshot = get_snapshot(session, comp)
        if snapshot is None:
            return "no snapshot"
        content, sha = snapshot_content(snapshot), snapshot.sha256
    task = parse_task(comp.task_toml, f"competition {comp.slug}")
    sha_of = {s["id"]: s["sha256"] for s in content["submissions"]}
    doc = build_confidence(rt, comp, content["private_board"], sha_of, sha, int(rt.config["CONFIDENCE_REPLICATES"]),
                           task, competition_labels(rt, comp))
    text = canonical_json(doc)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    now = rt.now()
    with rt.write(LockKey.COMPETITION, competition_id) as session:
        if session.get(RankConfidence, competition_id) is not None:
            return "exists"
        session.add(RankConfidence(competition_id=competition_id, snapshot_sha256=sha, created_at=now,
                                   content=text, sha256=digest))
        append_action(session, actor="worker", action="freeze.confidence", at=now, competition_id=competition_id,
                      payload={"slug": comp.slug, "snapshot_sha256": sha, "confidence_sha256": digest,
                               "replicates": doc["replicates"], "seed": doc["seed"]})
    return "stored"


def get_confidence(session: Session, comp: Competition) -> RankConfidence | None:
    return session.get(RankConfidence, comp.id)


def confidence_by_team(session: Session, comp: Competition) -> dict[int, dict[str, Any]] | None:
    """team id → its shown confidence fields (None: not computed yet)."""
    row = get_confidence(session, comp)
    if row is None:
        return None
    return {e["team_id"]: {k: e[k] for k in SHOWN} for e in json.loads(row.content)["entries"]}


def recorded_confidence_hashes(session: Session, comp: Competition) -> list[str]:
    payloads = session.execute(sa.select(ActionLogEntry.payload).where(
        ActionLogEntry.competition_id == comp.id, ActionLogEntry.action == "freeze.confidence")).scalars()
    out = []
    for p in payloads:
        try:
            out.append(str(json.loads(p).get("confidence_sha256")))
        except (ValueError, AttributeError):
            out.append("(unreadable)")
    return out
