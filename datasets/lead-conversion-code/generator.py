"""The lead-conversion task as a code competition: the same data, plus a public test sample.

Writes what lead-conversion writes (train.csv, the hidden test.csv and labels.csv,
sample_submission.csv) and ``public/test.csv``: 100 rows in the test layout drawn from their own
random stream (not rows of the hidden test), so teams can try their submit.zip with
``hackathon run-code --data public``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

import datasets
from datasets._common import TEST_CSV, task_rng, write_csv

BASE = "lead-conversion"
PUBLIC_ROWS = 100
DEFAULT_TEST_ROWS = datasets._generator(BASE).DEFAULT_TEST_ROWS


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    base = datasets._generator(BASE)
    base.generate(out_dir, rows=rows, seed=seed)
    columns, _ = base._rows(task_rng(seed, "lead-conversion-code", "public"), base._effects(seed), PUBLIC_ROWS)
    (out_dir / "public").mkdir(exist_ok=True)
    write_csv(out_dir / "public" / TEST_CSV, {"id": pa.array(np.arange(PUBLIC_ROWS, dtype=np.int64)), **columns})
