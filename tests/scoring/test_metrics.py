"""Every metric against scikit-learn or a worked example, plus one common check over the registry."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as skm

from scoring import get_metric, metric_names
from scoring.errors import MetricError, ScoringError, UnknownMetricError
from scoring.metrics import (
    ParamError,
    accuracy_score,
    bind_params,
    brier_skill_score,
    f1_binary,
    f1_macro,
    lg_nrmse,
    log_loss,
    mean_absolute_error,
    psfa_score,
    roc_auc_score,
    root_mean_squared_error,
    smape,
)

RNG = np.random.default_rng(20240801)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# ---------------------------------------------------------------------------------------------
# Worked examples


def test_lg_nrmse_worked_example() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[2.0, 2.0], [3.0, 2.0]])
    # column 1: RMSE sqrt(0.5), mean|y| 2; column 2: RMSE sqrt(2), mean|y| 3; both weigh 1.2 (first 8)
    assert close(lg_nrmse(y, p), 1.2 * (math.sqrt(0.5) / 2 + math.sqrt(2) / 3))


def test_lg_nrmse_matches_the_competition_code_on_14_targets() -> None:
    y = RNG.normal(5, 2, size=(500, 14))
    p = y + RNG.normal(0, 1, size=y.shape)

    def reference(gt: np.ndarray, preds: np.ndarray) -> float:  # LG Aimers 1st round, as published
        all_nrmse = []
        for idx in range(14):
            rmse = skm.root_mean_squared_error(gt[:, idx], preds[:, idx])
            all_nrmse.append(rmse / np.mean(np.abs(gt[:, idx])))
        return 1.2 * np.sum(all_nrmse[:8]) + 1.0 * np.sum(all_nrmse[8:14])

    assert close(lg_nrmse(y, p), reference(y, p))
    assert close(lg_nrmse(np.asfortranarray(y), np.asfortranarray(p)), reference(y, p))


def test_lg_nrmse_custom_weights_and_zero_scale() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[2.0, 2.0], [3.0, 2.0]])
    assert close(lg_nrmse(y, p, weights=[1.0, 0.0]), math.sqrt(0.5) / 2)
    with pytest.raises(MetricError, match=r"mean\(\|y_true\|\) = 0"):
        lg_nrmse(np.zeros((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="needs 2 weights"):
        lg_nrmse(y, p, weights=[1.0])


def test_psfa_worked_example_with_the_zero_conventions() -> None:
    # group A: a1, a2; group B: b1; two days
    y = np.array([[10.0, 0.0], [0.0, 0.0], [0.0, 4.0]])
    p = np.array([[5.0, 2.0], [0.0, 0.0], [3.0, 2.0]])
    groups = np.array(["A", "A", "B"])
    # A, day 1: total 10; a1 |10-5|/10 · 10/10 = 0.5; a2 has max(y, p) = 0, a zero term.
    # A, day 2: total 0, so weights 1/2; a1 |0-2|/2 · 1/2 = 0.5; a2 zero.  PSFA_A = 1 - (0.5 + 0.5)/2 = 0.5
    # B, day 1: total 0, weight 1; |0-3|/3 = 1.  day 2: |4-2|/4 · 4/4 = 0.5.  PSFA_B = 1 - 1.5/2 = 0.25
    assert close(psfa_score(y, p, groups=groups), (0.5 + 0.25) / 2)


def _psfa_reference(y: np.ndarray, p: np.ndarray, groups: np.ndarray) -> float:
    """The participants' loop implementation of the 3rd round's PSFA."""
    cats = sorted(set(groups.tolist()))
    psfa = 1.0
    for cat in cats:
        ids = np.flatnonzero(groups == cat)
        total = 0.0
        for day in range(y.shape[1]):
            total_sell = np.sum(y[ids, day])
            pred_values, target_values = p[ids, day], y[ids, day]
            denominator = np.maximum(target_values, pred_values)
            with np.errstate(divide="ignore", invalid="ignore"):
                diffs = np.where(denominator != 0, np.abs(target_values - pred_values) / denominator, 0)
            if total_sell != 0:
                sell_weights = target_values / total_sell
            else:
                sell_weights = np.ones_like(target_values) / len(ids)
            total += np.sum(diffs * sell_weights)
        psfa -= total / y.shape[1] / len(cats)
    return float(psfa)


def test_psfa_matches_the_reference_loop() -> None:
    n, days = 400, 21
    y = RNG.poisson(2, size=(n, days)).astype(float)
    y[:, 3] = 0  # a day without sales everywhere
    p = np.maximum(0, y + RNG.normal(0, 2, size=y.shape)).round()
    groups = RNG.choice(["음료", "식품", "생활", "뷰티", "가전"], size=n)
    assert close(psfa_score(y, p, groups=groups), _psfa_reference(y, p, groups))
    assert close(psfa_score(y, y, groups=groups), 1.0)


def test_smape_worked_example() -> None:
    # terms: 0/0 counts as 0; |1-1| = 0; 2·|2-4|/(2+4) = 2/3
    assert close(smape(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 4.0])), 100 * (2 / 3) / 3)
    assert close(smape(np.array([1.0]), np.array([-1.0])), 200.0)


def test_brier_skill_score_formula() -> None:
    y = RNG.integers(0, 2, size=1000)
    p = np.clip(y * 0.7 + RNG.random(1000) * 0.3, 0, 1)
    r = y.mean()
    expected = max(0.0, 100000 * (1 - skm.brier_score_loss(y, p) / (r * (1 - r))))
    assert close(brier_skill_score(y, p), expected)
    assert brier_skill_score(y, np.full(1000, r)) == pytest.approx(0.0, abs=1e-6)  # the base rate: no skill
    assert brier_skill_score(y, 1.0 - y) == 0.0  # worse than no skill is clipped to 0
    assert brier_skill_score(y, y.astype(float)) == 100000.0


# ---------------------------------------------------------------------------------------------
# Against scikit-learn (to 1e-12)


@pytest.mark.parametrize("n", [1, 7, 20_000])
def test_classification_metrics_match_sklearn(n: int) -> None:
    t = RNG.integers(0, 3, size=n)
    p = RNG.integers(0, 3, size=n)
    assert close(f1_macro(t, p), skm.f1_score(t, p, average="macro", zero_division=0.0))
    assert close(accuracy_score(t, p), skm.accuracy_score(t, p))
    tb, pb = t % 2, p % 2
    for pos in (0, 1):
        if (tb == pos).any() or (pb == pos).any():
            expected = skm.f1_score(tb, pb, pos_label=pos, labels=[0, 1], zero_division=0.0)
            assert close(f1_binary(tb, pb, pos_label=pos), expected)


def test_f1_on_labels_and_absent_classes_match_sklearn() -> None:
    names = np.array(["Normal", "AbNormal", "Other"])
    t = names[RNG.integers(0, 2, size=500)]
    p = names[RNG.integers(0, 3, size=500)]  # predicts a class the truth lacks
    assert close(f1_macro(t, p), skm.f1_score(t, p, average="macro", zero_division=0.0))
    per_class = skm.f1_score(t, p, labels=["AbNormal"], average=None, zero_division=0.0)
    assert close(f1_binary(t, p, pos_label="AbNormal"), per_class[0])
    codes_t, codes_p = np.array([0, 0, 2, 2]), np.array([0, 0, 0, 0])  # class 1 nowhere: not averaged
    assert close(f1_macro(codes_t, codes_p), skm.f1_score(codes_t, codes_p, average="macro", zero_division=0.0))
    big_t, big_p = np.array([5000, 7]), np.array([5000, 8])  # large codes take the generic path
    assert close(f1_macro(big_t, big_p), skm.f1_score(big_t, big_p, average="macro", zero_division=0.0))


def test_f1_binary_without_positives_is_undefined() -> None:
    with pytest.raises(MetricError, match="no row is positive"):
        f1_binary(np.zeros(5, dtype=int), np.zeros(5, dtype=int), pos_label=1)


@pytest.mark.parametrize("shape", [(1000,), (1000, 1), (1000, 5)])
def test_regression_metrics_match_sklearn(shape: tuple[int, ...]) -> None:
    y = RNG.normal(0, 10, size=shape)
    p = y + RNG.normal(0, 1, size=shape)
    assert close(root_mean_squared_error(y, p), skm.root_mean_squared_error(y, p))
    assert close(mean_absolute_error(y, p), skm.mean_absolute_error(y, p))


def test_probability_metrics_match_sklearn() -> None:
    y = RNG.integers(0, 2, size=5000)
    p = RNG.random(5000)
    p[:3] = [0.0, 1.0, 0.5]  # clipped to [eps, 1 - eps] as scikit-learn does
    assert close(log_loss(y, p), skm.log_loss(y, y_proba=p))
    assert close(roc_auc_score(y, p), skm.roc_auc_score(y, p))


@pytest.mark.parametrize("func", [log_loss, roc_auc_score, brier_skill_score])
def test_probability_metrics_need_both_classes(func: Callable[..., float]) -> None:
    with pytest.raises(MetricError, match="must contain both 0 and 1"):
        func(np.ones(4), np.full(4, 0.5))


# ---------------------------------------------------------------------------------------------
# The registry: one common check for every metric


def _data(name: str, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Return y_true, a perfect and an imperfect prediction, and keyword arguments, per metric."""
    rng = np.random.default_rng(7)
    if name in ("lg_nrmse", "root_mean_squared_error", "mean_absolute_error", "smape"):
        y = rng.normal(10, 3, size=(n, 4))
        return y, y.copy(), y + rng.normal(0, 1, size=y.shape), {}
    if name == "psfa_score":
        y = rng.poisson(3, size=(n, 21)).astype(float)
        return y, y.copy(), y + rng.integers(0, 3, size=y.shape), {"groups": rng.integers(0, 5, size=n)}
    if name in ("f1_macro", "accuracy_score"):
        y = rng.integers(0, 3, size=n)
        return y, y.copy(), (y + (rng.random(n) < 0.3)) % 3, {}
    if name == "f1_binary":
        y = rng.integers(0, 2, size=n)
        return y, y.copy(), y ^ (rng.random(n) < 0.3), {"pos_label": 1}
    if name in ("log_loss", "roc_auc_score", "brier_skill_score"):
        y = rng.integers(0, 2, size=n).astype(float)
        return y, y.copy(), np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), {}
    raise KeyError(f"no test data for metric {name!r}: add it to _data() in {__file__}")


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_common_checks(name: str) -> None:
    metric = get_metric(name)
    y, perfect, imperfect, kwargs = _data(name)
    if metric.single_target:
        assert y.ndim == 1
    best = metric.func(y, perfect, **kwargs)
    other = metric.func(y, imperfect, **kwargs)
    for value in (best, other):
        assert type(value) is float and math.isfinite(value)
        assert metric.lower_bound <= value <= metric.upper_bound
    assert best == pytest.approx(metric.best_value, abs=1e-9)
    if metric.greater_is_better:
        assert other < best
    else:
        assert other > best
    assert name.endswith("_score") == metric.greater_is_better or name in ("f1_macro", "f1_binary")
    assert metric.lower_bound <= metric.best_value <= metric.upper_bound
    assert metric.target_kinds and metric.direction in ("higher is better", "lower is better")


def test_bundled_metric_names_are_registered() -> None:
    for name in ("lg_nrmse", "f1_macro", "psfa_score", "f1_binary", "root_mean_squared_error", "mean_absolute_error",
                 "accuracy_score", "log_loss", "roc_auc_score", "brier_skill_score", "smape"):
        assert get_metric(name).name == name
    assert metric_names() == sorted(metric_names())


def test_unknown_metric_lists_valid_names() -> None:
    with pytest.raises(UnknownMetricError, match=r"unknown metric 'nrmse'; valid names: accuracy_score, .*lg_nrmse"):
        get_metric("nrmse")
    assert issubclass(UnknownMetricError, ScoringError) and issubclass(UnknownMetricError, LookupError)


def test_bind_params_resolves_labels_and_rejects_bad_params() -> None:
    f1 = get_metric("f1_binary")
    assert bind_params(f1, {"pos_label": "AbNormal"}, n_targets=1, kind="class", classes=("Normal", "AbNormal")) == {
        "pos_label": 1}
    assert bind_params(f1, {"pos_label": True}, n_targets=1, kind="boolean") == {"pos_label": 1}
    assert bind_params(f1, {"pos_label": False}, n_targets=1, kind="boolean") == {"pos_label": 0}
    assert bind_params(f1, {}, n_targets=1, kind="boolean") == {"pos_label": 1}
    assert bind_params(f1, {"pos_label": 1}, n_targets=1, kind="class", classes=("0", "1")) == {"pos_label": 1}
    assert bind_params(f1, {"pos_label": True}, n_targets=1, kind="class", classes=("true", "false")) == {
        "pos_label": 0}
    with pytest.raises(ParamError, match="required: which class is positive"):
        bind_params(f1, {}, n_targets=1, kind="class", classes=("Normal", "AbNormal"))
    with pytest.raises(ParamError, match="expected one of the classes Normal, AbNormal; found 'Abnormal2'"):
        bind_params(f1, {"pos_label": "Abnormal2"}, n_targets=1, kind="class", classes=("Normal", "AbNormal"))
    with pytest.raises(ParamError, match="unknown parameter for metric f1_binary; valid parameters: pos_label"):
        bind_params(f1, {"average": "macro"}, n_targets=1, kind="class", classes=("0", "1"))
    nrmse = get_metric("lg_nrmse")
    assert bind_params(nrmse, {"weights": [1, 2]}, n_targets=2, kind="number") == {"weights": [1.0, 2.0]}
    with pytest.raises(ParamError, match="expected a list of 2 non-negative numbers"):
        bind_params(nrmse, {"weights": [1]}, n_targets=2, kind="number")
    with pytest.raises(ParamError, match="needs a column name of the hidden labels"):
        bind_params(get_metric("psfa_score"), {}, n_targets=21, kind="number")
