"""The precise path: read line by line with Python's csv module, checking every cell.

It is the reference for what a valid file is and where each problem is; the faster paths give up
or agree with it. It never holds more than one row of text at a time, skips runs of blank lines
in one step, refuses lines longer than MAX_LINE and stops after MAX_PROBLEMS problems.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import cast

import numpy as np
import pyarrow as pa

from scoring import _problems
from scoring._columns import MAX_LINE, Parsed, sorted_codes
from scoring._fields import Field, lookup
from scoring._idindex import IdIndex
from scoring._problems import UTF8_HINT, Collector
from scoring._source import Source

__all__ = ["read_precise"]

_EOL = re.compile(rb"\r\n?|\n")
_BLANK_RUN = re.compile(rb"[\r\n]+")


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
                self.stop("line too long", line + 1, f"longer than {MAX_LINE:,} bytes", limit=MAX_LINE)
                return
            try:
                text = data[pos:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                offset = pos + exc.start
                self.stop("not UTF-8", line + 1, f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset}{UTF8_HINT}",
                          byte=f"0x{data[offset]:02x}", offset=offset)
                return
            line += 1
            if self.first is None:
                self.first = line
            pos = end
            yield text

    def stop(self, kind: str, line: int | None, message: str, **params: object) -> None:
        self.problems.add(kind, line, None, message, None, **params)
        self.stopped = True


def read_precise(source: Source, header: Sequence[str], header_end: int, id_name: str, fields: Sequence[Field],
                 expected: IdIndex | None) -> Parsed:
    """Read and check every row; raise SubmissionRejected listing the problems, else return the columns."""
    problems = Collector()
    header = list(header)
    ncols = len(header)
    id_pos = header.index(id_name)
    text_names: dict[str, dict[str, int]] = {}
    stores: list[array[float] | array[int]] = [array("d" if f.is_float else "q") for f in fields]
    numbers = [(header.index(f.name), f.name, f.kind == "probability", cast("array[float]", store))
               for f, store in zip(fields, stores, strict=True) if f.is_float]
    others = [(header.index(f.name), f.name, _checker(f, problems, text_names), store)
              for f, store in zip(fields, stores, strict=True) if not f.is_float]
    index = expected.mapping() if expected is not None else None
    seen: dict[str, int] = {}  # id → first line (no expected ids)
    first_line = [0] * len(expected) if expected is not None else []
    positions = array("q")
    ids: list[str] = []
    lines = _Lines(source.load(), header_end, problems)
    try:
        for row in csv.reader(lines):
            line = lines.first or 0
            lines.first = None
            if not row:
                continue
            if len(row) != ncols:
                problems.bad_fields(line, ncols, len(row), row[-1] == "")
            else:
                key = row[id_pos]
                if index is not None:
                    pos = index.get(key)
                    if pos is None:
                        if key == "":
                            problems.empty_id(line, id_name)
                        else:
                            problems.unknown_id(key, line, id_name, key.strip() in index)
                    elif first_line[pos]:
                        problems.duplicate_id(key, line, id_name, first_line[pos])
                    else:
                        first_line[pos] = line
                    positions.append(-1 if pos is None else pos)
                else:
                    if key in seen:
                        problems.duplicate_id(key, line, id_name, seen[key])
                    elif key == "":
                        problems.empty_id(line, id_name)
                    seen.setdefault(key, line)
                    ids.append(key)
                for col, name, probability, store in numbers:  # inlined: the hot loop of this path
                    text = row[col]
                    try:
                        value = float(text)
                    except ValueError:
                        value = None
                    # value - value == 0 only for finite values; float() also takes '1_0' and non-ASCII digits.
                    if value is not None and value - value == 0.0 and (not probability or 0.0 <= value <= 1.0) \
                            and "_" not in text and text.isascii():
                        store.append(value)
                    else:
                        problems.bad_number(text, line, name, probability)
                        store.append(0.0)
                for col, name, check, other in others:
                    other.append(check(row[col], line, name))
            if problems.total >= _problems.MAX_PROBLEMS:
                problems.stopped(line)
                lines.stopped = True
                break
    except csv.Error as exc:
        lines.stop("malformed CSV", lines.first, f"malformed CSV: {exc}", detail=str(exc))
    if not lines.stopped:
        if expected is not None:
            missing = np.flatnonzero(np.asarray(first_line, dtype=np.int64) == 0)
            if missing.size:
                problems.missing_ids(id_name, int(missing.size), expected.ids[int(missing[0])].as_py())
        elif not ids:
            problems.no_rows()
    problems.check()
    return _parsed(fields, stores, text_names, ids, positions, expected)


def _checker(f: Field, problems: Collector, text_names: dict[str, dict[str, int]]) -> Callable[[str, int, str], int]:
    """Return the function that checks one cell of a coded or text field and returns its code."""
    if f.kind == "text":
        names = text_names[f.name] = {}
        return lambda text, line, column: names.setdefault(text, len(names))
    to_code = lookup(f)
    cache: dict[str, int | None] = {}

    def code(text: str, line: int, column: str) -> int:
        found = cache.get(text, -1)
        if found == -1:
            found = cache[text] = to_code(text)
        if found is None:
            problems.bad_code(f, text, line, column)
            return 0
        return found

    return code


def _parsed(fields: Sequence[Field], stores: list[array[float] | array[int]], text_names: dict[str, dict[str, int]],
            ids: list[str], positions: array[int], expected: IdIndex | None) -> Parsed:
    values: dict[str, np.ndarray | pa.ChunkedArray] = {}
    categories: dict[str, list[str]] = {}
    for f, store in zip(fields, stores, strict=True):
        dtype = np.float64 if f.is_float else np.int64
        column = np.frombuffer(store, dtype=dtype) if len(store) else np.zeros(0, dtype=dtype)
        if f.kind == "text":
            column, categories[f.name] = sorted_codes(column, text_names[f.name])
        values[f.name] = column
    if expected is None:
        return Parsed(len(ids), pa.array(ids, type=pa.string()), values, categories, None)
    pos = np.frombuffer(positions, dtype=np.int64) if len(positions) else np.zeros(0, np.int64)
    order = np.empty(len(expected), dtype=np.int64)
    order[pos] = np.arange(len(pos))
    identity = bool(np.array_equal(order, np.arange(len(order))))
    return Parsed(len(pos), expected.ids, values, categories, None if identity else order)
