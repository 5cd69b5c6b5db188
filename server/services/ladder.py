"""The Ladder of a competition in `ladder` mode: judge each scored submission against its team's best.

The judgement (scoring.ladder) runs in the submission's own scoring job, in the same write
transaction that records its score, under its team's upload lock, so two workers never judge two
submissions of one team against the same best. Submissions are judged in the order their scoring
finishes. The team's best is kept compactly (LadderBest: float32 bytes per public row).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scoring import Labels, Task
from scoring.ladder import Evidence, judge, released_score
from scoring.predictions import Predictions
from server.models import Competition, LadderBest, Submission

__all__ = ["judge_submission", "ladder_best_id"]


def _load(row: LadderBest) -> Evidence:
    shape = tuple(int(x) for x in row.shape.split(","))
    return Evidence.from_bytes(row.kind, row.reference, row.evidence, shape)


def judge_submission(session: Session, comp: Competition, task: Task, labels: Labels, sub: Submission,
                     predictions: Predictions, public_score: float, now: Any) -> None:
    """Set sub.ladder ("improved" | "not_significant") and sub.ladder_score; keep the new best."""
    row = session.get(LadderBest, (comp.id, sub.team_id))
    best = _load(row) if row is not None else None
    rows = labels.public
    decision, evidence = judge(task, rows.y_true, predictions.public, public_score, best, groups=rows.groups,
                               clusters=rows.clusters, seed=f"{comp.split_seed}:{sub.id}")
    if decision.improved:
        if row is None:
            row = LadderBest(competition_id=comp.id, team_id=sub.team_id)
            session.add(row)
        row.submission_id, row.kind, row.reference = sub.id, evidence.kind, evidence.reference
        row.shape = ",".join(str(d) for d in evidence.values.shape)
        row.evidence, row.updated_at = evidence.to_bytes(), now
        sub.ladder, sub.ladder_score = "improved", released_score(task, public_score, len(rows.index))
    else:
        assert row is not None
        previous = session.get(Submission, row.submission_id)
        sub.ladder = "not_significant"
        sub.ladder_score = previous.ladder_score if previous is not None else None


def ladder_best_id(session: Session, comp: Competition, team_id: int) -> str | None:
    """The submission whose public score is the team's Ladder value (None: not judged yet)."""
    row = session.get(LadderBest, (comp.id, team_id))
    return row.submission_id if row is not None else None
