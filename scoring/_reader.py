"""Read a CSV into validated, typed columns: one fast path and one precise path.

The fast path is pyarrow's multi-threaded reader with explicit column types. It succeeds only on
a file without any problem; on the first doubt (a value that does not convert, a wrong number
of fields, a non-finite number, an unknown or repeated id, ...) the precise path reads the file
again line by line with Python's csv module. The precise path is the authority: it reports every
problem with its line number (the header is line 1; a record spanning lines is numbered by its
first line), and if it finds none, its values are used.

Hostile input is bounded before anything is split: a physical line may hold at most MAX_LINE
bytes and the header at most MAX_COLUMNS names; the precise path stops after MAX_PROBLEMS
problems and skips runs of blank lines in one step.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from scoring._idindex import IdIndex
from scoring._source import Source, reject
from scoring._values import BOOLEAN_CLASSES, ClassLookup, parse_boolean, parse_float, show
from scoring.errors import Problem, SubmissionRejected
from scoring.split import usage_is_public

__all__ = [
    "Collector",
    "Field",
    "MAX_COLUMNS",
    "MAX_LINE",
    "Parsed",
    "read_columns",
    "read_header",
]

MAX_LINE = 1 << 20  # bytes in one physical line
MAX_COLUMNS = 10_000  # names in the header
MAX_DETAILS = 10  # detailed problems kept (all are counted)
MAX_PROBLEMS = 100_000  # the precise path stops after this many problems
_BLOCK_SIZE = 4 << 20  # pyarrow block: larger than MAX_LINE, so a legal line never straddles two

_EOL = re.compile(rb"\r\n?|\n")
_BLANK_RUN = re.compile(rb"[\r\n]+")
_UTF8_HINT = "; save the file as UTF-8 (in Excel: 'CSV UTF-8')"


@dataclass(frozen=True)
class Field:
    """A column to read and check: number | probability | class | boolean | text | usage."""

    name: str
    kind: str
    classes: tuple[str, ...] = ()

    @property
    def is_float(self) -> bool:
        return self.kind in ("number", "probability")


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


class Collector:
    """Collect problems: the first MAX_DETAILS in detail, all of them counted by kind."""

    def __init__(self) -> None:
        self.details: list[Problem] = []
        self.summaries: list[Problem] = []
        self.counts: Counter[str] = Counter()
        self.shown: Counter[str] = Counter()
        self.total = 0

    def add(self, kind: str, line: int | None, column: str | None, message: str) -> None:
        self.counts[kind] += 1
        self.total += 1
        if len(self.details) < MAX_DETAILS:
            self.details.append(Problem(line, column, message))
            self.shown[kind] += 1

    def summary(self, kind: str, count: int, problem: Problem) -> None:
        """Add one problem that stands for `count` of a kind (e.g. all the missing ids)."""
        if count:
            self.counts[kind] += count
            self.shown[kind] += count
            self.total += count
        self.summaries.append(problem)

    @property
    def full(self) -> bool:
        return self.total >= MAX_PROBLEMS

    def check(self) -> None:
        """Raise SubmissionRejected if any problem was collected."""
        if not self.total:
            return
        problems = self.details + self.summaries
        lines = [str(p) for p in problems]
        hidden = {k: n - self.shown[k] for k, n in self.counts.items() if n > self.shown[k]}
        if hidden:
            more = sum(hidden.values())
            kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(hidden.items(), key=lambda kv: -kv[1]))
            lines.append(f"and {more:,} more problem{'s' if more > 1 else ''} ({kinds})")
        raise SubmissionRejected("\n".join(lines), problems, dict(self.counts))


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
        raise reject(f"the header is longer than {MAX_LINE:,} bytes", line=1, kind="line too long")
    raw = head[start:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise reject(f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {start + exc.start}{_UTF8_HINT}",
                     line=1, kind="not UTF-8") from None
    if not text.strip():
        raise reject("the first line is empty; it must be the header (the column names)", line=1,
                     kind="no header")
    try:
        names = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise reject(f"the header is not valid CSV: {exc}", line=1, kind="malformed CSV") from None
    if len(names) > MAX_COLUMNS:
        raise reject(f"the header has {len(names):,} columns; at most {MAX_COLUMNS:,} are allowed",
                     line=1, kind="too many columns")
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
    be unique.

    Raises:
        SubmissionRejected: with every problem found (line numbers, columns, counts).
    """
    parsed = _fast(source, header, id_name, fields, expected)
    if parsed is not None:
        return parsed
    return _Precise(source, header, header_end, id_name, fields, expected).run()


# ---------------------------------------------------------------------------------------------
# The fast path


def _arrow_type(f: Field) -> pa.DataType:
    if f.is_float:
        return pa.float64()
    # Free text is dictionary-encoded while parsing; classes compare fastest as plain strings.
    return pa.dictionary(pa.int32(), pa.string()) if f.kind == "text" else pa.string()


def _spellings(f: Field) -> tuple[str, ...]:
    """Return the usual text of each code of a coded field, in code order."""
    if f.kind == "class":
        return f.classes
    if f.kind == "boolean":
        return BOOLEAN_CLASSES
    return ("Private", "Public")


def _lookup(f: Field) -> Callable[[str], int | None]:
    """Return the function from a cell to its code for a coded field (None: invalid)."""
    if f.kind == "class":
        return ClassLookup(f.classes)
    if f.kind == "boolean":
        return parse_boolean
    if f.kind == "usage":
        return lambda s: None if (v := usage_is_public(s)) is None else int(v)
    raise ValueError(f"field {f.name!r} of kind {f.kind!r} has no fixed codes")


def _fast(source: Source, header: Sequence[str], id_name: str, fields: Sequence[Field],
          expected: IdIndex | None) -> Parsed | None:
    """Read with pyarrow; return None on any doubt (the precise path then decides)."""
    types = {id_name: pa.string(), **{f.name: _arrow_type(f) for f in fields}}
    try:
        table = pcsv.read_csv(
            source.arrow_input(),
            read_options=pcsv.ReadOptions(column_names=list(header), skip_rows=1, block_size=_BLOCK_SIZE),
            convert_options=pcsv.ConvertOptions(
                column_types=types, include_columns=list(types), null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=True),
        )
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
    elif table.num_rows == 0 or len(pc.unique(ids)) != table.num_rows:
        return None
    values: dict[str, np.ndarray | pa.ChunkedArray] = {}
    categories: dict[str, list[str]] = {}
    for f in fields:
        column = table.column(f.name)
        if f.is_float:
            for chunk in column.chunks:
                a = chunk.to_numpy(zero_copy_only=True)
                if not np.isfinite(a).all() or (f.kind == "probability" and a.size and (a.min() < 0 or a.max() > 1)):
                    return None
            values[f.name] = column
        elif f.kind == "text":
            values[f.name], categories[f.name] = _text_codes(column)
        else:
            codes = _codes(column, _lookup(f), _spellings(f))
            if codes is None:
                return None
            values[f.name] = codes
    return Parsed(table.num_rows, ids.combine_chunks(), values, categories, order)


def _codes(column: pa.ChunkedArray, lookup: Callable[[str], int | None], spellings: Sequence[str]) -> np.ndarray | None:
    """Map a string column to codes; None if a value is invalid.

    `spellings` are the expected texts (code = position); other texts are looked up once each.
    """
    values = list(spellings)
    table = list(range(len(values)))
    index = pc.index_in(column, value_set=pa.array(values, type=pa.string()))
    if index.null_count:
        others = pc.unique(column.filter(pc.is_null(index))).to_pylist()
        codes = [lookup(s) for s in others]
        if any(code is None for code in codes):
            return None
        values += others
        table += [c for c in codes if c is not None]
        index = pc.index_in(column, value_set=pa.array(values, type=pa.string()))
    return np.asarray(table, dtype=np.int64)[index.to_numpy()]


def _text_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Encode a dictionary column of free text as codes into its sorted distinct values."""
    out = np.empty(len(column), dtype=np.int64)
    names: dict[str, int] = {}
    start = 0
    for chunk in column.chunks:
        table = [names.setdefault(s, len(names)) for s in chunk.dictionary.to_pylist()]
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        out[start:start + len(chunk)] = np.asarray(table, dtype=np.int64)[indices] if table else 0
        start += len(chunk)
    return _sorted_codes(out, names)


def _sorted_codes(codes: np.ndarray, names: Mapping[str, int]) -> tuple[np.ndarray, list[str]]:
    """Renumber codes so that they index the sorted names (independent of the row order)."""
    ordered = sorted(names)
    remap = np.empty(len(names), dtype=np.int64)
    for new, name in enumerate(ordered):
        remap[names[name]] = new
    return (remap[codes] if len(names) else codes), ordered


# ---------------------------------------------------------------------------------------------
# The precise path


class _Lines:
    """Iterate the physical lines after the header as str, numbering them and enforcing limits."""

    def __init__(self, data: bytes, start: int, problems: Collector) -> None:
        self.data = data
        self.start = start
        self.problems = problems
        self.first: int | None = None  # line where the record being read began
        self.stopped = False

    def __iter__(self) -> Iterator[str]:
        data, n, pos, line = self.data, len(self.data), self.start, 1
        while pos < n:
            if self.first is None:
                blank = _BLANK_RUN.match(data, pos)
                if blank:  # between records: skip a run of blank lines in one step
                    end = blank.end()
                    line += data.count(b"\n", pos, end) + data.count(b"\r", pos, end) - data.count(b"\r\n", pos, end)
                    pos = end
                    continue
            m = _EOL.search(data, pos, min(n, pos + MAX_LINE + 2))
            end = m.end() if m else n
            if (m.start() if m else n) - pos > MAX_LINE:
                self.stop("line too long", line + 1, f"longer than {MAX_LINE:,} bytes")
                return
            try:
                text = data[pos:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                self.stop("not UTF-8", line + 1,
                          f"not UTF-8: byte 0x{data[pos + exc.start]:02x} at offset {pos + exc.start}{_UTF8_HINT}")
                return
            line += 1
            if self.first is None:
                self.first = line
            pos = end
            yield text

    def stop(self, kind: str, line: int | None, message: str) -> None:
        self.problems.add(kind, line, None, message)
        self.stopped = True


class _Precise:
    """Read line by line with the csv module, checking every cell; the source of line numbers."""

    def __init__(self, source: Source, header: Sequence[str], header_end: int, id_name: str,
                 fields: Sequence[Field], expected: IdIndex | None) -> None:
        self.data = source.load()
        self.header = list(header)
        self.header_end = header_end
        self.id_name = id_name
        self.fields = list(fields)
        self.expected = expected
        self.problems = Collector()
        self.text_names: dict[str, dict[str, int]] = {}

    def run(self) -> Parsed:
        problems = self.problems
        ncols = len(self.header)
        id_pos = self.header.index(self.id_name)
        checks = [(self.header.index(f.name), f.name, self._checker(f)) for f in self.fields]
        stores: list[array[float] | array[int]] = [array("d" if f.is_float else "q") for f in self.fields]
        index = self.expected.mapping() if self.expected is not None else None
        seen: dict[str, int] = {}  # id → first line (no expected ids)
        first_line = [0] * len(self.expected) if self.expected is not None else []
        positions = array("q")
        ids: list[str] = []
        lines = _Lines(self.data, self.header_end, problems)
        reader = csv.reader(lines)
        try:
            for row in reader:
                line = lines.first or 0
                lines.first = None
                if not row:
                    continue
                if len(row) != ncols:
                    trailing = " (a trailing comma?)" if len(row) == ncols + 1 and row[-1] == "" else ""
                    problems.add("wrong number of fields", line, None,
                                 f"expected {ncols} fields, found {len(row)}{trailing}")
                else:
                    key = row[id_pos]
                    if index is not None:
                        pos = index.get(key)
                        if pos is None:
                            self._unknown(key, line, index)
                        elif first_line[pos]:
                            problems.add("duplicate id", line, self.id_name,
                                         f"duplicate id {show(key)} (first on line {first_line[pos]:,})")
                        else:
                            first_line[pos] = line
                        positions.append(-1 if pos is None else pos)
                    else:
                        if key in seen:
                            problems.add("duplicate id", line, self.id_name,
                                         f"duplicate id {show(key)} (first on line {seen[key]:,})")
                        elif key == "":
                            problems.add("empty id", line, self.id_name, "empty id")
                        seen.setdefault(key, line)
                        ids.append(key)
                    for (col, name, check), store in zip(checks, stores, strict=True):
                        store.append(check(row[col], line, name))
                if problems.full:
                    problems.summary("too many problems", 0, Problem(
                        None, None, f"stopped reading at line {line:,} after {problems.total:,} problems"))
                    lines.stopped = True
                    break
        except csv.Error as exc:
            problems.add("malformed CSV", lines.first, None, f"malformed CSV: {exc}")
            lines.stopped = True
        if self.expected is not None and not lines.stopped:
            self._missing(first_line)
        if self.expected is None and not ids and not lines.stopped:
            problems.add("no rows", None, None, "the file has a header but no data rows")
        problems.check()
        return self._parsed(stores, ids, positions)

    def _unknown(self, key: str, line: int, index: Mapping[str, int]) -> None:
        if key == "":
            self.problems.add("empty id", line, self.id_name, "empty id")
            return
        hint = " (remove the spaces around it)" if key.strip() in index else ""
        self.problems.add("unknown id", line, self.id_name, f"unknown id {show(key)}{hint}")

    def _missing(self, first_line: list[int]) -> None:
        assert self.expected is not None
        missing = np.flatnonzero(np.asarray(first_line, dtype=np.int64) == 0)
        if missing.size == 0:
            return
        example = self.expected.ids[int(missing[0])].as_py()
        text = (f"1 id is missing: {example}" if missing.size == 1
                else f"{missing.size:,} ids are missing, e.g. {example}")
        self.problems.summary("missing id", int(missing.size), Problem(None, self.id_name, text))

    def _checker(self, f: Field) -> Callable[[str, int, str], float | int]:
        problems = self.problems
        if f.is_float:
            probability = f.kind == "probability"

            def number(text: str, line: int, column: str) -> float:
                try:
                    value = float(text)
                except ValueError:
                    value = None
                if value is not None and value - value == 0.0 and (not probability or 0.0 <= value <= 1.0) \
                        and "_" not in text and text.isascii():
                    return value
                _bad_number(problems, text, line, column, probability)
                return 0.0

            return number
        if f.kind == "text":
            names = self.text_names[f.name] = {}
            return lambda text, line, column: names.setdefault(text, len(names))
        lookup = _lookup(f)
        cache: dict[str, int | None] = {}

        def coded(text: str, line: int, column: str) -> int:
            code = cache.get(text, -1)
            if code == -1:
                code = cache[text] = lookup(text)
            if code is None:
                _bad_code(problems, f, text, line, column)
                return 0
            return code

        return coded

    def _parsed(self, stores: list[array[float] | array[int]], ids: list[str], positions: array[int]) -> Parsed:
        values: dict[str, np.ndarray | pa.ChunkedArray] = {}
        categories: dict[str, list[str]] = {}
        for f, store in zip(self.fields, stores, strict=True):
            dtype = np.float64 if f.is_float else np.int64
            column = np.frombuffer(store, dtype=dtype) if len(store) else np.zeros(0, dtype=dtype)
            if f.kind == "text":
                column, categories[f.name] = _sorted_codes(column, self.text_names[f.name])
            values[f.name] = column
        if self.expected is None:
            return Parsed(len(ids), pa.array(ids, type=pa.string()), values, categories, None)
        pos = np.frombuffer(positions, dtype=np.int64) if len(positions) else np.zeros(0, np.int64)
        order = np.empty(len(self.expected), dtype=np.int64)
        order[pos] = np.arange(len(pos))
        identity = bool(np.array_equal(order, np.arange(len(order))))
        return Parsed(len(pos), self.expected.ids, values, categories, None if identity else order)


def _bad_number(problems: Collector, text: str, line: int, column: str, probability: bool) -> None:
    """Record why a cell is not a valid number (or probability)."""
    value = parse_float(text)
    if not text.strip():
        problems.add("empty value", line, column, f"empty value (expected a {'probability' if probability else 'number'})")
    elif value is None:
        problems.add("not a number", line, column, f"{show(text)} is not a number")
    elif value - value != 0.0:
        problems.add("not finite", line, column, f"{show(text)} is not a finite number")
    else:
        problems.add("not a probability", line, column, f"{show(text)} is not a probability (expected 0 to 1)")


def _bad_code(problems: Collector, f: Field, text: str, line: int, column: str) -> None:
    """Record why a cell is not one of the allowed values of a coded field."""
    if f.kind == "boolean":
        expected = "True or False"
    elif f.kind == "usage":
        expected = "Public or Private"
    else:
        expected = "one of " + ", ".join(f.classes)
    if not text.strip():
        problems.add("empty value", line, column, f"empty value (expected {expected})")
    elif f.kind == "class":
        hint = ClassLookup(f.classes).hint(text)
        problems.add("not an allowed class", line, column, f"{show(text)} is not an allowed class (expected {expected}){hint}")
    else:
        problems.add(f"not {expected}", line, column, f"{show(text)} is not {expected}")
