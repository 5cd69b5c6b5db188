"""Each metric as additive per-row statistics, so it can be recomputed on resampled rows.

A bootstrap replicate reweights rows (or clusters of rows); every registered metric's value on
the reweighted rows is `finish(Σ w·S)` with S the (n, m) statistics of one prediction against the
labels. Metrics with a per-row loss (squared error, absolute error, log loss, 0/1 error, Brier,
SMAPE's terms) also expose it through `row_losses`: the Ladder compares those directly.

PSFA is a mean over its groups of a per-group value that is not a sum over rows, so its
statistics are per group ([PSFA_m, 1]) and its rows are always resampled as whole groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.tasks import Task

__all__ = ["LOSS_METRICS", "Statistics", "has_row_losses", "row_losses", "statistics_for", "unit_sums"]

Array = np.ndarray

# Metrics whose value is a monotone function of the mean of a per-row loss (lower is better).
LOSS_METRICS = frozenset({"root_mean_squared_error", "mean_absolute_error", "log_loss", "accuracy_score",
                          "brier_skill_score", "smape"})


def _cols(y: Array) -> Array:
    y = np.asarray(y, dtype=np.float64)
    return y[:, None] if y.ndim == 1 else y


def has_row_losses(metric: str) -> bool:
    """Return whether the Ladder can use per-row losses for this metric (else: a bootstrap)."""
    return metric in LOSS_METRICS


def row_losses(metric: str, y_true: Array, y_pred: Array) -> Array:
    """Return each row's loss (lower is better; float64, shape (n,)) for a metric in LOSS_METRICS.

    Squared error (RMSE, summed over targets; Brier), absolute error (MAE, averaged over
    targets), log loss, 0/1 error (accuracy) and SMAPE's per-row mean term.

    Raises:
        ValueError: the metric has no per-row loss.
    """
    if metric in ("root_mean_squared_error", "brier_skill_score"):
        return np.square(_cols(y_true) - _cols(y_pred)).sum(axis=1)
    if metric == "mean_absolute_error":
        return np.abs(_cols(y_true) - _cols(y_pred)).mean(axis=1)
    if metric == "accuracy_score":
        return (np.asarray(y_true) != np.asarray(y_pred)).astype(np.float64)
    if metric == "log_loss":
        y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
        eps = np.finfo(np.float64).eps
        return -np.log(np.clip(np.where(y == 1, p, 1 - p), eps, 1 - eps))
    if metric == "smape":
        a, p = _cols(y_true), _cols(y_pred)
        den = np.abs(a) + np.abs(p)
        terms = np.divide(2.0 * np.abs(a - p), den, out=np.zeros_like(a), where=den != 0)
        return 100.0 * terms.mean(axis=1)
    raise ValueError(f"metric {metric} has no per-row loss; its Ladder uses a paired bootstrap")


@dataclass(frozen=True)
class Statistics:
    """A metric as statistics: `rows(y_true, y_pred)` → (n, m), `finish(sums (B, m))` → (B,)."""

    metric: str
    rows: Callable[[Array, Array], Array]
    finish: Callable[[Array], Array]
    by_group: bool = False  # PSFA: statistics per group, the groups are the resampled units

    def values(self, y_true: Array, y_pred: Array, units: Array | None, groups: Array | None = None) -> Array:
        """Return the statistics summed per resampling unit: (n_units, m)."""
        if self.by_group:
            assert groups is not None
            return _psfa_units(y_true, y_pred, groups)
        stats = self.rows(y_true, y_pred)
        return stats if units is None else unit_sums(stats, units)


def unit_sums(stats: Array, units: Array) -> Array:
    """Sum the rows of `stats` per unit code (0..k-1) → (k, m)."""
    codes = np.asarray(units, dtype=np.intp)
    out = np.zeros((int(codes.max()) + 1 if codes.size else 0, stats.shape[1]))
    np.add.at(out, codes, stats)
    return out


def _safe_div(a: Array, b: Array) -> Array:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _psfa_units(y_true: Array, y_pred: Array, groups: Array) -> Array:
    from scoring.metrics import psfa_score

    codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    out = np.ones((int(codes.max()) + 1, 2))
    for g in range(out.shape[0]):
        mask = codes == g
        out[g, 0] = psfa_score(np.asarray(y_true)[mask], np.asarray(y_pred)[mask], groups=codes[mask])
    return out


def statistics_for(task: Task) -> Statistics:
    """Return the statistics form of the task's metric (every registered metric has one)."""
    name = task.metric
    kwargs: dict[str, Any] = task.metric_kwargs()
    k = len(task.targets)
    if name == "root_mean_squared_error":
        return Statistics(name, lambda t, p: np.column_stack([np.square(_cols(t) - _cols(p)), np.ones(len(t))]),
                          lambda s: np.sqrt(_safe_div(s[:, :k], s[:, k:k + 1])).mean(axis=1))
    if name == "lg_nrmse":
        weights = np.asarray(kwargs.get("weights") or [1.2 if j < 8 else 1.0 for j in range(k)])

        def nrmse(s: Array) -> Array:
            n = s[:, 2 * k:2 * k + 1]
            return (np.sqrt(_safe_div(s[:, :k], n)) / np.maximum(_safe_div(s[:, k:2 * k], n), 1e-300)) @ weights

        return Statistics(name, lambda t, p: np.column_stack(
            [np.square(_cols(t) - _cols(p)), np.abs(_cols(t)), np.ones(len(t))]), nrmse)
    if name in ("mean_absolute_error", "log_loss", "accuracy_score", "smape"):
        sign = -1.0 if name == "accuracy_score" else 1.0
        offset = 1.0 if name == "accuracy_score" else 0.0

        def mean_loss(s: Array) -> Array:
            return offset + sign * _safe_div(s[:, 0], s[:, 1])

        return Statistics(name, lambda t, p: np.column_stack([row_losses(name, t, p), np.ones(len(t))]), mean_loss)
    if name == "brier_skill_score":
        def skill(s: Array) -> Array:
            rate = _safe_div(s[:, 1], s[:, 2])
            brier = _safe_div(s[:, 0], s[:, 2])
            return np.maximum(0.0, 100000.0 * (1.0 - _safe_div(brier, rate * (1.0 - rate))))

        return Statistics(name, lambda t, p: np.column_stack(
            [row_losses(name, t, p), np.asarray(t, dtype=np.float64), np.ones(len(t))]), skill)
    if name == "f1_binary":
        pos = kwargs.get("pos_label", 1)

        def f1_rows(t: Array, p: Array) -> Array:
            tt, pp = np.asarray(t) == pos, np.asarray(p) == pos
            return np.column_stack([tt & pp, pp, tt]).astype(np.float64)

        return Statistics(name, f1_rows, lambda s: _safe_div(2 * s[:, 0], s[:, 1] + s[:, 2]))
    if name == "f1_macro":
        n_classes = max(len(task.targets[0].class_names), 1)

        def macro_rows(t: Array, p: Array) -> Array:
            tt, pp = np.asarray(t), np.asarray(p)
            cls = np.arange(n_classes)
            tc, pc = tt[:, None] == cls, pp[:, None] == cls
            return np.hstack([tc & pc, pc, tc]).astype(np.float64)

        def macro(s: Array) -> Array:
            tp, pred, true = s[:, :n_classes], s[:, n_classes:2 * n_classes], s[:, 2 * n_classes:]
            present = (pred + true) > 0
            f1 = _safe_div(2 * tp, pred + true)
            return _safe_div((f1 * present).sum(axis=1), present.sum(axis=1).astype(np.float64))

        return Statistics(name, macro_rows, macro)
    if name == "psfa_score":
        return Statistics(name, lambda t, p: np.empty((len(t), 0)), lambda s: _safe_div(s[:, 0], s[:, 1]),
                          by_group=True)
    if name == "roc_auc_score":
        # Not a sum over rows: bootstrap.replicate_scores handles AUC itself (see _auc_scores).
        return Statistics(name, lambda t, p: np.column_stack([np.asarray(p, dtype=np.float64)]), lambda s: s[:, 0])
    raise ValueError(f"metric {name} has no statistics form; add it to scoring/rowstats.py")
