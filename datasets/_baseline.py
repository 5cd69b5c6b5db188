"""A generic scikit-learn baseline chosen by target kind, for tasks without their own.

- ``number`` targets: one ridge regression for all of them (median imputation, scaling).
- ``class`` targets with a positive label (the metric's ``pos_label``) and ``boolean`` targets:
  a gradient-boosted classifier with balanced class weights, fit on four fifths of the training
  rows, whose decision threshold is tuned for F1 on the other fifth.
- other ``class`` targets: a gradient-boosted classifier with balanced class weights.
- ``probability`` targets: a gradient-boosted classifier's probability of the positive class.

Features are the columns that train.csv and test.csv share, except the id column. Text columns
become category codes; those with more distinct values than the boosting trees accept as
categories become plain ordinal codes instead.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from datasets._common import TEST_CSV, TRAIN_CSV, str_column

__all__ = ["frame_columns", "generic_baseline"]

_MAX_CATEGORIES = 250
_RANDOM_STATE = 0


def generic_baseline(task_folder: Path, data_dir: Path) -> pd.DataFrame:
    """Return predictions for ``data_dir/test.csv`` in the task's submission layout.

    Runs single-threaded: the boosting trees' OpenMP threads slowed the fit 4-7x on a busy
    two-core machine (a worker or the test suite running next to it), and gain little when idle.
    """
    with threadpool_limits(limits=1):
        return _generic_baseline(task_folder, data_dir)


def _generic_baseline(task_folder: Path, data_dir: Path) -> pd.DataFrame:
    with (task_folder / "task.toml").open("rb") as fh:
        spec = tomllib.load(fh)
    id_column = spec["task"]["id_column"]
    train = pd.read_csv(data_dir / TRAIN_CSV, low_memory=False)
    test = pd.read_csv(data_dir / TEST_CSV, low_memory=False, dtype={id_column: str})
    features = [c for c in test.columns if c != id_column and c in train.columns]
    x_train, x_test, categorical = _encode(train[features], test[features])

    out: dict[str, Any] = {id_column: test[id_column].astype(str).to_numpy()}
    targets = _targets(spec)
    numbers = [name for name, t in targets.items() if t["kind"] == "number"]
    if numbers:
        predicted = _ridge(x_train, train[numbers].to_numpy(dtype=float), x_test)
        out.update({name: predicted[:, j] for j, name in enumerate(numbers)})
    metric = spec.get("metric", {})
    for name, target in targets.items():
        if target["kind"] == "number":
            continue
        y = train[name]
        if target["kind"] == "boolean":
            labels = y.astype(str).str.lower().isin(["true", "1"]).to_numpy()
            predicted = _binary(x_train, labels, x_test, categorical)
            out[name] = np.where(predicted, "True", "False")
        elif target["kind"] == "probability":
            model = _classifier(categorical, balanced=False)
            model.fit(x_train, (y.to_numpy(dtype=float) >= 0.5).astype(int))
            out[name] = model.predict_proba(x_test)[:, 1]
        else:
            y_text = y.astype(str).to_numpy()
            positive = str(metric.get("pos_label", ""))
            classes = [str(c) for c in target.get("classes", np.unique(y_text))]
            if len(classes) == 2 and positive in classes:
                predicted = _binary(x_train, y_text == positive, x_test, categorical)
                negative = next(c for c in classes if c != positive)
                out[name] = np.where(predicted, positive, negative)
            else:
                model = _classifier(categorical, balanced=True)
                model.fit(x_train, y_text)
                out[name] = model.predict(x_test).astype(str)
    columns = [id_column, *targets]
    return pd.DataFrame({c: out[c] for c in columns})


def frame_columns(frame: pd.DataFrame) -> dict[str, pa.Array]:
    """Return a prediction frame's columns for :func:`datasets._common.write_csv`."""
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype.kind == "f":
            columns[name] = pa.array(np.round(values, 6))
        elif values.dtype.kind in "iu":
            columns[name] = pa.array(values)
        elif values.dtype.kind == "b":
            columns[name] = pa.array(np.where(values, "True", "False"))
        else:
            columns[name] = str_column(values.astype(str))
    return columns


def _targets(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = {}
    for target in spec["targets"]:
        for name in target.get("names", [target.get("name")]):
            targets[name] = target
    return targets


def _encode(
    train: pd.DataFrame, test: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return float matrices for train and test and a mask of categorical columns."""
    both = pd.concat([train, test], ignore_index=True)
    columns, categorical = [], []
    for name in both.columns:
        col = both[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            columns.append(col.to_numpy(dtype=float, na_value=np.nan))
            categorical.append(False)
            continue
        codes, uniques = pd.factorize(col.astype("string"), sort=True)
        codes = codes.astype(float)
        codes[codes < 0] = np.nan
        columns.append(codes)
        categorical.append(len(uniques) <= _MAX_CATEGORIES)
    matrix = np.column_stack(columns) if columns else np.zeros((len(both), 0))
    categories = np.array(categorical, dtype=bool)
    # A column with fewer than two distinct values in train carries nothing (and breaks binning).
    observed = matrix[: len(train)]
    keep = np.array(
        [np.unique(observed[~np.isnan(observed[:, j]), j]).size > 1 for j in range(observed.shape[1])],
        dtype=bool,
    )
    return matrix[: len(train), keep], matrix[len(train) :, keep], categories[keep]


def _ridge(x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    observed = ~np.isnan(x).all(axis=0)  # columns without any value carry nothing
    model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), Ridge(alpha=1.0))
    model.fit(x[:, observed], y)
    return np.asarray(model.predict(x_test[:, observed])).reshape(len(x_test), -1)


def _classifier(categorical: np.ndarray, *, balanced: bool) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        categorical_features=categorical if categorical.any() else None,
        class_weight="balanced" if balanced else None,
        early_stopping=False,
        random_state=_RANDOM_STATE,
    )


def _binary(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, categorical: np.ndarray
) -> np.ndarray:
    """Return boolean predictions with a decision threshold tuned for F1 on held-out rows."""
    y = y.astype(bool)
    if y.all() or not y.any():
        return np.full(len(x_test), bool(y.any()))
    x_fit, x_val, y_fit, y_val = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=_RANDOM_STATE
    )
    model = _classifier(categorical, balanced=True).fit(x_fit, y_fit)
    p_val = model.predict_proba(x_val)[:, 1]
    thresholds = np.unique(np.quantile(p_val, np.linspace(0.5, 0.995, 100)))
    scores = [f1_score(y_val, p_val >= t, zero_division=0.0) for t in thresholds]
    threshold = float(thresholds[int(np.argmax(scores))])
    # No refit on all rows: the threshold belongs to this model, and refitting doubles the time.
    return model.predict_proba(x_test)[:, 1] >= threshold
