"""Session fixtures: every bundled task generated once at its default size, and once small."""

from __future__ import annotations

from pathlib import Path

import pytest

import datasets

TASKS = ["antenna", "lead-conversion", "product-anomaly", "product-quality", "sales-forecast"]

# Test rows for the small copies (train stays full size except for sales-forecast).
SMALL_ROWS = {
    "antenna": 500,
    "lead-conversion": 300,
    "product-anomaly": 300,
    "product-quality": 40,
    "sales-forecast": 200,
}


@pytest.fixture(scope="session")
def default_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each task generated at its default size with seed 0 (what `hackathon demo` uses)."""
    root = tmp_path_factory.mktemp("default")
    out = {}
    for name in TASKS:
        datasets.generate(name, root / name, seed=0)
        out[name] = root / name
    return out


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each task generated with SMALL_ROWS test rows and seed 0."""
    root = tmp_path_factory.mktemp("small")
    out = {}
    for name in TASKS:
        datasets.generate(name, root / name, rows=SMALL_ROWS[name], seed=0)
        out[name] = root / name
    return out


@pytest.fixture(scope="session")
def baseline_files(default_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """The baseline's predictions for each task's default-size test set."""
    root = tmp_path_factory.mktemp("baseline")
    return {
        name: datasets.baseline(name, default_data[name], root / f"{name}.csv") for name in TASKS
    }
