"""Helpers shared by the task generators: seeds, ids, the Usage split, CSV writing.

Every generator draws its random numbers from :func:`task_rng`, which derives an independent
stream from ``(seed, task, part, *extra)``. Parts that must not change when another part changes
(the train set when only ``rows`` changes, one test chunk from the next) therefore get their own
stream, and the same seed always gives the same bytes.

CSV files are written by pyarrow without quotes, as the original DACON files are; generators only
produce values without commas, quotes or line breaks, and pyarrow raises if one slips through.
"""

from __future__ import annotations

import tomllib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = [
    "CsvChunkWriter",
    "TRAIN_CSV",
    "TEST_CSV",
    "SAMPLE_CSV",
    "LABELS_CSV",
    "assign_usage",
    "bool_strings",
    "check_rows",
    "chunk_writers",
    "float_column",
    "int_column",
    "numbered_ids",
    "public_fraction",
    "read_task_toml",
    "str_column",
    "target_names",
    "task_rng",
    "write_csv",
]

TRAIN_CSV = "train.csv"
TEST_CSV = "test.csv"
SAMPLE_CSV = "sample_submission.csv"
LABELS_CSV = "labels.csv"

_WRITE_OPTIONS = pacsv.WriteOptions(
    include_header=True, quoting_style="none", quoting_header="none", batch_size=8192
)


def task_rng(seed: int, task: str, part: str, *extra: int) -> np.random.Generator:
    """Return a generator for one part of one task, independent of every other part."""
    words = [int(seed), zlib.crc32(task.encode()), zlib.crc32(part.encode()), *map(int, extra)]
    return np.random.default_rng(np.random.SeedSequence(words))


def check_rows(rows: int | None, default: int, *, minimum: int = 1) -> int:
    """Return the number of test rows to generate, validating a caller's ``rows``."""
    if rows is None:
        return default
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)):
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    if rows < minimum:
        raise ValueError(f"rows must be at least {minimum}, got {rows}")
    return int(rows)


def read_task_toml(generator_file: str | Path) -> dict[str, Any]:
    """Read the ``task.toml`` next to a generator module (``__file__``)."""
    path = Path(generator_file).with_name("task.toml")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def target_names(spec: Mapping[str, Any]) -> list[str]:
    """Return the target columns of a parsed task.toml, in submission order."""
    names: list[str] = []
    for target in spec.get("targets", []):
        if "names" in target:
            names.extend(target["names"])
        else:
            names.append(target["name"])
    return names


def public_fraction(spec: Mapping[str, Any]) -> float:
    """Return the task's default public fraction (0.3 when task.toml does not set one)."""
    return float(spec.get("defaults", {}).get("public_fraction", 0.3))


def assign_usage(
    n: int, fraction: float, rng: np.random.Generator, strata: np.ndarray | None = None
) -> pa.Array:
    """Return ``Usage`` values with exactly ``round(n * fraction)`` rows ``Public``, seeded.

    With ``strata`` (e.g. the class of each row) every stratum is split in the same proportion as
    nearly as whole rows allow (largest remainders), so that a rare class is present in both
    splits whenever it has at least two rows and the F1 of either split is defined.
    """
    n_public = int(round(n * fraction))
    if n_public < 1 or n_public >= n:
        raise ValueError(
            f"{n} rows with public fraction {fraction} leave a split empty; generate more rows"
        )
    public = np.zeros(n, dtype=bool)
    if strata is None:
        public[rng.permutation(n)[:n_public]] = True
        return pa.array(np.where(public, "Public", "Private"))
    _, codes = np.unique(np.asarray(strata), return_inverse=True)
    sizes = np.bincount(codes)
    quota = sizes * n_public / n
    take = np.floor(quota).astype(int)
    # Hand the remaining public rows to the largest remainders; ties to the smaller stratum, so
    # that a rare class gets its share first.
    order = np.lexsort((sizes, -(quota - take)))
    take[order[: n_public - take.sum()]] += 1
    # A stratum of two or more rows keeps at least one row on each side when it can.
    for k in np.flatnonzero(sizes >= 2):
        if take[k] == 0 or take[k] == sizes[k]:
            donor = np.flatnonzero(take > 1 if take[k] == 0 else take < sizes - 1)
            donor = donor[donor != k]
            if donor.size:
                d = donor[np.argmax(sizes[donor])]
                step = 1 if take[k] == 0 else -1
                take[k] += step
                take[d] -= step
    for stratum, size in enumerate(sizes):
        rows = np.flatnonzero(codes == stratum)
        public[rows[rng.permutation(size)[: take[stratum]]]] = True
    return pa.array(np.where(public, "Public", "Private"))


def numbered_ids(prefix: str, start: int, stop: int, width: int) -> pa.Array:
    """Return ids ``prefix`` + zero-padded numbers ``start..stop-1`` (e.g. ``TEST_00001``)."""
    numbers = np.arange(start, stop).astype(str)
    return pa.array(np.char.add(prefix, np.char.zfill(numbers, width)))


def float_column(values: np.ndarray, decimals: int | None = None) -> pa.Array:
    """Return a float column with NaN written as an empty cell, optionally rounded."""
    values = np.asarray(values, dtype=np.float64)
    if decimals is not None:
        values = np.round(values, decimals)
    mask = np.isnan(values)
    return pa.array(values, mask=mask if mask.any() else None)


def int_column(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Return an integer column; ``missing`` marks empty cells."""
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values, mask=missing if missing is not None and missing.any() else None)


def str_column(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Return a text column; ``missing`` marks empty cells."""
    values = np.asarray(values, dtype=str)
    return pa.array(values, mask=missing if missing is not None and missing.any() else None)


def bool_strings(values: np.ndarray) -> pa.Array:
    """Return booleans as ``True``/``False`` text, as pandas writes and reads them."""
    return pa.array(np.where(np.asarray(values, dtype=bool), "True", "False"))


def _table(columns: Mapping[str, pa.Array | np.ndarray | Sequence[Any]]) -> pa.Table:
    return pa.table(dict(columns))


def write_csv(path: Path, columns: Mapping[str, pa.Array | np.ndarray | Sequence[Any]]) -> None:
    """Write columns (name -> values, in order) as an unquoted UTF-8 CSV file."""
    pacsv.write_csv(_table(columns), path, write_options=_WRITE_OPTIONS)


class CsvChunkWriter:
    """Append chunks of columns to a CSV file; the first chunk fixes the schema."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, columns: Mapping[str, pa.Array | np.ndarray | Sequence[Any]]) -> None:
        table = _table(columns)
        if self._writer is None or self._schema is None:
            self._schema = table.schema
            self._writer = pacsv.CSVWriter(self._path, table.schema, write_options=_WRITE_OPTIONS)
        self._writer.write_table(table.cast(self._schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@contextmanager
def chunk_writers(out_dir: Path, *names: str) -> Iterator[tuple[CsvChunkWriter, ...]]:
    """Open one :class:`CsvChunkWriter` per file name under ``out_dir``; close them all."""
    writers = tuple(CsvChunkWriter(out_dir / name) for name in names)
    try:
        yield writers
    finally:
        for writer in writers:
            writer.close()
