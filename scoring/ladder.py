"""The parameter-free Ladder (Blum & Hardt, ICML 2015; mrtzh/Ladder.jl): a team's shown public
score changes only when a new submission is better than its current best by one standard error.

Metrics with a per-row loss l (scoring.rowstats.row_losses) follow the paper exactly:
accept when mean(l_new) < R − std(l_new − l_best)/√n, R = mean(l_best). Metrics without one
(F1, macro F1, AUC, PSFA, lg_nrmse) take the standard error of the paired score difference from a
seeded bootstrap of the public rows: accept when the new score beats the best by more than it.

Only the best's `Evidence` is kept between submissions: its per-row losses (or, for bootstrap
metrics, its public predictions) as float32 bytes, and R (or its score) as a float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.bootstrap import replicate_scores
from scoring.rowstats import has_row_losses, row_losses
from scoring.tasks import Task

__all__ = ["Evidence", "LadderDecision", "evidence_for", "judge", "released_score", "LADDER_REPLICATES"]

Array = np.ndarray
LADDER_REPLICATES = 200


@dataclass(frozen=True)
class Evidence:
    """What the Ladder keeps of a team's best: `values` (float32, per public row) and `reference`
    (R, the mean loss, for loss metrics; the public score for bootstrap metrics)."""

    kind: str  # "loss" | "predictions"
    reference: float
    values: Array  # float32; (n,) losses or (n,) / (n, k) predictions

    def to_bytes(self) -> bytes:
        return np.ascontiguousarray(self.values, dtype="<f4").tobytes()

    @classmethod
    def from_bytes(cls, kind: str, reference: float, data: bytes, shape: tuple[int, ...]) -> Evidence:
        return cls(kind, reference, np.frombuffer(data, dtype="<f4").reshape(shape))


@dataclass(frozen=True)
class LadderDecision:
    improved: bool
    standard_error: float
    margin: float  # how much better than the best (positive: better), in loss or score units


def evidence_for(task: Task, y_true: Array, y_pred: Array, public_score: float) -> Evidence:
    """Return the Evidence to keep if this public prediction becomes the team's best."""
    if has_row_losses(task.metric):
        losses = row_losses(task.metric, y_true, y_pred)
        return Evidence("loss", float(np.mean(losses)), losses.astype(np.float32))
    return Evidence("predictions", float(public_score), np.asarray(y_pred).astype(np.float32))


def judge(task: Task, y_true: Array, y_pred: Array, public_score: float, best: Evidence | None, *,
          groups: Array | None = None, clusters: Array | None = None, seed: str | int = 0,
          replicates: int = LADDER_REPLICATES) -> tuple[LadderDecision, Evidence]:
    """Judge a new public prediction against the team's best; return the decision and its Evidence.

    The first submission always improves (there is nothing to beat).
    """
    new = evidence_for(task, y_true, y_pred, public_score)
    if best is None:
        return LadderDecision(True, 0.0, float("inf")), new
    if new.kind == "loss":
        diff = new.values.astype(np.float64) - best.values.astype(np.float64)
        # The sample standard deviation, as Ladder.jl's Julia `std`: a change of a single row then
        # moves the mean by exactly one standard error, which is not enough (strictly less is).
        se = float(np.std(diff, ddof=1)) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
        margin = best.reference - new.reference
        return LadderDecision(_beats(margin, se, best.reference), se, margin), new
    pair = [new.values, best.values]
    scores = replicate_scores(task, y_true, pair, groups=groups, clusters=clusters, replicates=replicates, seed=seed)
    sign = 1.0 if task.get_metric().greater_is_better else -1.0
    se = float(np.std(scores[:, 0] - scores[:, 1], ddof=1))
    margin = sign * (public_score - best.reference)
    return LadderDecision(_beats(margin, se, best.reference), se, margin), new


def released_score(task: Task, score: float, public_rows: int) -> float:
    """The Ladder value a team sees: the score rounded to a step of 1/n of the metric's range
    (1/n when unbounded), n the public rows: Blum & Hardt's [ℓ]_{1/n}. Without it, the value shown
    after an accepted submission would carry its exact score and with it a decodable message."""
    metric = task.get_metric()
    span = metric.upper_bound - metric.lower_bound
    step = (span if np.isfinite(span) else 1.0) / max(public_rows, 1)
    return float(np.round(score / step) * step) + 0.0


def _beats(margin: float, se: float, reference: float) -> bool:
    """margin > se, with rounding noise (1e-12 relative) counted against the new submission."""
    return bool(margin > se + 1e-12 * max(1.0, abs(reference), se))
