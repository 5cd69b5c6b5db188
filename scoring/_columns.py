"""What the readers return (`Parsed`) and the pieces of pyarrow reading they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from scoring._fields import Field
from scoring._threads import both, parallel

__all__ = [
    "MAX_COLUMNS",
    "MAX_LINE",
    "PARALLEL_ROWS",
    "Parsed",
    "arrow_options",
    "coded",
    "in_halves",
    "sorted_codes",
    "text_codes",
    "text_type",
]

MAX_LINE = 1 << 20  # bytes in one physical line
MAX_COLUMNS = 10_000  # names in the header
_BLOCK_SIZE = 1 << 20  # bytes pyarrow parses per task
PARALLEL_ROWS = 200_000  # work on at least this many rows is split over two threads


@dataclass
class Parsed:
    """Columns read from a CSV, in file row order unless `order` says otherwise.

    `values[name]` is a float64 ndarray or pyarrow ChunkedArray (number, probability), or an
    ndarray of integer codes (class, boolean: index in the classes; usage: 1 = public; text:
    index in `categories[name]`). With expected ids, `order[i]` is the file row of the i-th
    expected id (None: the file has them in the same order).
    """

    rows: int
    ids: pa.Array
    values: dict[str, np.ndarray | pa.ChunkedArray]
    categories: dict[str, list[str]] = field(default_factory=dict)
    order: np.ndarray | None = None

    def column(self, name: str) -> np.ndarray:
        """Return a column as one contiguous ndarray (copying pyarrow chunks)."""
        value = self.values[name]
        if isinstance(value, pa.ChunkedArray):
            return value.to_numpy()
        return value


def arrow_options(header: Sequence[str], types: Mapping[str, pa.DataType]) -> dict[str, object]:
    """Return the pyarrow.csv.read_csv options shared by the fast and bulk paths."""
    return {
        "read_options": pcsv.ReadOptions(column_names=list(header), skip_rows=1, block_size=_BLOCK_SIZE,
                                         use_threads=parallel()),
        "convert_options": pcsv.ConvertOptions(
            column_types=dict(types), include_columns=list(types), null_values=[], strings_can_be_null=False,
            quoted_strings_can_be_null=False, check_utf8=True),
    }


def text_type(f: Field) -> pa.DataType:
    """Return the pyarrow type a non-float field is read as."""
    return pa.dictionary(pa.int32(), pa.string()) if f.kind == "text" else pa.string()


def coded(column: pa.ChunkedArray, lookup: Callable[[str], int | None], spellings: Sequence[str]) -> np.ndarray:
    """Map a string column to codes, -1 where a value is invalid.

    `spellings` are the usual texts (code = position); other texts are looked up once each.
    """
    values = pa.array(list(spellings), type=pa.string())
    out = np.empty(len(column), dtype=np.int64)

    def usual(part: pa.ChunkedArray, start: int) -> bool:
        if len(spellings) > 4:
            index = pc.index_in(part, value_set=values)
            if index.null_count:
                return False
            out[start:start + len(part)] = index.to_numpy()
            return True
        # A few classes: comparing with each is faster than hashing every cell.
        codes = None
        found = 0
        for code, text in enumerate(spellings):
            mask = pc.equal(part, text)
            found += pc.sum(mask).as_py() or 0
            if code:
                term = pc.multiply(pc.cast(mask, pa.int8()), pa.scalar(code, pa.int8()))
                codes = term if codes is None else pc.add(codes, term)
        if found != len(part):
            return False
        out[start:start + len(part)] = 0 if codes is None else codes.to_numpy()
        return True

    if in_halves(column, usual):
        return out
    others = pc.unique(column.filter(pc.is_null(pc.index_in(column, value_set=values)))).to_pylist()
    table = list(range(len(values))) + [-1 if (code := lookup(s)) is None else code for s in others]
    index = pc.index_in(column, value_set=pa.array(list(spellings) + others, type=pa.string()))
    return np.asarray(table, dtype=np.int64)[index.to_numpy()]


def in_halves(column: pa.ChunkedArray, work: Callable[[pa.ChunkedArray, int], bool]) -> bool:
    """Run work(part, first_row) on the two halves of a large column at once; return whether both succeed."""
    chunks = column.chunks
    if len(column) < PARALLEL_ROWS or len(chunks) < 2:
        return work(column, 0)
    half = len(chunks) // 2
    first = pa.chunked_array(chunks[:half], type=column.type)
    second = pa.chunked_array(chunks[half:], type=column.type)
    done = both(lambda: work(first, 0), lambda: work(second, len(first)))
    return done[0] and done[1]


def text_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Encode a dictionary column of free text as codes into its sorted distinct values."""
    out = np.empty(len(column), dtype=np.int64)
    names: dict[str, int] = {}
    start = 0
    for chunk in column.chunks:
        table = [names.setdefault(s, len(names)) for s in chunk.dictionary.to_pylist()]
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        out[start:start + len(chunk)] = np.asarray(table, dtype=np.int64)[indices] if table else 0
        start += len(chunk)
    return sorted_codes(out, names)


def sorted_codes(codes: np.ndarray, names: Mapping[str, int]) -> tuple[np.ndarray, list[str]]:
    """Renumber codes so that they index the sorted names (independent of the row order)."""
    ordered = sorted(names)
    remap = np.empty(len(names), dtype=np.int64)
    for new, name in enumerate(ordered):
        remap[names[name]] = new
    return (remap[codes] if len(names) else codes), ordered
