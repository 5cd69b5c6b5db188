"""Files large enough for the two-thread code (≥ 200,000 rows): same answers as the simple paths."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import sklearn.metrics as skm

from scoring import SubmissionRejected, _reader, score
from scoring._threads import both

from .conftest import ANOMALY_TOML, Case, make_case

ROWS = 250_000

MULTI_TOML = """
[task]
slug = "large"
title_ko = "큰"
title_en = "Large"
id_column = "ID"
[metric]
name = "root_mean_squared_error"
[[targets]]
names = ["a", "b", "c"]
kind = "number"
"""


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, np.ndarray]:
    rng = np.random.default_rng(11)
    truth = rng.normal(0, 1, size=(ROWS, 3)).round(6)
    lines = ["ID,a,b,c"] + [f"R{i},{x:.6f},{y:.6f},{z:.6f}" for i, (x, y, z) in enumerate(truth)]
    case = make_case(tmp_path_factory.mktemp("large"), "large", MULTI_TOML, "\n".join(lines) + "\n",
                     public_fraction=0.3, seed="big")
    return case, truth


def _submission(pred: np.ndarray, order: np.ndarray) -> bytes:
    rows = pred.tolist()
    return ("ID,c,a,b\n" + "".join(f"R{i},{rows[i][2]!r},{rows[i][0]!r},{rows[i][1]!r}\n" for i in order)).encode()


def test_shuffled_large_file_scores_like_numpy(large: tuple[Case, np.ndarray]) -> None:
    case, truth = large
    rng = np.random.default_rng(12)
    pred = truth + rng.normal(0, 0.5, size=truth.shape)
    data = _submission(pred, rng.permutation(ROWS))
    result = score(data, case.labels, case.task)
    mask = case.labels.public_mask
    assert result.public_score == pytest.approx(skm.root_mean_squared_error(truth[mask], pred[mask]), rel=1e-12)
    assert result.private_score == pytest.approx(skm.root_mean_squared_error(truth[~mask], pred[~mask]), rel=1e-12)
    with mock.patch.object(_reader, "_fast", lambda *args: None):  # the bulk path gives the same
        again = score(data, case.labels, case.task)
    assert (again.public_score, again.private_score) == (result.public_score, result.private_score)


def test_large_file_problems_match_the_precise_path(large: tuple[Case, np.ndarray]) -> None:
    case, truth = large
    order = np.arange(ROWS)
    order[[10, 200_000]] = order[[200_000, 10]]
    order[123_456] = 7  # a duplicate, so R123456 is missing
    text = _submission(truth, order).replace(b"\nR150000,", b"\nR150000,x").replace(b"\nR200,", b"\nR200,1,")
    messages = []
    for patches in ({}, {"_fast": None}, {"_fast": None, "_bulk": None}):
        paths = mock.patch.multiple(_reader, **{name: (lambda *args: None) for name in patches}) if patches \
            else mock.patch.object(_reader, "MAX_COLUMNS", _reader.MAX_COLUMNS)
        with paths, pytest.raises(SubmissionRejected) as info:
            score(text, case.labels, case.task)
        messages.append(info.value.message)
    assert messages[0] == messages[1] == messages[2]
    assert messages[0].splitlines()[1].startswith("line 123458, column ID: duplicate id 'R7' (first on line 9)")
    assert messages[0].splitlines()[2].startswith("line 150002, column c: 'x")
    assert "line 202: expected 4 fields, found 5" in messages[0] and "2 ids are missing, e.g. R200" in messages[0]
    assert messages[0].splitlines()[-1] == "2 ids are missing, e.g. R200"


def test_large_class_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    truth = rng.random(ROWS) < 0.1
    names = np.array(["Normal", "AbNormal"])
    labels = "Set ID,target\n" + "".join(f"S{i},{names[int(t)]}\n" for i, t in enumerate(truth))
    case = make_case(tmp_path, "anomaly", ANOMALY_TOML, labels, public_fraction=0.5, seed=1)
    pred = truth ^ (rng.random(ROWS) < 0.05)
    sub = "Set ID,target\n" + "".join(f"S{i},{names[int(p)]}\n" for i, p in enumerate(pred))
    result = score(sub.encode(), case.labels, case.task)
    mask = case.labels.public_mask
    assert result.public_score == pytest.approx(skm.f1_score(truth[mask], pred[mask]), rel=1e-12)
    spaced = sub.replace(",AbNormal\n", ", AbNormal\n", 3)  # other spellings take the slower route
    assert score(spaced.encode(), case.labels, case.task).public_score == result.public_score


def test_both_runs_two_functions_and_reraises() -> None:
    assert both(lambda: 1, lambda: "two") == (1, "two")

    def fail() -> None:
        raise RuntimeError("in the helper thread")

    with pytest.raises(RuntimeError, match="in the helper thread"):
        both(lambda: None, fail)
