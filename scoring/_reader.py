"""Read a CSV into validated, typed columns, choosing the fastest path that can decide.

1. The fast path (here): pyarrow's multi-threaded reader with the final column types. It
   succeeds only on a file without any problem; on any doubt it gives up.
2. The bulk path (`_bulk`): pyarrow reads every cell as text (numbering rows with a wrong number
   of fields), numpy checks all cells at once and finds every row's line from the line breaks;
   it gives up only when a field spans lines, a line or field exceeds the precise path's limits,
   or the file is not UTF-8.
3. The precise path (`_precise`): Python's csv module, line by line. It is the reference: the
   other two give up, or give exactly its answer (the property tests check this).

Line numbers count the header as line 1 and every physical line after it (blank ones too); a
record spanning lines is numbered by its first line. Hostile input is bounded before anything is
split: the header at most MAX_LINE bytes and MAX_COLUMNS names; the precise path also refuses a
line longer than MAX_LINE and stops after MAX_PROBLEMS problems. (pyarrow does not measure lines,
so a valid file with an absurdly long line is still accepted by the fast path; the limit only
guards the Python one, and the bulk path defers to it.)
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from scoring._bulk import read_bulk as _bulk
from scoring._columns import MAX_COLUMNS, MAX_LINE, Parsed, arrow_options, coded, text_codes, text_type
from scoring._fields import Field, lookup, spellings
from scoring._idindex import IdIndex
from scoring._precise import read_precise as _precise
from scoring._problems import UTF8_HINT
from scoring._source import Source, reject

__all__ = ["MAX_COLUMNS", "MAX_LINE", "Parsed", "read_columns", "read_header"]

_EOL = re.compile(rb"\r\n?|\n")


def read_header(source: Source) -> tuple[list[str], int]:
    """Return the header's names and the offset where line 2 starts.

    Raises:
        SubmissionRejected: empty file, an over-long or undecodable header, too many columns.
    """
    start = source.bom
    head = source.head(start + MAX_LINE + 2)
    if len(head) <= start:
        raise reject("the file is empty", kind="empty file")
    m = _EOL.search(head, start)
    end = m.start() if m else len(head)
    if end - start > MAX_LINE:
        raise reject(f"the header is longer than {MAX_LINE:,} bytes", line=1, kind="line too long", limit=MAX_LINE)
    raw = head[start:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise reject(f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {start + exc.start}{UTF8_HINT}",
                     line=1, kind="not UTF-8", byte=f"0x{raw[exc.start]:02x}", offset=start + exc.start) from None
    if not text.strip():
        raise reject("the first line is empty; it must be the header (the column names)", line=1,
                     kind="no header")
    try:
        names = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise reject(f"the header is not valid CSV: {exc}", line=1, kind="malformed CSV") from None
    if len(names) > MAX_COLUMNS:
        raise reject(f"the header has {len(names):,} columns; at most {MAX_COLUMNS:,} are allowed",
                     line=1, kind="too many columns", found=len(names), limit=MAX_COLUMNS)
    return names, (m.end() if m else len(head))


def read_columns(
    source: Source,
    header: Sequence[str],
    header_end: int,
    id_name: str,
    fields: Sequence[Field],
    *,
    expected: IdIndex | None = None,
) -> Parsed:
    """Read the id column and `fields` of a CSV whose header was checked.

    With `expected`, every expected id must occur exactly once and no other; without, ids must
    be unique and not empty.

    Raises:
        SubmissionRejected: with every problem found (line numbers, columns, counts).
    """
    for attempt in (_fast, _bulk):
        parsed = attempt(source, header, header_end, id_name, fields, expected)
        if parsed is not None:
            return parsed
    return _precise(source, header, header_end, id_name, fields, expected)


def _fast(source: Source, header: Sequence[str], header_end: int, id_name: str, fields: Sequence[Field],
          expected: IdIndex | None) -> Parsed | None:
    """Read with pyarrow and the final types; return None on any doubt."""
    types: dict[str, pa.DataType] = {id_name: pa.string()}
    for f in fields:
        # Free text is dictionary-encoded while parsing; classes compare fastest as plain strings.
        types[f.name] = pa.float64() if f.is_float else text_type(f)
    try:
        table = pcsv.read_csv(source.arrow_input(), **arrow_options(header, types))  # type: ignore[arg-type]
    except (pa.ArrowException, ValueError):
        return None
    ids = table.column(id_name)
    order: np.ndarray | None = None
    if expected is not None:
        if table.num_rows != len(expected):
            return None
        ok, order = expected.align(ids)
        if not ok:
            return None
    elif table.num_rows == 0 or len(pc.unique(ids)) != table.num_rows or pc.any(pc.equal(ids, "")).as_py():
        return None
    values: dict[str, np.ndarray | pa.ChunkedArray] = {}
    categories: dict[str, list[str]] = {}
    for f in fields:
        column = table.column(f.name)
        if f.is_float:
            # A NaN or infinity makes the sum non-finite (so can an overflow: then the bulk path decides).
            if len(column) and not math.isfinite(pc.sum(column).as_py()):
                return None
            if f.kind == "probability" and len(column):
                low, high = pc.min_max(column).values()
                if low.as_py() < 0 or high.as_py() > 1:
                    return None
            values[f.name] = column
        elif f.kind == "text":
            values[f.name], categories[f.name] = text_codes(column)
        else:
            codes = coded(column, lookup(f), spellings(f))
            if (codes < 0).any():
                return None
            values[f.name] = codes
    return Parsed(table.num_rows, expected.ids if expected is not None else ids.combine_chunks(), values,
                  categories, order)
