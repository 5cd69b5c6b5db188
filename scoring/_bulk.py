"""The bulk path: check every cell at once with pyarrow and numpy, and still give line numbers.

pyarrow reads each cell as text. pyarrow skips blank lines and numbers the rows it cannot use
(a wrong number of fields) among the others; one numpy scan of the line breaks finds the line of
every non-blank line. When rows and non-blank lines match one to one (no field spans lines), each
row has its line number, and the checks are vectorised: numbers by a regular expression that accepts exactly what
the precise path's float() accepts, classes by a hash lookup, ids through the labels' index.
Only the first problems are worded in Python, with the same messages as the precise path, and
only the problems up to where that path would stop are counted. Otherwise it gives up (None).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from scoring import _problems
from scoring._columns import MAX_LINE, Parsed, arrow_options, coded, text_codes, text_type
from scoring._fields import NUMBER_PATTERN, WHITESPACE, Field, lookup, spellings
from scoring._idindex import IdIndex
from scoring._problems import Collector, code_kind, number_kind
from scoring._source import Source

__all__ = ["read_bulk"]

_OK, _EMPTY, _UNKNOWN, _DUPLICATE = 0, 1, 2, 3
_SCAN_BLOCK = 16 << 20  # bytes scanned at a time for line breaks


def read_bulk(source: Source, header: Sequence[str], header_end: int, id_name: str, fields: Sequence[Field],
              expected: IdIndex | None) -> Parsed | None:
    """Read and check all rows at once; None if lines and rows do not match one to one."""
    data = source.load()
    types = {id_name: pa.string(), **{f.name: text_type(f) for f in fields}}
    options = arrow_options(header, types)
    invalid = _InvalidRows()
    try:
        table = pcsv.read_csv(pa.BufferReader(data), **options)  # type: ignore[arg-type]
    except (pa.ArrowException, ValueError):
        # Rows with a wrong number of fields: read again on one thread, which numbers them.
        # (pyarrow decodes such a row's text for the handler: it must be UTF-8.)
        if not _is_utf8(data):
            return None
        options["read_options"].use_threads = False  # type: ignore[attr-defined]
        try:
            table = pcsv.read_csv(pa.BufferReader(data), **options,  # type: ignore[arg-type]
                                  parse_options=pcsv.ParseOptions(invalid_row_handler=invalid))
        except (pa.ArrowException, ValueError):
            return None
        # The precise path parses these rows itself: a field too long for it would stop it there.
        if not invalid.lines or invalid.unnumbered or invalid.longest > csv.field_size_limit():
            return None
    rows = table.num_rows
    if _too_long_fields(table):
        return None
    nonblank, longest = _nonblank_lines(data, header_end)
    lines = len(nonblank)  # from here on, "line" indexes the non-blank lines after the header
    if rows + len(invalid.lines) != lines or longest > MAX_LINE:
        return None
    # pyarrow numbers rows among non-blank lines, the header being 1.
    bad_line = np.zeros(lines, dtype=bool)
    bad_line[np.asarray(invalid.lines, dtype=np.int64) - 2] = True
    line_of_row = nonblank[~bad_line]
    ids = table.column(id_name).combine_chunks()
    id_kind, first_row, label_of_row = _check_ids(ids, expected)
    values: dict[str, np.ndarray | pa.ChunkedArray] = {}
    categories: dict[str, list[str]] = {}
    bad: dict[str, np.ndarray] = {}
    for f in fields:
        column = table.column(f.name)
        if f.is_float:
            values[f.name], bad[f.name] = _numbers(column, f.kind == "probability")
        elif f.kind == "text":
            values[f.name], categories[f.name] = text_codes(column)
        else:
            codes = coded(column, lookup(f), spellings(f))
            values[f.name], bad[f.name] = codes, codes < 0
    per_row = (id_kind != _OK).astype(np.int64)
    for mask in bad.values():
        per_row += mask
    per_line = bad_line.astype(np.int64)
    per_line[~bad_line] = per_row
    problems = Collector()
    cumulative = np.cumsum(per_line)
    stop = None
    if lines and cumulative[-1] >= _problems.MAX_PROBLEMS:
        stop = int(np.searchsorted(cumulative, _problems.MAX_PROBLEMS))  # the precise path stops after this line
    limit = lines if stop is None else stop + 1  # the first `limit` non-blank lines are read
    rows_read = int(np.count_nonzero(~bad_line[:limit]))
    rows_seen = _RowsSeen(table, ids, id_name, fields, bad, id_kind, first_row, line_of_row, expected)
    for index in np.flatnonzero(per_line[:limit]):
        if len(problems.details) >= _problems.MAX_DETAILS:
            break
        if bad_line[index]:
            invalid.describe(problems, int(index) + 2, int(nonblank[index]), len(header))
        else:
            rows_seen.describe(problems, int(np.count_nonzero(~bad_line[:index])))
    problems.counts = rows_seen.count(rows_read)
    wrong_fields = int(np.count_nonzero(bad_line[:limit]))
    if wrong_fields:
        problems.counts["wrong number of fields"] = wrong_fields
    problems.total = sum(problems.counts.values())
    if stop is not None:
        problems.stopped(int(nonblank[stop]))
    elif expected is not None:
        seen = np.zeros(len(expected), dtype=bool)
        seen[label_of_row[label_of_row >= 0]] = True
        missing = np.flatnonzero(~seen)
        if missing.size:
            problems.missing_ids(id_name, int(missing.size), expected.ids[int(missing[0])].as_py())
    elif rows == 0:
        problems.no_rows()
    problems.check()
    if expected is None:
        return Parsed(rows, ids, values, categories, None)
    order = np.empty(rows, dtype=np.int64)
    order[label_of_row] = np.arange(rows)
    identity = bool(np.array_equal(order, np.arange(rows)))
    return Parsed(rows, expected.ids, values, categories, None if identity else order)


class _InvalidRows:
    """pyarrow's handler for rows with a wrong number of fields: note their lines, skip them."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.texts: dict[int, str] = {}  # the first rows' text, for their messages
        self.unnumbered = False
        self.longest = 0  # characters in the longest such row

    def __call__(self, row: pcsv.InvalidRow) -> str:
        if row.number is None:
            self.unnumbered = True
            return "error"
        self.lines.append(row.number)
        self.longest = max(self.longest, len(row.text))
        if len(self.texts) < _problems.MAX_DETAILS:
            self.texts[row.number] = row.text
        # Past the precise path's limit it would stop anyway: let it decide.
        return "skip" if len(self.lines) < _problems.MAX_PROBLEMS else "error"

    def describe(self, problems: Collector, number: int, line: int, expected: int) -> None:
        cells = next(csv.reader([self.texts[number]]), [])
        problems.bad_fields(line, expected, len(cells), bool(cells) and cells[-1] == "")


def _is_utf8(data: bytes) -> bool:
    """Return whether the bytes are valid UTF-8 (checked by pyarrow without making a str)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    array = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        array.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _too_long_fields(table: pa.Table) -> bool:
    """Return whether a cell is longer than the precise path's csv module accepts (it must decide then)."""
    limit = csv.field_size_limit()
    return any(pa.types.is_string(c.type) and len(c) and pc.max(pc.utf8_length(c)).as_py() > limit
               for c in table.columns)


def _nonblank_lines(data: bytes, start: int) -> tuple[np.ndarray, int]:
    """Return the numbers of the non-blank lines from `start` (its line being 2) and the longest line's length.

    A line ends at LF, CR LF or a lone CR, as for the precise path; blank lines are empty ones.
    """
    view = np.frombuffer(data, dtype=np.uint8)
    size = len(data)
    ends: list[np.ndarray] = []  # where each line's text ends
    for block in range(start, size, _SCAN_BLOCK):
        body = view[block:block + _SCAN_BLOCK]
        lf = np.flatnonzero(body == 10) + block
        cr = np.flatnonzero(body == 13) + block
        lone_cr = cr[(cr + 1 >= size) | (view[np.minimum(cr + 1, size - 1)] != 10)]
        ends.append(np.sort(np.concatenate([lf, lone_cr])))
    breaks = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
    # A line's text ends before its break, and before the CR of a CR LF.
    text_end = breaks - ((view[breaks] == 10) & (breaks > start) & (view[np.maximum(breaks - 1, 0)] == 13))
    begin = np.concatenate([[start], breaks + 1])
    finish = np.concatenate([text_end, [size]])  # the last line runs to the end of the file
    lengths = finish - begin
    return np.flatnonzero(lengths > 0) + 2, int(lengths.max()) if lengths.size else 0


def _check_ids(ids: pa.Array, expected: IdIndex | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify each row's id (ok, empty, unknown, duplicate) as the precise path does.

    Returns the kinds, the row of the first occurrence of each row's id, and (with expected ids)
    each row's position in the labels (-1: not there).
    """
    rows = len(ids)
    kind = np.zeros(rows, dtype=np.int8)
    empty = pc.equal(ids, "").to_numpy(zero_copy_only=False) if rows else np.zeros(0, dtype=bool)
    if expected is not None:
        label_of_row = expected.lookup(ids) if rows else np.zeros(0, dtype=np.int64)
        known = np.flatnonzero(label_of_row >= 0)
        positions = label_of_row[known]
        first_of_label = np.full(len(expected), -1, dtype=np.int64)
        labels_seen, first = np.unique(positions, return_index=True)
        first_of_label[labels_seen] = known[first]
        first_row = np.where(label_of_row >= 0, first_of_label[np.maximum(label_of_row, 0)], -1)
        kind[label_of_row < 0] = _UNKNOWN
        kind[(label_of_row < 0) & empty] = _EMPTY
        kind[(label_of_row >= 0) & (first_row != np.arange(rows))] = _DUPLICATE
        return kind, first_row, label_of_row
    codes = pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    first_of_code = np.zeros(int(codes.max()) + 1 if rows else 0, dtype=np.int64)
    distinct, first = np.unique(codes, return_index=True)
    first_of_code[distinct] = first
    first_row = first_of_code[codes]
    duplicate = first_row != np.arange(rows)
    kind[empty & ~duplicate] = _EMPTY
    kind[duplicate] = _DUPLICATE
    return kind, first_row, np.zeros(0, dtype=np.int64)


def _numbers(column: pa.ChunkedArray, probability: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return the values of a number column and a mask of its invalid cells."""
    values = np.empty(len(column), dtype=np.float64)
    ok = np.empty(len(column), dtype=bool)
    start = 0
    for chunk in column.chunks:
        stop = start + len(chunk)
        try:  # most chunks convert whole; pyarrow accepts no text that float() refuses
            values[start:stop] = pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False)
            ok[start:stop] = True
        except pa.ArrowInvalid:
            # The regular expression accepts exactly float()'s decimal texts; convert only those.
            match = pc.match_substring_regex(chunk, NUMBER_PATTERN)
            safe = pc.if_else(match, pc.utf8_trim(chunk, characters=WHITESPACE), "0")
            values[start:stop] = pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False)
            ok[start:stop] = match.to_numpy(zero_copy_only=False)
        start = stop
    ok &= np.isfinite(values)
    if probability:
        ok &= (values >= 0.0) & (values <= 1.0)
    return values, ~ok


class _RowsSeen:
    """The rows pyarrow read, with their checks: words their problems and counts them."""

    def __init__(self, table: pa.Table, ids: pa.Array, id_name: str, fields: Sequence[Field],
                 bad: dict[str, np.ndarray], id_kind: np.ndarray, first_row: np.ndarray, line_of_row: np.ndarray,
                 expected: IdIndex | None) -> None:
        self.table, self.ids, self.id_name, self.bad = table, ids, id_name, bad
        self.fields = sorted(fields, key=lambda f: not f.is_float)  # the precise path's order: numbers first
        self.id_kind, self.first_row, self.line_of_row, self.expected = id_kind, first_row, line_of_row, expected

    def describe(self, problems: Collector, row: int) -> None:
        """Word the problems of one row, in the precise path's order."""
        line = int(self.line_of_row[row])
        key = self.ids[row].as_py()
        kind = self.id_kind[row]
        if kind == _EMPTY:
            problems.empty_id(line, self.id_name)
        elif kind == _UNKNOWN:
            padded = self.expected is not None and self.expected.position(key.strip()) is not None
            problems.unknown_id(key, line, self.id_name, padded)
        elif kind == _DUPLICATE:
            problems.duplicate_id(key, line, self.id_name, int(self.line_of_row[self.first_row[row]]))
        for f in self.fields:
            if f.name in self.bad and self.bad[f.name][row]:
                text = self.table.column(f.name)[row].as_py()
                if f.is_float:
                    problems.bad_number(text, line, f.name, f.kind == "probability")
                else:
                    problems.bad_code(f, text, line, f.name)

    def count(self, rows: int) -> Counter[str]:
        """Count every problem of the first `rows` rows by kind."""
        counts: Counter[str] = Counter()
        id_kind = self.id_kind[:rows]
        for code, name in ((_EMPTY, "empty id"), (_UNKNOWN, "unknown id"), (_DUPLICATE, "duplicate id")):
            n = int(np.count_nonzero(id_kind == code))
            if n:
                counts[name] = n
        for f in self.fields:
            if f.name not in self.bad:
                continue
            bad_rows = np.flatnonzero(self.bad[f.name][:rows])
            if bad_rows.size == 0:
                continue
            texts = self.table.column(f.name).take(pa.array(bad_rows)).to_pylist()
            probability = f.kind == "probability"
            counts.update(number_kind(t, probability) if f.is_float else code_kind(f, t) for t in texts)
        return counts
