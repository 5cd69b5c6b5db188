"""Same seed, same bytes; another seed, other data; train independent of the test size."""

from __future__ import annotations

from pathlib import Path

import pytest

import datasets
from tests.datasets.conftest import SMALL_ROWS, TASKS

FILES = ("train.csv", "test.csv", "sample_submission.csv", "labels.csv")


@pytest.mark.parametrize("name", TASKS)
def test_same_seed_gives_identical_bytes(
    name: str, small_data: dict[str, Path], tmp_path: Path
) -> None:
    datasets.generate(name, tmp_path, rows=SMALL_ROWS[name], seed=0)
    for file_name in FILES:
        assert (tmp_path / file_name).read_bytes() == (small_data[name] / file_name).read_bytes(), file_name


@pytest.mark.parametrize("name", TASKS)
def test_another_seed_gives_other_data_with_the_same_layout(
    name: str, small_data: dict[str, Path], tmp_path: Path
) -> None:
    datasets.generate(name, tmp_path, rows=SMALL_ROWS[name], seed=1)
    for file_name in ("train.csv", "test.csv", "labels.csv"):
        ours = (tmp_path / file_name).read_bytes()
        theirs = (small_data[name] / file_name).read_bytes()
        assert ours != theirs, file_name
        assert ours.split(b"\n", 1)[0] == theirs.split(b"\n", 1)[0], file_name
    # Ids depend on position only, so the committed sample submission fits every seed.
    sample = (tmp_path / "sample_submission.csv").read_bytes()
    assert sample == (small_data[name] / "sample_submission.csv").read_bytes()


@pytest.mark.parametrize("name", [t for t in TASKS if t != "sales-forecast"])
def test_train_does_not_depend_on_the_test_size(
    name: str, default_data: dict[str, Path], small_data: dict[str, Path]
) -> None:
    assert (default_data[name] / "train.csv").read_bytes() == (small_data[name] / "train.csv").read_bytes()


def test_antenna_chunks_do_not_change_the_bytes_of_a_rerun(tmp_path: Path) -> None:
    generator = datasets._generator("antenna")
    rows = generator.CHUNK + 17  # two chunks
    datasets.generate("antenna", tmp_path / "a", rows=rows, seed=5)
    datasets.generate("antenna", tmp_path / "b", rows=rows, seed=5)
    for file_name in FILES[1:]:
        a = (tmp_path / "a" / file_name).read_bytes()
        assert a == (tmp_path / "b" / file_name).read_bytes()
        assert a.count(b"\n") == rows + 1
    last = (tmp_path / "a" / "labels.csv").read_text().rstrip("\n").rsplit("\n", 1)[1]
    assert last.startswith(f"TEST_{rows:05d},")


@pytest.mark.slow
def test_many_antenna_rows_cross_chunks_and_the_id_width(tmp_path: Path) -> None:
    # Speed and memory of a million rows are goals of benchmarks/bench_datasets.py, not of a test.
    # Here: three chunks and a sixth digit in the ids, every file with one line per row.
    generator = datasets._generator("antenna")
    rows = 2 * generator.CHUNK + 1  # 131,073: ids of six digits
    datasets.generate("antenna", tmp_path, rows=rows, seed=0)
    ids = []
    for file_name in FILES[1:]:
        with (tmp_path / file_name).open("rb") as fh:
            lines = fh.read().split(b"\n")
        assert lines[-1] == b"" and len(lines) - 2 == rows, file_name
        ids.append([line.split(b",", 1)[0] for line in lines[1:-1]])
    assert ids[0] == ids[1] == ids[2]
    width = len(str(rows))
    assert ids[0] == [f"TEST_{i:0{width}d}".encode() for i in range(1, rows + 1)]
