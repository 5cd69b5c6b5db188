"""The public/private split: reproducible, seeded, of the asked fraction, and overridden by Usage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from scoring import LabelsError, assign_public, read_labels
from scoring.split import hash_uniform

from .conftest import REGRESSION_TOML, make_case

IDS = [f"TEST_{i:06d}" for i in range(100_000)]


def test_same_seed_same_mask_other_seed_other_mask() -> None:
    a = assign_public(IDS, 0.3, "competition-1")
    b = assign_public(list(reversed(IDS)), 0.3, "competition-1")[::-1]
    c = assign_public(IDS, 0.3, "competition-2")
    assert a.dtype == np.bool_ and a.shape == (len(IDS),)
    assert np.array_equal(a, b)  # depends on the id, not on the row order
    assert not np.array_equal(a, c)
    assert 0.57 < np.mean(a == c) < 0.59  # independent draws agree on 0.3² + 0.7² = 58% of rows


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.9])
def test_fraction_within_tolerance(fraction: float) -> None:
    assert abs(assign_public(IDS, fraction, 42).mean() - fraction) < 0.01  # ~7 standard errors


def test_each_id_depends_only_on_seed_and_id() -> None:
    small = assign_public(IDS[:1000], 0.3, "s")
    assert np.array_equal(small, assign_public(IDS, 0.3, "s")[:1000])


def test_the_hash_formula_is_pinned() -> None:
    digest = hashlib.sha256(b"seed\x00TEST_000001").digest()
    u = (int.from_bytes(digest[:8], "big") >> 11) / 2**53
    assert hash_uniform(["TEST_000001"], "seed")[0] == u
    assert hash_uniform(IDS[:1000], 0).min() >= 0 and hash_uniform(IDS[:1000], 0).max() < 1


def test_at_least_one_row_on_each_side() -> None:
    for fraction in (1e-9, 1 - 1e-9):
        mask = assign_public(["a", "b"], fraction, "x")
        assert mask.sum() == 1
    assert assign_public(["only"], 0.5, "x").shape == (1,)
    with pytest.raises(ValueError, match="public_fraction must be between 0 and 1 \\(exclusive\\), found 1.0"):
        assign_public(["a"], 1.0, "x")


def test_labels_without_usage_use_the_hash(tmp_path: Path) -> None:
    rows = "\n".join(f"ID_{i},{i + 1},{i + 2},{i + 3}" for i in range(2000))
    case = make_case(tmp_path, "hash", REGRESSION_TOML, "ID,Y_01,Y_02,Y_03\n" + rows + "\n",
                     public_fraction=0.25, seed="s1")
    expected = assign_public([f"ID_{i}" for i in range(2000)], 0.25, "s1")
    assert case.labels.split == "hash" and case.labels.seed == "s1" and case.labels.public_fraction == 0.25
    assert np.array_equal(case.labels.public_mask, expected)
    again = read_labels(case.labels_path, case.task, public_fraction=0.25, seed="s1")
    assert np.array_equal(again.public_mask, case.labels.public_mask)


def test_usage_column_wins_and_is_validated(tmp_path: Path) -> None:
    labels = "ID,Y_01,Y_02,Y_03,Usage\nA,1,2,3,public\nB,2,3,4, PRIVATE \nC,3,4,5,Public\nD,1,1,1,Private\n"
    case = make_case(tmp_path, "usage", REGRESSION_TOML, labels, public_fraction=0.9, seed="ignored")
    assert case.labels.split == "usage" and case.labels.public_fraction is None
    assert case.labels.public_mask.tolist() == [True, False, True, False]
    bad = labels.replace("C,3,4,5,Public", "C,3,4,5,Test")
    (case.folder / "bad.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(LabelsError, match=r"bad.csv: line 4, column Usage: 'Test' is not Public or Private"):
        read_labels(case.folder / "bad.csv", case.task)
    only_public = "ID,Y_01,Y_02,Y_03,Usage\nA,1,2,3,Public\nB,2,3,4,Public\n"
    (case.folder / "public.csv").write_text(only_public, encoding="utf-8")
    with pytest.raises(LabelsError, match="the Usage column marks no row Private; both splits need rows"):
        read_labels(case.folder / "public.csv", case.task)
