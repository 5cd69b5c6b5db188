"""The hidden labels: read, validate, split into public and private rows, and check the metric on them."""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from scoring._columns import Parsed
from scoring._fields import Field
from scoring._idindex import IdIndex
from scoring._reader import read_columns, read_header
from scoring._source import open_source
from scoring.errors import LabelsError, MetricError, SubmissionRejected
from scoring.split import assign_public
from scoring.tasks import USAGE_COLUMN, Task

__all__ = ["Labels", "SplitRows", "read_labels"]


@dataclass(frozen=True, eq=False)
class SplitRows:
    """The rows of one split: their positions in the labels, true values and groups."""

    index: np.ndarray  # positions in labels order, ascending
    y_true: np.ndarray  # (n,) for a single-target metric, else (n, k) Fortran order
    groups: np.ndarray | None  # group codes (metrics with a group column), else None
    clusters: np.ndarray | None = None  # codes of the task's cluster_column (else the groups), else None


@dataclass(frozen=True, eq=False)
class Labels:
    """Hidden labels ready for scoring; `ids` is a pyarrow string array in file order."""

    ids: pa.Array
    public_mask: np.ndarray
    sha256: str
    rows: int
    split: str  # "usage" (the file's Usage column) or "hash" (seeded hash of the id)
    seed: str
    public_fraction: float | None  # None when the Usage column decides
    columns: tuple[str, ...]  # the task's submission columns the labels were read for
    public: SplitRows
    private: SplitRows
    index: IdIndex
    source: str = ""

    def rows_of(self, split: str) -> SplitRows:
        """Return the public or private rows."""
        if split not in ("public", "private"):
            raise ValueError(f"split must be 'public' or 'private', found {split!r}")
        return self.public if split == "public" else self.private


def read_labels(
    path: str | os.PathLike[str],
    task: Task,
    *,
    public_fraction: float = 0.3,
    seed: str | int = 0,
) -> Labels:
    """Read and check the hidden labels for a task and split them into public and private rows.

    The labels file holds the id column, the target columns, optionally `Usage` (Public/Private,
    any case; it then decides the split and `public_fraction` and `seed` are not used) and, for
    a metric that groups rows (PSFA), the group column; other columns are ignored. The metric is
    evaluated on a perfect prediction of each split, so a metric that is undefined on a split
    (one class only, no positive row, a target whose mean |y| is 0) fails here, not later.

    Raises:
        LabelsError: the file or its values do not fit the task; the message names the file.
        ValueError: public_fraction is not strictly between 0 and 1.
    """
    where = str(path)
    raw = Path(path).read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        source = open_source(raw, max_bytes=max(len(raw), 1) * 1000)
        header, header_end = read_header(source)
    except SubmissionRejected as exc:
        raise LabelsError(f"{where}: {exc.message}") from None
    del raw
    metric = task.get_metric()
    group = task.group_column
    fields = [Field(t.name, t.kind, t.classes) for t in task.targets]
    if group is not None:
        fields.append(Field(group, "text"))
    cluster = task.cluster_column
    if cluster is not None and cluster != group:
        fields.append(Field(cluster, "text"))
    has_usage = USAGE_COLUMN in header
    if has_usage:
        fields.append(Field(USAGE_COLUMN, "usage"))
    _check_header(where, header, [task.id_column, *(f.name for f in fields)])
    try:
        parsed = read_columns(source, header, header_end, task.id_column, fields)
    except SubmissionRejected as exc:
        raise LabelsError(f"{where}: {exc.message}") from None
    if has_usage:
        public_mask = parsed.column(USAGE_COLUMN).astype(bool)
        fraction = None
        split = "usage"
    else:
        public_mask = assign_public(parsed.ids.to_pylist(), public_fraction, seed)
        fraction = float(public_fraction)
        split = "hash"
    if metric.binary_labels:
        for name in task.target_names:
            if not np.isin(parsed.column(name), (0.0, 1.0)).all():
                raise LabelsError(f"{where}: metric {metric.name} needs true values 0 or 1 in {name}; found others")
    groups = parsed.column(group) if group is not None else None
    clusters = parsed.column(cluster) if cluster is not None else groups
    rows = {}
    for name, mask in (("public", public_mask), ("private", ~public_mask)):
        index = np.flatnonzero(mask)
        if index.size == 0:
            how = "the Usage column marks no row" if has_usage else "no row is"
            raise LabelsError(f"{where}: {how} {name.capitalize()}; both splits need rows")
        rows[name] = SplitRows(index, _gather(parsed, task, index), None if groups is None else groups[index],
                               None if clusters is None else clusters[index])
        _self_check(where, task, name, rows[name])
    return Labels(
        ids=parsed.ids, public_mask=public_mask, sha256=sha256, rows=parsed.rows, split=split, seed=str(seed),
        public_fraction=fraction, columns=tuple(task.columns), public=rows["public"], private=rows["private"],
        index=IdIndex(parsed.ids), source=where,
    )


def _check_header(where: str, header: list[str], needed: list[str]) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        found = ", ".join(header[:20]) + (f", … ({len(header)} columns)" if len(header) > 20 else "")
        raise LabelsError(f"{where}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                          f"found {found}")
    repeated = sorted({c for c in needed if header.count(c) > 1})
    if repeated:
        raise LabelsError(f"{where}: column{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} "
                          "appear more than once")


def _gather(parsed: Parsed, task: Task, index: np.ndarray) -> np.ndarray:
    """Return the targets of the given rows: (n,) for a single-target metric, else (n, k) in Fortran order."""
    names = task.target_names
    if task.get_metric().single_target:
        return parsed.column(names[0])[index]
    dtype = np.float64 if task.targets[0].is_numeric else np.int64
    out = np.empty((len(index), len(names)), dtype=dtype, order="F")
    for j, name in enumerate(names):
        np.take(parsed.column(name), index, out=out[:, j])
    return out


def _self_check(where: str, task: Task, split: str, rows: SplitRows) -> None:
    """Score a perfect prediction of the split: the metric must be defined there."""
    metric = task.get_metric()
    kwargs = task.metric_kwargs()
    if metric.group_param is not None:
        kwargs["groups"] = rows.groups
    try:
        value = metric.func(rows.y_true, rows.y_true, **kwargs)
    except MetricError as exc:
        raise LabelsError(f"{where}: the {split} split ({len(rows.index):,} rows) cannot be scored: {exc}") from None
    if not math.isfinite(value):
        raise LabelsError(f"{where}: metric {metric.name} is not finite on the {split} split ({value})")
