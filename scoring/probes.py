"""Signs of leaderboard probing in one submission, compared with the team's previous one.

Probing changes a few rows at a time (one submission per row asks "is this row public, and what
is its label?"), or sends constant predictions to read off a split's base rate. Both are cheap
to see: count the rows whose values differ from the previous submission, and check whether
(nearly) every row holds the same value.
"""

from __future__ import annotations

import numpy as np

from scoring.predictions import Predictions

__all__ = ["changed_rows", "row_fingerprints", "changed_fingerprints", "is_near_constant", "NEAR_CONSTANT_SHARE",
           "few_rows"]

Array = np.ndarray
# A prediction is near-constant when this share of its rows hold the most common value (per target).
NEAR_CONSTANT_SHARE = 0.99
# row_fingerprints' multiplier: odd (so invertible modulo 2^64), with its bits spread (2^64 / golden ratio).
_P = np.uint64(0x9E3779B97F4A7C15)


def _rows(p: Predictions) -> Array:
    both = np.concatenate([p.public, p.private])
    return both[:, None] if both.ndim == 1 else both


def changed_rows(previous: Predictions, new: Predictions) -> int:
    """Return how many rows (ids) have a different value in any target."""
    a, b = _rows(previous), _rows(new)
    if a.shape != b.shape:
        return int(b.shape[0])
    return int(np.count_nonzero((a != b).any(axis=1)))


def row_fingerprints(p: Predictions) -> Array:
    """One 64-bit number per row (public rows, then private), the same for rows holding the same
    values: 8 bytes a row to keep and compare with the team's next file instead of reading this
    one again (`changed_fingerprints`).

    A row's value bits w_1..w_k make the polynomial (..(w_1·P + w_2)·P ..)·P + w_k modulo 2^64
    with P odd, so P's powers are invertible: a row that differs in one column always gets another
    number; rows that differ in several agree by chance about once in 2^64.
    """
    values = _rows(p)
    if values.dtype.kind == "f":
        values = values.astype(np.float64, copy=False) + 0.0  # -0.0 == 0.0, so both must give one fingerprint
    elif values.dtype.kind in "biu":
        values = values.astype(np.int64, copy=False)
    else:
        raise TypeError(f"cannot fingerprint predictions of dtype {values.dtype}")
    words = np.ascontiguousarray(values).view(np.uint64)
    out = np.zeros(words.shape[0], dtype=np.uint64)
    for j in range(words.shape[1]):
        out *= _P  # wraps modulo 2^64
        out += words[:, j]
    return out


def changed_fingerprints(previous: Array, new: Array) -> int:
    """`changed_rows` from two files' `row_fingerprints`."""
    if previous.shape != new.shape:
        return int(new.shape[0])
    return int(np.count_nonzero(previous != new))


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
