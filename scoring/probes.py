"""Signs of leaderboard probing in one submission, compared with the team's previous one.

Probing changes a few rows at a time (one submission per row asks "is this row public, and what
is its label?"), or sends constant predictions to read off a split's base rate. Both are cheap
to see: count the rows whose values differ from the previous submission, and check whether
(nearly) every row holds the same value.
"""

from __future__ import annotations

import numpy as np

from scoring.predictions import Predictions

__all__ = ["changed_rows", "is_near_constant", "NEAR_CONSTANT_SHARE", "few_rows"]

Array = np.ndarray
# A prediction is near-constant when this share of its rows hold the most common value (per target).
NEAR_CONSTANT_SHARE = 0.99


def _rows(p: Predictions) -> Array:
    both = np.concatenate([p.public, p.private])
    return both[:, None] if both.ndim == 1 else both


def changed_rows(previous: Predictions, new: Predictions) -> int:
    """Return how many rows (ids) have a different value in any target."""
    a, b = _rows(previous), _rows(new)
    if a.shape != b.shape:
        return int(b.shape[0])
    return int(np.count_nonzero((a != b).any(axis=1)))


def is_near_constant(p: Predictions) -> bool:
    """Return whether every target holds one value (to 6 significant digits) on ≥ 99% of rows."""
    values = _rows(p)
    if values.shape[0] == 0:
        return False
    for j in range(values.shape[1]):
        column = values[:, j]
        if column.dtype.kind == "f":
            column = np.round(column, 6)
        _, counts = np.unique(column, return_counts=True)
        if counts.max() < NEAR_CONSTANT_SHARE * len(column):
            return False
    return True


def few_rows(rows: int) -> int:
    """Return the most rows a change may touch and still read as a probe: max(5, 0.1% of rows)."""
    return max(5, rows // 1000)
