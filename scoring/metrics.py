"""The metric registry: name → `Metric` (function, direction, bounds, accepted targets).

Names follow scikit-learn: `*_score` is higher-is-better, `*_error` and `*_loss` lower-is-better
(`lg_nrmse` and `smape` are lower-is-better too). A metric function takes arrays that were
already validated and aligned, row i of `y_true` with row i of `y_pred`:

- one target (`Metric.single_target`): shape (n,); several: shape (n, k), one column per target;
- number and probability targets as float64; class and boolean targets as integer codes, the
  index of the class in the task's `classes` (boolean: False = 0, True = 1);
- keyword parameters from task.toml's [metric] table, with class labels (`pos_label`) already
  turned into codes by `bind_params`, plus `groups` (an array of group codes, one per row) for a
  metric with a `group_param` (PSFA).

A function returns a Python float, or raises `MetricError` when the metric is undefined on the
rows (a split with one class only, no positive rows for F1). Functions are vectorised numpy
where scikit-learn is slow on a million rows; the tests check them against scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scoring._values import BOOLEAN_CLASSES, ClassLookup, parse_boolean
from scoring.errors import MetricError, UnknownMetricError

__all__ = [
    "Metric",
    "ParamError",
    "accuracy_score",
    "bind_params",
    "brier_skill_score",
    "f1_binary",
    "f1_macro",
    "get_metric",
    "lg_nrmse",
    "log_loss",
    "mean_absolute_error",
    "metric_names",
    "psfa_score",
    "roc_auc_score",
    "root_mean_squared_error",
    "smape",
]

Array = np.ndarray
INF = math.inf


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, bounds and the targets it accepts."""

    name: str
    func: Callable[..., float]
    greater_is_better: bool
    lower_bound: float
    upper_bound: float
    best_value: float
    target_kinds: frozenset[str]
    single_target: bool = False
    binary_labels: bool = False  # y_true must be 0 or 1 (probability metrics)
    params: tuple[str, ...] = ()  # parameter names accepted in task.toml's [metric] table
    label_params: tuple[str, ...] = ()  # parameters naming a class, passed to func as codes
    group_param: str | None = None  # parameter naming the labels column that groups rows
    description: str = field(default="", compare=False)

    @property
    def direction(self) -> str:
        """Return 'higher is better' or 'lower is better'."""
        return "higher is better" if self.greater_is_better else "lower is better"


class ParamError(ValueError):
    """A [metric] parameter is invalid; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------------------
# Regression


def _errors(y_true: Array, y_pred: Array) -> Array:
    """Return y_true - y_pred as float64."""
    return np.subtract(y_true, y_pred, dtype=np.float64)


def _columns(y: Array) -> Array:
    """Return y as a 2-D float64 array, one column per target."""
    y = np.asarray(y, dtype=np.float64)
    return y[:, None] if y.ndim == 1 else y


def _column_means(y_true: Array, y_pred: Array | None, op: Callable[..., Array]) -> Array:
    """Return mean(op(y_true - y_pred)) (or mean(op(y_true))) of each column.

    Column by column through one buffer: a few times faster than whole-matrix temporaries on a
    million rows, and the same sums (numpy's pairwise summation of each contiguous column).
    """
    t = _columns(y_true)
    p = None if y_pred is None else _columns(y_pred)
    out = np.empty(t.shape[1])
    buffer = np.empty(t.shape[0])
    for j in range(t.shape[1]):
        if p is None:
            buffer[:] = t[:, j]
        else:
            np.subtract(t[:, j], p[:, j], out=buffer)
        op(buffer, out=buffer)
        out[j] = buffer.mean() if buffer.size else np.nan
    return out


def _column_mean_square(y_true: Array, y_pred: Array) -> Array:
    """Return the mean squared error of each column."""
    return _column_means(y_true, y_pred, np.square)


def root_mean_squared_error(y_true: Array, y_pred: Array) -> float:
    """Return the RMSE; for several targets the mean of the per-target RMSEs (as scikit-learn)."""
    return float(np.mean(np.sqrt(_column_mean_square(y_true, y_pred))))


def mean_absolute_error(y_true: Array, y_pred: Array) -> float:
    """Return the MAE; for several targets the mean of the per-target MAEs (as scikit-learn)."""
    return float(np.mean(_column_means(y_true, y_pred, np.abs)))


def lg_nrmse(y_true: Array, y_pred: Array, *, weights: Sequence[float] | None = None) -> float:
    """Return Σ_j w_j·RMSE_j / mean(|y_true_j|); by default w = 1.2 for the first 8 targets, else 1.0.

    The 1st LG Aimers hackathon's score (radar antenna, 14 targets); lower is better.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], np.asarray(y_pred)[:, None]
    k = y_true.shape[1]
    w = np.asarray(weights if weights is not None else [1.2] * min(k, 8) + [1.0] * max(k - 8, 0))
    if w.shape != (k,):
        raise ValueError(f"lg_nrmse needs {k} weights, found {w.size}")
    rmse = np.sqrt(_column_mean_square(y_true, y_pred))
    scale = _column_means(y_true, None, np.abs)
    if y_true.shape[0] == 0 or not np.all(scale > 0):
        raise MetricError("lg_nrmse is undefined: a target has mean(|y_true|) = 0 on these rows")
    return float(np.sum(w * (rmse / scale)))


def smape(y_true: Array, y_pred: Array) -> float:
    """Return 100 · mean(2·|A − P| / (|A| + |P|)) in percent, over every cell; 0 ≤ smape ≤ 200.

    A cell with |A| + |P| = 0 (both zero) counts as a perfect 0 and still counts in the mean.
    """
    a = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if a.size == 0:
        raise MetricError("smape is undefined on zero rows")
    num = 2.0 * np.abs(a - p)
    den = np.abs(a) + np.abs(p)
    terms = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return float(100.0 * terms.mean())


def psfa_score(y_true: Array, y_pred: Array, *, groups: Array) -> float:
    """Return PSFA, the 3rd LG Aimers hackathon's sales-forecast accuracy (higher is better).

    For each group m (대분류) of products i and each of the n days (columns):
    PSFA_m = 1 − (1/n)·Σ_day Σ_i |y_i − p_i| / max(y_i, p_i) · y_i / Σ_i y_i; the result is the
    mean of PSFA_m over the groups present. Conventions of the participants' reference code: a
    term with max(y, p) = 0 is 0, and on a day whose true total in the group is 0 every product
    of the group weighs 1 / (products in the group).
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if y.ndim == 1:
        y, p = y[:, None], p[:, None]
    codes, inverse = np.unique(np.asarray(groups), return_inverse=True)
    inverse = inverse.reshape(-1)
    n_groups, n_days = len(codes), y.shape[1]
    if n_groups == 0:
        raise MetricError("psfa_score is undefined on zero rows")
    counts = np.bincount(inverse, minlength=n_groups).astype(np.float64)
    denom = np.maximum(y, p)
    ratio = np.divide(np.abs(y - p), denom, out=np.zeros_like(y), where=denom != 0)
    loss = np.zeros(n_groups)
    for day in range(n_days):
        totals = np.bincount(inverse, weights=y[:, day], minlength=n_groups)
        row_total = totals[inverse]
        weight = np.divide(y[:, day], row_total, out=1.0 / counts[inverse], where=row_total != 0)
        loss += np.bincount(inverse, weights=ratio[:, day] * weight, minlength=n_groups)
    return float(np.mean(1.0 - loss / n_days))


# ---------------------------------------------------------------------------------------------
# Classification (class codes)


def _confusion(y_true: Array, y_pred: Array) -> Array:
    """Return the confusion matrix over the labels present in either array (sorted)."""
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    small_codes = (
        t.dtype.kind in "iub" and p.dtype.kind in "iub" and t.size > 0
        and min(t.min(), p.min()) >= 0 and max(t.max(), p.max()) < 1024
    )
    if small_codes:
        size = int(max(t.max(), p.max())) + 1
        flat = t.astype(np.intp) * size + p.astype(np.intp)
        matrix = np.bincount(flat, minlength=size * size).reshape(size, size)
        present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
        return matrix[np.ix_(present, present)]
    labels, inverse = np.unique(np.concatenate([t, p]), return_inverse=True)
    size = len(labels)
    inverse = inverse.reshape(-1)
    return np.bincount(inverse[: t.size] * size + inverse[t.size :], minlength=size * size).reshape(size, size)


def f1_macro(y_true: Array, y_pred: Array) -> float:
    """Return the macro-averaged F1 over the labels present in y_true or y_pred (as scikit-learn)."""
    if np.asarray(y_true).size == 0:
        raise MetricError("f1_macro is undefined on zero rows")
    matrix = _confusion(y_true, y_pred)
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    # Every label here occurs in y_true or y_pred, so 2·tp + fp + fn > 0.
    return float(np.mean(2 * tp / (2 * tp + fp + fn)))


def f1_binary(y_true: Array, y_pred: Array, *, pos_label: Any = 1) -> float:
    """Return F1 of the positive class `pos_label` (a class code, or any value of the arrays)."""
    t = np.asarray(y_true) == pos_label
    p = np.asarray(y_pred) == pos_label
    tp = int(np.count_nonzero(t & p))
    denom = int(np.count_nonzero(t)) + int(np.count_nonzero(p))
    if denom == 0:
        raise MetricError(f"f1_binary is undefined: no row is positive ({pos_label!r}) in y_true or y_pred")
    return 2 * tp / denom


def accuracy_score(y_true: Array, y_pred: Array) -> float:
    """Return the fraction of rows whose predicted class equals the true class."""
    t = np.asarray(y_true)
    if t.size == 0:
        raise MetricError("accuracy_score is undefined on zero rows")
    return float(np.count_nonzero(t == np.asarray(y_pred)) / t.size)


# ---------------------------------------------------------------------------------------------
# Probabilities of the positive class (y_true is 0/1)


def _positive_rate(y_true: Array, name: str) -> float:
    """Return mean(y_true); raise MetricError unless both 0 and 1 occur."""
    y = np.asarray(y_true, dtype=np.float64)
    rate = float(y.mean()) if y.size else math.nan
    if not 0 < rate < 1:
        raise MetricError(f"{name} is undefined: y_true must contain both 0 and 1 on these rows")
    return rate


def log_loss(y_true: Array, y_pred: Array) -> float:
    """Return the binary cross-entropy; probabilities are clipped to [eps, 1 − eps] (as scikit-learn)."""
    y = np.asarray(y_true, dtype=np.float64)
    _positive_rate(y, "log_loss")
    p = np.asarray(y_pred, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    q = np.where(y == 1, p, 1 - p)
    np.clip(q, eps, 1 - eps, out=q)
    return float(-np.mean(np.log(q)))


def roc_auc_score(y_true: Array, y_pred: Array) -> float:
    """Return the area under the ROC curve of the scores y_pred for the positive class 1."""
    _positive_rate(y_true, "roc_auc_score")
    import sklearn.metrics  # imported here: it costs ~2 s of start-up to every command and worker

    return float(sklearn.metrics.roc_auc_score(np.asarray(y_true), np.asarray(y_pred)))


def brier_skill_score(y_true: Array, y_pred: Array) -> float:
    """Return max(0, 100000 · (1 − BS / (r·(1 − r)))), BS the Brier score, r the positive rate.

    The 9th LG Aimers hackathon's score: 100000 is perfect, 0 is no better than predicting r.
    """
    rate = _positive_rate(y_true, "brier_skill_score")
    brier = float(np.mean(np.square(_errors(y_pred, y_true))))
    return max(0.0, 100000.0 * (1.0 - brier / (rate * (1.0 - rate))))


# ---------------------------------------------------------------------------------------------
# Registry

_NUMBERS = frozenset({"number", "probability"})
_CLASSES = frozenset({"class", "boolean"})
_PROBABILITY = frozenset({"probability"})

_REGISTRY: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("lg_nrmse", lg_nrmse, False, 0.0, INF, 0.0, _NUMBERS, params=("weights",),
               description="Σ w_j·RMSE_j/mean|y_j|; w = 1.2 for the first 8 targets, 1.0 after"),
        Metric("psfa_score", psfa_score, True, -INF, 1.0, 1.0, _NUMBERS, params=("group_column",),
               group_param="group_column", description="sales-forecast accuracy, mean over groups"),
        Metric("smape", smape, False, 0.0, 200.0, 0.0, _NUMBERS,
               description="symmetric MAPE in percent; 0/0 terms count as 0"),
        Metric("root_mean_squared_error", root_mean_squared_error, False, 0.0, INF, 0.0, _NUMBERS,
               description="RMSE, averaged over targets"),
        Metric("mean_absolute_error", mean_absolute_error, False, 0.0, INF, 0.0, _NUMBERS,
               description="MAE, averaged over targets"),
        Metric("f1_macro", f1_macro, True, 0.0, 1.0, 1.0, _CLASSES, single_target=True,
               description="macro-averaged F1 over the classes present"),
        Metric("f1_binary", f1_binary, True, 0.0, 1.0, 1.0, _CLASSES, single_target=True,
               params=("pos_label",), label_params=("pos_label",), description="F1 of the positive class"),
        Metric("accuracy_score", accuracy_score, True, 0.0, 1.0, 1.0, _CLASSES, single_target=True,
               description="fraction of rows classified correctly"),
        Metric("log_loss", log_loss, False, 0.0, INF, 0.0, _PROBABILITY, single_target=True,
               binary_labels=True, description="binary cross-entropy of P(positive)"),
        Metric("roc_auc_score", roc_auc_score, True, 0.0, 1.0, 1.0, _PROBABILITY, single_target=True,
               binary_labels=True, description="area under the ROC curve"),
        Metric("brier_skill_score", brier_skill_score, True, 0.0, 100000.0, 100000.0, _PROBABILITY,
               single_target=True, binary_labels=True,
               description="max(0, 100000·(1 − Brier/(r(1−r))))"),
    ]
}


def metric_names() -> list[str]:
    """Return the registered metric names, sorted."""
    return sorted(_REGISTRY)


def get_metric(name: str) -> Metric:
    """Return the metric registered under `name`.

    Raises:
        UnknownMetricError: unknown name; the message lists the valid names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMetricError(f"unknown metric {name!r}; valid names: {', '.join(metric_names())}") from None


def bind_params(
    metric: Metric,
    params: Mapping[str, Any],
    *,
    n_targets: int,
    kind: str,
    classes: Sequence[str] = (),
) -> dict[str, Any]:
    """Check a task's [metric] parameters and return the keyword arguments for `metric.func`.

    `kind` and `classes` describe the (first) target; class labels become class codes. The
    group parameter is checked but left out: `groups` is passed separately.

    Raises:
        ParamError: an unknown, missing or invalid parameter; `key` names it.
    """
    for key in params:
        if key not in metric.params:
            valid = ", ".join(metric.params) or "none"
            raise ParamError(key, f"unknown parameter for metric {metric.name}; valid parameters: {valid}")
    kwargs: dict[str, Any] = {}
    if metric.name == "lg_nrmse" and "weights" in params:
        weights = params["weights"]
        if (
            not isinstance(weights, list)
            or len(weights) != n_targets
            or not all(isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
                       for w in weights)
        ):
            raise ParamError("weights", f"expected a list of {n_targets} non-negative numbers (one per target), "
                                        f"found {weights!r}")
        kwargs["weights"] = [float(w) for w in weights]
    if metric.group_param is not None:
        value = params.get(metric.group_param)
        if not isinstance(value, str) or not value.strip():
            raise ParamError(metric.group_param, f"metric {metric.name} needs a column name of the hidden labels "
                                                 f"that groups the rows; found {value!r}")
    for key in metric.label_params:
        kwargs[key] = _label_code(key, params.get(key), kind, classes)
    return kwargs


def _label_code(key: str, value: Any, kind: str, classes: Sequence[str]) -> int:
    """Resolve a class label given in task.toml (or its default, True/1) to a class code."""
    names = BOOLEAN_CLASSES if kind == "boolean" else tuple(classes)
    if value is None:
        # The default positive class: True for a boolean target, else a class spelled 1 or True.
        for guess in ("True", "1"):
            code = parse_boolean(guess) if kind == "boolean" else _match(guess, names)
            if code is not None:
                return code
        raise ParamError(key, f"required: which class is positive? one of {', '.join(names)}")
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        raise ParamError(key, f"expected one of the classes {', '.join(names)}; found {value!r}")
    code = parse_boolean(text) if kind == "boolean" else _match(text, names)
    if code is None:
        raise ParamError(key, f"expected one of the classes {', '.join(names)}; found {value!r}")
    return code


def _match(text: str, classes: Sequence[str]) -> int | None:
    """Match a label to a class: as a cell would, else case-insensitively when unambiguous."""
    code = ClassLookup(classes)(text)
    if code is None:
        folded = [i for i, c in enumerate(classes) if c.casefold() == text.casefold()]
        code = folded[0] if len(folded) == 1 else None
    return code
