"""The seeded paired bootstrap: every prediction is scored on the same resampled rows.

Rows are resampled with replacement as counts (a replicate is a weight per row); with clusters
(a time series' dates, a task's groups) whole clusters are resampled instead, and PSFA always
resamples its groups. Each prediction's score on every replicate is `finish(W @ S)` with S its
additive statistics (scoring.rowstats), one matrix product per batch of predictions. The same
seed gives the same weights, so the same result, on any machine with the same numpy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from scoring.rowstats import statistics_for
from scoring.tasks import Task

__all__ = ["resample_weights", "replicate_scores", "seed_int", "unit_codes"]

Array = np.ndarray
# Predictions whose statistics are multiplied by the weights in one product (bounds memory).
_BATCH_BYTES = 96 * 1024 * 1024


def seed_int(seed: str | int) -> int:
    """Return a 64-bit integer seed from any text or number (SHA-256 of its text)."""
    return int.from_bytes(hashlib.sha256(str(seed).encode("utf-8")).digest()[:8], "big")


def unit_codes(clusters: Array | None) -> Array | None:
    """Return cluster labels as codes 0..k-1 (None: every row is its own unit)."""
    if clusters is None:
        return None
    return np.unique(np.asarray(clusters), return_inverse=True)[1].reshape(-1).astype(np.intp)


def resample_weights(n_units: int, replicates: int, seed: str | int, *, chunk: int = 64) -> Array:
    """Return (replicates, n_units) float64 counts: how often each unit is drawn in each replicate."""
    rng = np.random.default_rng(seed_int(seed))
    out = np.empty((replicates, n_units))
    for start in range(0, replicates, chunk):
        b = min(chunk, replicates - start)
        draws = rng.integers(0, n_units, size=(b, n_units))
        draws += np.arange(b)[:, None] * n_units
        out[start:start + b] = np.bincount(draws.ravel(), minlength=b * n_units).reshape(b, n_units)
    return out


def replicate_scores(task: Task, y_true: Array, predictions: Sequence[Array], *, groups: Array | None = None,
                     clusters: Array | None = None, replicates: int = 1000, seed: str | int = 0) -> Array:
    """Return (replicates, len(predictions)) scores of each prediction on the same resampled rows.

    `y_true` and each prediction are one split's rows, aligned; `groups` are the metric's group
    codes (PSFA); `clusters` are labels of rows resampled together (None: single rows).
    """
    stats = statistics_for(task)
    n = len(y_true)
    units = unit_codes(groups if stats.by_group else clusters)
    n_units = n if units is None else int(units.max()) + 1
    weights = resample_weights(n_units, replicates, seed)
    out = np.empty((replicates, len(predictions)))
    if task.metric == "roc_auc_score":
        row_weights = weights if units is None else weights[:, units]
        for t, pred in enumerate(predictions):
            out[:, t] = _auc_scores(np.asarray(y_true), np.asarray(pred, dtype=np.float64), row_weights)
        return out
    batch: list[tuple[int, Array]] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if not batch:
            return
        widths = [s.shape[1] for _, s in batch]
        sums = weights @ np.hstack([s for _, s in batch])
        start = 0
        for (t, _), w in zip(batch, widths, strict=True):
            with np.errstate(all="ignore"):
                out[:, t] = stats.finish(sums[:, start:start + w])
            start += w
        batch.clear()
        size = 0

    for t, pred in enumerate(predictions):
        with np.errstate(all="ignore"):
            values = stats.values(y_true, pred, None if stats.by_group else units, groups)
        batch.append((t, values))
        size += values.nbytes
        if size >= _BATCH_BYTES:
            flush()
    flush()
    return out


def _auc_scores(y_true: Array, pred: Array, weights: Array) -> Array:
    """ROC AUC on each weighted replicate: Σ_pos w·(negative weight below + half the tied) / (W+·W−)."""
    values, inverse = np.unique(pred, return_inverse=True)
    inverse = inverse.reshape(-1)
    pos = (y_true == 1).astype(np.float64)
    group_pos = np.zeros((weights.shape[0], len(values)))
    group_neg = np.zeros_like(group_pos)
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
    group_pos[:] = np.add.reduceat((weights * pos)[:, order], starts, axis=1)
    group_neg[:] = np.add.reduceat((weights * (1 - pos))[:, order], starts, axis=1)
    below = np.cumsum(group_neg, axis=1) - group_neg
    total = group_pos.sum(axis=1) * group_neg.sum(axis=1)
    num = (group_pos * (below + 0.5 * group_neg)).sum(axis=1)
    return np.divide(num, total, out=np.full(len(total), 0.5), where=total > 0)
