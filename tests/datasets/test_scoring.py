"""The round trip through `scoring`: task.toml loads, labels read, perfect and baseline scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import datasets
import scoring
from tests.datasets.conftest import SMALL_ROWS, TASKS


def _labels(name: str, folder: Path):
    task = scoring.load_task(datasets.task_dir(name))
    return task, scoring.read_labels(folder / "labels.csv", task)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _better(a: float, b: float, greater_is_better: bool) -> bool:
    return a > b if greater_is_better else a < b


@pytest.mark.parametrize("name", TASKS)
def test_task_toml_loads_and_matches_the_sample_submission(name: str) -> None:
    task = scoring.load_task(datasets.task_dir(name))
    assert task.slug == name
    header = (datasets.task_dir(name) / "sample_submission.csv").read_text(encoding="utf-8")
    assert header.split("\n", 1)[0].split(",") == task.columns
    assert task.description_ko.strip() and task.description_en.strip()


@pytest.mark.parametrize("name", TASKS)
def test_labels_carry_the_usage_split(name: str, small_data: dict[str, Path]) -> None:
    _task, labels = _labels(name, small_data[name])
    assert labels.split == "usage"
    assert labels.rows == SMALL_ROWS[name]
    assert int(labels.public_mask.sum()) == round(SMALL_ROWS[name] * 0.3)


@pytest.mark.parametrize("name", TASKS)
def test_perfect_predictions_get_the_best_value(name: str, small_data: dict[str, Path]) -> None:
    task, labels = _labels(name, small_data[name])
    truth = pd.read_csv(small_data[name] / "labels.csv", dtype=str, keep_default_na=False)
    result = scoring.score(_csv(truth[task.columns]), labels, task)
    best = task.get_metric().best_value
    assert result.public_score == pytest.approx(best, abs=1e-12)
    assert result.private_score == pytest.approx(best, abs=1e-12)
    assert result.rows == SMALL_ROWS[name]


@pytest.mark.parametrize("name", TASKS)
def test_committed_sample_submission_validates(name: str, default_data: dict[str, Path]) -> None:
    task, labels = _labels(name, default_data[name])
    result = scoring.score(datasets.task_dir(name) / "sample_submission.csv", labels, task)
    assert result.rows == datasets.default_rows(name)


def _constants(name: str, task, folder: Path) -> list[pd.DataFrame]:
    """Return constant predictions a team could submit without a model (the best is compared)."""
    test = pd.read_csv(folder / "test.csv", dtype=str, keep_default_na=False, usecols=[task.id_column])
    train = pd.read_csv(folder / "train.csv", low_memory=False)
    names = task.target_names
    frames = []
    kind = task.targets[0].kind
    if kind == "number" and all(n in train.columns for n in names):
        for stat in ("mean", "median"):
            frames.append(test.assign(**{n: getattr(train[n], stat)() for n in names}))
    elif kind == "number":  # sales-forecast: the targets are future days
        history = train.select_dtypes("number").drop(columns=[task.id_column]).to_numpy()
        for value in (history[:, -28:].mean(), 1, 2, 5, 10):
            frames.append(test.assign(**{n: value for n in names}))
    else:
        for value in task.targets[0].class_names:
            frames.append(test.assign(**{names[0]: value}))
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_baseline_beats_every_constant_on_both_splits(
    name: str, default_data: dict[str, Path], baseline_files: dict[str, Path]
) -> None:
    task, labels = _labels(name, default_data[name])
    ours = scoring.score(baseline_files[name], labels, task)
    greater = ours.greater_is_better
    best_public = best_private = -np.inf if greater else np.inf
    pick = max if greater else min
    for frame in _constants(name, task, default_data[name]):
        constant = scoring.score(_csv(frame), labels, task)
        best_public = pick(best_public, constant.public_score)
        best_private = pick(best_private, constant.private_score)
    assert _better(ours.public_score, best_public, greater), (ours, best_public)
    assert _better(ours.private_score, best_private, greater), (ours, best_private)
    # Clearly better, not by luck: a margin of a tenth of the gap to the best value.
    best = task.get_metric().best_value
    margin = 0.1 * abs(best - best_private)
    assert abs(ours.private_score - best_private) > margin, (ours, best_private)
    # But not perfect: the data has noise.
    assert ours.private_score != pytest.approx(best, abs=0.05)


@pytest.mark.parametrize("name", TASKS)
def test_baseline_writes_the_submission_layout(name: str, baseline_files: dict[str, Path]) -> None:
    written = pd.read_csv(baseline_files[name], dtype=str, keep_default_na=False)
    sample = pd.read_csv(datasets.task_dir(name) / "sample_submission.csv", dtype=str)
    assert list(written.columns) == list(sample.columns)
    assert written.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()
