"""The datasets package API: task names, folders, argument checks, the shared helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import datasets
from datasets._common import assign_usage, numbered_ids, task_rng, write_csv
from tests.datasets.conftest import TASKS


def test_task_names_are_the_five_bundled_tasks() -> None:
    assert datasets.task_names() == TASKS


@pytest.mark.parametrize("name", TASKS)
def test_task_dir_holds_toml_sample_and_generator(name: str) -> None:
    folder = datasets.task_dir(name)
    assert folder.name == name
    for file_name in ("task.toml", "sample_submission.csv", "generator.py"):
        assert (folder / file_name).is_file()
    assert not (folder / "labels.csv").exists()  # hidden labels never live in the repository


def test_unknown_task_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'antena'; valid tasks: antenna, lead-conv"):
        datasets.task_dir("antena")
    with pytest.raises(ValueError, match="valid tasks: .*sales-forecast"):
        datasets.generate("nope", "unused")
    with pytest.raises(ValueError, match="unknown task"):
        datasets.baseline("nope", "unused", "unused.csv")


def test_default_rows_are_the_real_test_sizes() -> None:
    assert {name: datasets.default_rows(name) for name in TASKS} == {
        "antenna": 39_608,
        "lead-conversion": 5_271,
        "product-anomaly": 17_361,
        "product-quality": 310,
        "sales-forecast": 15_890,
    }


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_generate_rejects_a_bad_seed(seed: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        datasets.generate("antenna", tmp_path, rows=10, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "rows"), [("antenna", 0), ("antenna", 2.0), ("product-anomaly", 20)])
def test_generate_rejects_too_few_rows(name: str, rows: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rows must be"):
        datasets.generate(name, tmp_path, rows=rows)  # type: ignore[arg-type]


def test_baseline_needs_generated_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train.csv not found; generate the data first"):
        datasets.baseline("antenna", tmp_path, tmp_path / "out.csv")


@pytest.mark.parametrize("n", [2, 10, 101, 39_608])
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.33])
def test_usage_has_exactly_round_n_f_public_rows(n: int, fraction: float) -> None:
    usage = np.asarray(assign_usage(n, fraction, task_rng(0, "t", "u")).to_pylist())
    assert set(usage) <= {"Public", "Private"}
    assert (usage == "Public").sum() == round(n * fraction)


def test_stratified_usage_puts_a_rare_class_in_both_splits() -> None:
    for trial in range(50):
        rng = np.random.default_rng(trial)
        n = int(rng.integers(20, 400))
        labels = np.zeros(n, dtype=bool)
        labels[rng.permutation(n)[: int(rng.integers(2, 6))]] = True
        usage = np.asarray(assign_usage(n, 0.3, task_rng(trial, "t", "u"), strata=labels).to_pylist())
        public = usage == "Public"
        assert public.sum() == round(n * 0.3)
        assert public[labels].any() and (~public[labels]).any()


def test_usage_refuses_an_empty_split() -> None:
    with pytest.raises(ValueError, match="leave a split empty"):
        assign_usage(1, 0.3, task_rng(0, "t", "u"))


def test_task_rng_streams_are_independent_and_reproducible() -> None:
    a = task_rng(0, "antenna", "train").random(4)
    assert np.array_equal(a, task_rng(0, "antenna", "train").random(4))
    assert not np.array_equal(a, task_rng(1, "antenna", "train").random(4))
    assert not np.array_equal(a, task_rng(0, "antenna", "test").random(4))
    assert not np.array_equal(a, task_rng(0, "antenna", "train", 1).random(4))


def test_write_csv_writes_plain_unquoted_csv_with_empty_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_csv(path, {
        "ID": numbered_ids("TEST_", 1, 3, 5),
        "대분류": pa.array(["B002-C001-0001", "B002-C001-0002"]),
        "X": pa.array([1.5, None]),
        "n": pa.array([0, 12]),
    })  # fmt: skip
    assert path.read_text(encoding="utf-8") == (
        "ID,대분류,X,n\nTEST_00001,B002-C001-0001,1.5,0\nTEST_00002,B002-C001-0002,,12\n"
    )


def test_write_csv_refuses_values_that_would_need_quotes(tmp_path: Path) -> None:
    with pytest.raises(pa.ArrowInvalid):
        write_csv(tmp_path / "x.csv", {"a": pa.array(["x,y"])})
