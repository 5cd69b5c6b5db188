"""The expected ids of a labels file, indexed so that a submission's id column aligns fast."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["IdIndex"]


class IdIndex:
    """Unique ids in labels order; aligns a submission's id column to them."""

    def __init__(self, ids: pa.Array) -> None:
        self.ids = ids
        self._chunked = pa.chunked_array([ids], type=ids.type)
        self._mapping: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def align(self, column: pa.ChunkedArray) -> tuple[bool, np.ndarray | None]:
        """Match a submission's ids to these: (True, None) same order; (True, order) a permutation
        with order[i] the row of the i-th id; (False, None) anything else (missing, unknown, repeated).
        """
        n = len(self.ids)
        if len(column) != n:
            return False, None
        if column.equals(self._chunked):
            return True, None
        index = pc.index_in(column, value_set=self.ids)
        if index.null_count:
            return False, None
        label_of_row = index.to_numpy()
        seen = np.zeros(n, dtype=bool)
        seen[label_of_row] = True
        if not seen.all():
            return False, None
        order = np.empty(n, dtype=np.int64)
        order[label_of_row] = np.arange(n)
        return True, order

    def mapping(self) -> dict[str, int]:
        """Return id → position (built once; the precise path needs it)."""
        if self._mapping is None:
            self._mapping = {key: i for i, key in enumerate(self.ids.to_pylist())}
        return self._mapping
