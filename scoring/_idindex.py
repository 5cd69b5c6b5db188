"""The expected ids of a labels file, indexed so that a submission's id column aligns fast.

A submission in the labels' order is recognised by one comparison. Otherwise each id is hashed
with vectorised numpy (64 bits over its zero-padded bytes) and looked up in an open-addressing
table built once per labels file; the matches are then confirmed by comparing the strings, so
a hash collision can only send the work to the exact (slower) `pyarrow.compute.index_in` path,
never give a wrong answer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring._threads import both, parallel

__all__ = ["IdIndex", "hash_strings"]

_MAX_HASHED_BYTES = 64  # longer ids use pyarrow's index_in
_CHUNK = 1 << 16
_PARALLEL_ROWS = 200_000  # larger id columns are looked up in two halves at once
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # a free slot of the table (no id has position 2**32 - 1)  # strings hashed at a time: bounds the temporary padded matrix to 4 MiB
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
# One odd multiplier per 8-byte word of an id (ids longer than _MAX_HASHED_BYTES are not hashed).
_WORD = np.random.default_rng(0x1D5).integers(1, 2**63, size=_MAX_HASHED_BYTES // 8, dtype=np.uint64) * np.uint64(2) + \
    np.uint64(1)


def _mix(h: np.ndarray) -> np.ndarray:
    """Finalise hashes in place (splitmix64) so that the top bits are well spread."""
    h ^= h >> np.uint64(30)
    h *= _M2
    h ^= h >> np.uint64(27)
    h *= _M3
    h ^= h >> np.uint64(31)
    return h


def hash_strings(array: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Return a 64-bit hash of each string, or None if one is longer than 64 bytes."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    if array.null_count:
        return None
    _, offsets_buf, data_buf = array.buffers()
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[array.offset:array.offset + n + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    if longest > _MAX_HASHED_BYTES:
        return None
    words = max(1, (longest + 7) // 8)
    out = np.empty(n, dtype=np.uint64)
    fixed = int(lengths.min()) == longest
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        first, last = offsets[start], offsets[stop]
        padded = np.zeros((stop - start, words * 8), dtype=np.uint8)
        if fixed:
            padded[:, :longest] = data[first:last].reshape(stop - start, longest)
        else:
            lens = lengths[start:stop]
            rows = np.repeat(np.arange(stop - start), lens)
            cols = np.arange(last - first) - np.repeat(offsets[start:stop] - first, lens)
            padded[rows, cols] = data[first:last]
        w = padded.view(np.uint64)
        # A sum of per-word terms: zero padding adds nothing, so the hash ignores the padded width.
        h = lengths[start:stop].astype(np.uint64) * _M1
        for j in range(words):
            term = w[:, j] ^ (w[:, j] >> np.uint64(29))
            term *= _WORD[j]
            h += term
        out[start:stop] = _mix(h)
    return out


class IdIndex:
    """Unique ids in labels order; aligns a submission's id column to them."""

    def __init__(self, ids: pa.Array) -> None:
        self.ids = ids
        self._chunked = pa.chunked_array([ids], type=ids.type)
        self._mapping: dict[str, int] | None = None
        self._table: np.ndarray | None = None
        self._shift = np.uint64(0)
        hashes = hash_strings(ids)
        if hashes is not None:
            self._build(hashes)

    def __len__(self) -> int:
        return len(self.ids)

    def _build(self, hashes: np.ndarray) -> None:
        """Build an open-addressing table (load ≤ 1/2, double hashing), inserting in bulk.

        Each slot is one uint64: the hash's low 32 bits above the id's position, _EMPTY when
        free, so that a probe is one random read. (Matches are confirmed on the strings.)
        """
        bits = max(4, int(np.ceil(np.log2(max(2 * len(hashes), 2)))))
        size = 1 << bits
        self._shift = np.uint64(64 - bits)
        table = np.full(size, _EMPTY, dtype=np.uint64)
        keys = np.arange(len(hashes), dtype=np.int64)
        slots = (hashes >> self._shift).astype(np.int64)
        steps = _steps(hashes, size)
        packed = (hashes << np.uint64(32)) | keys.astype(np.uint64)
        while keys.size:
            free = np.flatnonzero(table[slots] == _EMPTY)
            claimed, first = np.unique(slots[free], return_index=True)
            table[claimed] = packed[keys[free[first]]]
            placed = np.zeros(keys.size, dtype=bool)
            placed[free[first]] = True
            keys, slots, steps = keys[~placed], (slots[~placed] + steps[~placed]) & (size - 1), steps[~placed]
        self._table = table

    def _lookup(self, column: pa.Array) -> np.ndarray | None:
        """Return the candidate label position of each row's id, -1 if absent; None if ids cannot be hashed."""
        if self._table is None:
            return None
        hashes = hash_strings(column)
        if hashes is None:
            return None
        table, mask, low = self._table, len(self._table) - 1, np.uint64(0xFFFFFFFF)
        result = np.full(len(hashes), -1, dtype=np.int64)
        keys: np.ndarray | None = None  # None: every row (saves gathers in the first round)
        slots = (hashes >> self._shift).astype(np.int64)
        steps = _steps(hashes, len(table))
        fingerprint = hashes << np.uint64(32)
        while slots.size:
            found = table[slots]
            filled = found != _EMPTY
            match = filled & ((found & ~low) == fingerprint)
            positions = (found[match] & low).astype(np.int64)
            go_on = np.flatnonzero(filled & ~match)
            if keys is None:
                result[match] = positions
                keys = go_on
            else:
                result[keys[match]] = positions
                keys = keys[go_on]
            slots, fingerprint, steps = (slots[go_on] + steps[go_on]) & mask, fingerprint[go_on], steps[go_on]
        return result

    def lookup(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Return the position of each id of `column` in the labels, -1 where it is not one (exact)."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if len(column) >= _PARALLEL_ROWS and parallel():
            half = len(column) // 2
            first, second = both(lambda: self._lookup_exact(column.slice(0, half)),
                                 lambda: self._lookup_exact(column.slice(half)))
            return np.concatenate([first, second])
        return self._lookup_exact(column)

    def _lookup_exact(self, column: pa.Array) -> np.ndarray:
        result = self._lookup(column)
        if result is None:
            return _positions(column, self.ids)
        found = np.flatnonzero(result >= 0)
        if found.size:
            # Equal hashes are not equal strings: confirm each match, decide the rest exactly.
            same = self._same(column, found, result[found])
            wrong = found[~same]
            if wrong.size:
                result[wrong] = _positions(column.take(pa.array(wrong)), self.ids)
        return result

    def _same(self, column: pa.Array, rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Return whether column[rows] equals ids[positions], element by element."""
        mine = _fixed_width(self.ids)
        theirs = _fixed_width(column)
        if mine is not None and theirs is not None and mine.dtype == theirs.dtype:
            return mine[positions] == theirs[rows]  # numpy compares fixed-width bytes fast
        return pc.equal(column.take(pa.array(rows)), self.ids.take(pa.array(positions))).to_numpy(
            zero_copy_only=False)

    def position(self, key: str) -> int | None:
        """Return the position of one id, or None."""
        found = int(self.lookup(pa.array([key], type=pa.string()))[0])
        return None if found < 0 else found

    def align(self, column: pa.ChunkedArray) -> tuple[bool, np.ndarray | None]:
        """Match a submission's ids to these: (True, None) same order; (True, order) a permutation
        with order[i] the row of the i-th id; (False, None) anything else (missing, unknown, repeated).
        """
        n = len(self.ids)
        if len(column) != n:
            return False, None
        if column.equals(self._chunked):
            return True, None
        order = _permutation(self.lookup(column), n)
        return (order is not None), order

    def mapping(self) -> dict[str, int]:
        """Return id → position (built once; the precise path needs it)."""
        if self._mapping is None:
            self._mapping = {key: i for i, key in enumerate(self.ids.to_pylist())}
        return self._mapping


def _steps(hashes: np.ndarray, size: int) -> np.ndarray:
    """Return each key's probe step (double hashing: odd, so every slot of a power-of-two table is reached)."""
    return ((hashes & np.uint64(size - 1)) | np.uint64(1)).astype(np.int64)


def _fixed_width(array: pa.Array) -> np.ndarray | None:
    """Return the strings as a numpy 'S<width>' view when all have one width (1 to 64 bytes), else None."""
    n = len(array)
    if n == 0 or array.null_count:
        return None
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], dtype=offset_type)[array.offset:array.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if not 0 < width <= _MAX_HASHED_BYTES or int(offsets[-1] - offsets[0]) != width * n:
        return None
    if not np.all(np.diff(offsets) == width):
        return None
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]
    # 'S' comparisons ignore trailing NUL bytes; compare raw bytes (a void view) instead.
    return data.view(np.dtype((np.void, width)))


def _positions(column: pa.Array, ids: pa.Array) -> np.ndarray:
    """Return the position of each value of column in ids, -1 if absent (pyarrow's hash join)."""
    index = pc.index_in(column, value_set=ids)
    return pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _permutation(label_of_row: np.ndarray, n: int) -> np.ndarray | None:
    """Return order (row of each label) if label_of_row is a permutation of range(n), else None."""
    if label_of_row.size != n or (n and (label_of_row.min() < 0)):
        return None
    seen = np.zeros(n, dtype=bool)
    seen[label_of_row] = True
    if not seen.all():
        return None
    order = np.empty(n, dtype=np.int64)
    order[label_of_row] = np.arange(n)
    return order
