"""The public/private split of the hidden labels' rows.

Without a `Usage` column, each id is public when u(seed, id) < public_fraction, where
u = (first 8 bytes of SHA-256 of the UTF-8 text f"{seed}\\x00{id}", big-endian, >> 11) / 2**53. So the
assignment of an id depends only on the seed and the id: never on a submission, on the row
order, or on the other ids (with the one exception below), and it can be recomputed anywhere.

With 2 or more rows the split always has at least one public and one private row: if no u is
below the fraction, the id with the smallest u becomes public; if every u is, the id with the
largest u becomes private (ties broken by the first in the given order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

__all__ = ["assign_public", "hash_uniform", "usage_is_public"]

_SCALE = 2.0**-53


def hash_uniform(ids: Iterable[str], seed: str | int) -> np.ndarray:
    """Return u(seed, id) in [0, 1) for each id, as float64."""
    prefix = hashlib.sha256(f"{seed}\x00".encode())
    values = []
    for id_ in ids:
        h = prefix.copy()
        h.update(id_.encode("utf-8", "surrogatepass"))
        values.append(int.from_bytes(h.digest()[:8], "big") >> 11)
    # 53 bits convert to float64 exactly, so u is exact and strictly below 1.
    return np.array(values, dtype=np.uint64).astype(np.float64) * _SCALE


def assign_public(ids: Iterable[str], public_fraction: float, seed: str | int) -> np.ndarray:
    """Return a boolean array, True where the id is in the public split.

    Raises:
        ValueError: public_fraction is not strictly between 0 and 1.
    """
    if not 0.0 < public_fraction < 1.0:
        raise ValueError(f"public_fraction must be between 0 and 1 (exclusive), found {public_fraction!r}")
    u = hash_uniform(ids, seed)
    public = u < public_fraction
    if u.size >= 2:
        if not public.any():
            public[np.argmin(u)] = True
        elif public.all():
            public[np.argmax(u)] = False
    return public


def usage_is_public(value: str) -> bool | None:
    """Return True for Public, False for Private (any case, trimmed), None for anything else."""
    return {"public": True, "private": False}.get(value.strip().lower())
