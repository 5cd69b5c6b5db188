"""Read a submission and check it against the task and the hidden labels, before any metric.

Rules: exactly the task's columns (any order); every id of the labels exactly once and no
other; every value of its target's kind (a finite number; a probability in [0, 1]; one of the
classes, numeric classes also written as 1.0; a boolean True/False/true/false/1/0). The file is
UTF-8 (a BOM is allowed), lines end in LF or CRLF, fields may be quoted, and it may be gzip.
Any problem raises `SubmissionRejected` listing the first problems with line numbers (the header
is line 1) and counting all of them; no other exception escapes for any input bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring._columns import PARALLEL_ROWS, Parsed
from scoring._fields import Field
from scoring._problems import Collector
from scoring._reader import read_columns, read_header
from scoring._source import DEFAULT_MAX_BYTES, SourceLike, open_source
from scoring._threads import both
from scoring.errors import Problem
from scoring.labels import Labels
from scoring.tasks import Task

__all__ = ["Predictions", "check_header", "read_predictions"]


@dataclass(frozen=True, eq=False)
class Predictions:
    """A valid submission's values, aligned with the labels' public and private rows."""

    rows: int
    public: np.ndarray
    private: np.ndarray


def read_predictions(source: SourceLike, labels: Labels, task: Task, *, max_bytes: int | None = None) -> Predictions:
    """Read and validate a submission; return its values aligned with each split of the labels.

    `source` is the file's bytes, a path, or a binary file open for reading.

    Raises:
        SubmissionRejected: the file breaks a rule; the message lists the problems.
        ValueError: the labels were read for another task.
    """
    if tuple(task.columns) != labels.columns:
        raise ValueError(f"the labels were read for the columns {', '.join(labels.columns)}, "
                         f"not for task {task.slug!r} ({', '.join(task.columns)})")
    src = open_source(source, DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)
    header, header_end = read_header(src)
    check_header(header, task.columns)
    fields = [Field(t.name, t.kind, t.classes) for t in task.targets]
    parsed = read_columns(src, header, header_end, task.id_column, fields, expected=labels.index)
    single = task.get_metric().single_target
    public, private = _split(parsed, task, labels, single)
    return Predictions(parsed.rows, public, private)


def _split(parsed: Parsed, task: Task, labels: Labels, single: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gather each split's rows of the targets, column by column, the columns shared by two threads."""
    rows = []
    for split in (labels.public, labels.private):
        rows.append(split.index if parsed.order is None else parsed.order[split.index])
    names = task.target_names
    dtype = np.float64 if task.targets[0].is_numeric else np.int64
    if single:
        return _take(parsed.values[names[0]], rows[0], dtype), _take(parsed.values[names[0]], rows[1], dtype)
    out = [np.empty((len(r), len(names)), dtype=dtype, order="F") for r in rows]

    def gather(columns: range) -> None:
        for j in columns:
            for r, o in zip(rows, out, strict=True):
                o[:, j] = _take(parsed.values[names[j]], r, dtype)

    if parsed.rows >= PARALLEL_ROWS and len(names) > 1:
        half = len(names) // 2
        both(lambda: gather(range(half)), lambda: gather(range(half, len(names))))
    else:
        gather(range(len(names)))
    return out[0], out[1]


def _take(column: np.ndarray | pa.ChunkedArray, rows: np.ndarray, dtype: type) -> np.ndarray:
    """Return column[rows] as an ndarray (pyarrow takes from its chunks without joining them first)."""
    if isinstance(column, pa.ChunkedArray):
        return pc.take(column, pa.array(rows)).to_numpy().astype(dtype, copy=False)
    return column[rows].astype(dtype, copy=False)


def _norm(name: str) -> str:
    """Return a column name as compared for near misses: no spaces, BOM or quotes; any case."""
    return name.strip().strip('\ufeff"\'').strip().casefold()


def check_header(header: Sequence[str], expected: Sequence[str]) -> None:
    """Check that the header has exactly the expected columns, in any order.

    Raises:
        SubmissionRejected: missing, unexpected or repeated columns, with near-miss hints.
    """
    problems = Collector()
    counts = Counter(header)
    for name, n in counts.items():
        if n > 1:
            problems.add("repeated column", 1, None, f"column {name!r} appears {n} times", name=name, count=n)
    missing = [c for c in expected if c not in counts]
    unexpected = [c for c in counts if c not in set(expected)]
    explained: set[str] = set()
    for name in missing:
        near = [u for u in unexpected if _norm(u) == _norm(name)]
        if near:
            explained.add(near[0])
            only_padding = near[0].strip().strip('\ufeff"\'').strip() == name
            why = "remove the spaces or quotes around it" if only_padding else "column names are case-sensitive"
            problems.add("missing column", 1, None, f"missing column {name!r}: found {near[0]!r} ({why})",
                         code="missing_column_padded" if only_padding else "missing_column_case",
                         name=name, found=near[0])
        else:
            problems.add("missing column", 1, None, f"missing column {name!r}", name=name)
    for name in unexpected:
        if name in explained:
            continue
        if name.strip() == "":
            hint, code = " (a trailing comma, or an unnamed index column?)", "unexpected_column_blank"
        elif name.startswith("Unnamed: "):
            hint, code = " (the index of a pandas DataFrame? save with index=False)", "unexpected_column_index"
        else:
            hint, code = "", "unexpected_column"
        problems.add("unexpected column", 1, None, f"unexpected column {name!r}{hint}", code=code, name=name)
    if problems.total:
        problems.summary("header", 0, Problem(1, None, f"expected the columns {_list(expected)} (in any order); "
                                                       f"found {_list(header)}", "header",
                                               {"expected": _list(expected), "found": _list(header)}))
    problems.check()


def _list(names: Sequence[str], limit: int = 8) -> str:
    """Format column names for a message, eliding the middle of long lists."""
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit - 2])}, …, {names[-1]} ({len(names)} columns)"
