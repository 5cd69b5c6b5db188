"""score(): both splits in one pass, plain finite floats, and the metric on the right rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import sklearn.metrics as skm

from scoring import SCORER_VERSION, Score, score
from scoring.errors import MetricError, ScoringError, SubmissionRejected

from .conftest import QUALITY_TOML, SALES_TOML, Case, make_case, regression_csv


def test_score_fields(regression: Case) -> None:
    result = score(regression_csv(), regression.labels, regression.task)
    assert isinstance(result, Score)
    assert type(result.public_score) is float and type(result.private_score) is float
    assert result.public_score == pytest.approx(0.2) and result.private_score == pytest.approx(0.15)
    assert result.rows == 6 and result.metric == "lg_nrmse" and result.greater_is_better is False
    assert result.scorer_version == SCORER_VERSION and isinstance(result.seconds, float)  # speed: benchmarks/
    data = result.to_dict()
    assert set(data) == {"public_score", "private_score", "rows", "metric", "greater_is_better", "scorer_version",
                         "seconds"}
    json.dumps(data, allow_nan=False)


def test_each_split_is_scored_on_its_own_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 3000
    truth = rng.integers(0, 3, size=n)
    pred = np.where(rng.random(n) < 0.7, truth, rng.integers(0, 3, size=n))
    labels = "PRODUCT_ID,Y_Class\n" + "".join(f"P{i},{t}\n" for i, t in enumerate(truth))
    case = make_case(tmp_path, "q", QUALITY_TOML, labels, public_fraction=0.3, seed="abc")
    order = rng.permutation(n)  # the submission's rows in another order
    data = "PRODUCT_ID,Y_Class\n" + "".join(f"P{i},{pred[i]}\n" for i in order)
    result = score(data.encode(), case.labels, case.task)
    mask = case.labels.public_mask
    assert result.public_score == pytest.approx(skm.f1_score(truth[mask], pred[mask], average="macro"), abs=1e-12)
    assert result.private_score == pytest.approx(skm.f1_score(truth[~mask], pred[~mask], average="macro"), abs=1e-12)


def test_psfa_uses_the_group_column_of_the_labels(sales: Case) -> None:
    data = "ID,2023-04-05,2023-04-06\nP1,5,2\nP2,0,0\nP3,3,2\nP4,3,5\nP5,2,0\n"
    result = score(data.encode(), sales.labels, sales.task)
    # public: P1, P2 (group A) and P3 (group B), the worked example of test_metrics: (0.5 + 0.25) / 2
    assert result.public_score == pytest.approx(0.375)
    assert result.private_score == pytest.approx(1.0) and result.greater_is_better


def test_labels_of_another_task_are_refused(regression: Case, quality: Case) -> None:
    with pytest.raises(ValueError, match="the labels were read for the columns ID, Y_01, Y_02, Y_03"):
        score(regression_csv(), regression.labels, quality.task)


def test_error_tree() -> None:
    assert issubclass(SubmissionRejected, ScoringError) and issubclass(MetricError, ScoringError)


def test_scores_are_finite_for_extreme_but_valid_values(regression: Case) -> None:
    rows = [f"TEST_00{i},{1e150 if i == 1 else i},{i + 1},{-1e-300}" for i in range(1, 7)]
    result = score(regression_csv(rows), regression.labels, regression.task)
    assert math.isfinite(result.public_score) and math.isfinite(result.private_score)


def test_sales_labels_fixture_is_psfa(tmp_path: Path) -> None:
    case = make_case(tmp_path, "s2", SALES_TOML, "ID,대분류,2023-04-05,2023-04-06\nA,x,1,2\nB,y,3,4\n",
                     public_fraction=0.5, seed=1)
    assert case.labels.split == "hash" and case.labels.rows == 2
