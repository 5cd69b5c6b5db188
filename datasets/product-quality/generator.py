"""Synthetic data for the smart-factory quality task (LG Aimers 2nd round, 2023).

Each row is one product of a production line: ``LINE`` and ``PRODUCT_CODE`` decide which of the
2,875 process columns X_1..X_2875 were measured at all (the others are empty, as in the real data,
where most of each row is empty), and the measured ones are correlated through a few latent process
states. A hidden quality score ``Y_Quality`` is a function of a handful of measured columns of the
row's line group, plus noise; ``Y_Class`` is 0 (below spec), 1 (in spec) or 2 (above spec) by
fixed thresholds on it. The column layout and the relation are fixed (a constant structure seed);
``seed`` draws the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.linear_model import Ridge

from datasets._common import (
    LABELS_CSV,
    SAMPLE_CSV,
    TEST_CSV,
    TRAIN_CSV,
    assign_usage,
    check_rows,
    chunk_writers,
    numbered_ids,
    public_fraction,
    read_task_toml,
    str_column,
    task_rng,
    write_csv,
)

TASK = "product-quality"
DEFAULT_TEST_ROWS = 310
TRAIN_ROWS = 598
MIN_TEST_ROWS = 10
N_X = 2875
CHUNK = 2_000
N_FACTORS = 12

# Line -> (line group, probability). Groups share which columns they measure.
LINES: dict[str, tuple[str, float]] = {
    "T100304": ("T", 0.29),
    "T100306": ("T", 0.28),
    "T050304": ("A1", 0.13),
    "T050307": ("A1", 0.07),
    "T010305": ("A2", 0.10),
    "T010306": ("A2", 0.13),
}
GROUPS = ("T", "A1", "A2")
# 1-based column ranges each group measures: T lines X_1..X_937; A lines share X_938..X_1800 and
# each A group has its own further range.
RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "T": ((1, 937),),
    "A1": ((938, 1800), (1801, 2300)),
    "A2": ((938, 1800), (2301, 2875)),
}
Y_MEAN, Y_STD = 0.5303, 0.0075
CLASS_CUTS = (-1.04, 0.95)  # in standard units of Y_Quality: about 15% / 68% / 17%
TRAIN_START, TRAIN_END = np.datetime64("2022-06-13T05:14"), np.datetime64("2022-09-08T22:47")
_SCREEN = 30  # columns the baseline keeps per line group
_ALPHA = 10.0
TEST_START, TEST_END = np.datetime64("2022-09-09T06:08"), np.datetime64("2022-11-05T21:33")


@dataclass(frozen=True)
class _Structure:
    measured: np.ndarray  # (n_groups, N_X) bool: the group measures the column
    means: np.ndarray  # (N_X,)
    stds: np.ndarray  # (N_X,) zero for constant columns
    decimals: np.ndarray  # (N_X,)
    line_shift: np.ndarray  # (n_lines, N_X) in standard units
    loadings: np.ndarray  # (N_X, N_FACTORS)
    uniq: np.ndarray  # (N_X,)
    key_columns: np.ndarray  # (n_groups, 8) 0-based
    key_weights: np.ndarray  # (n_groups, 8)
    y_scale: np.ndarray  # (n_groups,) standardizes each group's signal
    r2: float


@cache
def _structure() -> _Structure:
    rng = task_rng(0, TASK, "structure")
    measured = np.zeros((len(GROUPS), N_X), dtype=bool)
    for g, group in enumerate(GROUPS):
        for first, last in RANGES[group]:
            measured[g, first - 1 : last] = True
    dead = rng.random(N_X) < 0.12  # columns no line measures in this period
    measured[:, dead] = False
    magnitude = 10 ** rng.uniform(-1, 3.3, N_X)
    stds = magnitude * rng.uniform(0.004, 0.08, N_X)
    stds[rng.random(N_X) < 0.06] = 0.0  # set-points that never change
    decimals = np.clip(2 - np.floor(np.log10(np.maximum(stds, 1e-3))), 0, 3).astype(int)
    line_shift = rng.normal(0.0, 0.4, (len(LINES), N_X))
    factor = rng.integers(0, N_FACTORS, N_X)
    loadings = rng.normal(0.0, 0.1, (N_X, N_FACTORS))
    loadings[np.arange(N_X), factor] = rng.uniform(0.4, 0.9, N_X)
    loadings *= np.sqrt(np.minimum(1.0, 0.9 / (loadings**2).sum(axis=1)))[:, None]
    uniq = np.sqrt(1.0 - (loadings**2).sum(axis=1))
    keys, weights = [], []
    for g in range(len(GROUPS)):
        candidates = np.flatnonzero(measured[g] & (stds > 0))
        keys.append(rng.choice(candidates, 8, replace=False))
        weights.append(rng.choice([-1.0, 1.0], 8) * rng.uniform(0.5, 1.0, 8))
    key_columns, key_weights = np.array(keys), np.array(weights)
    # Standardize each group's signal (its key columns are correlated through the factors).
    f = rng.standard_normal((20_000, N_FACTORS))
    y_scale = np.empty(len(GROUPS))
    for g in range(len(GROUPS)):
        k = key_columns[g]
        z = f @ loadings[k].T + rng.standard_normal((20_000, k.size)) * uniq[k]
        y_scale[g] = _signal(z, key_weights[g]).std()
    return _Structure(
        measured, magnitude, stds, decimals, line_shift, loadings, uniq,
        key_columns, key_weights, y_scale, r2=0.8,
    )  # fmt: skip


def _signal(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return a mostly linear function of the key columns, with one threshold effect."""
    return z @ weights + 0.8 * np.where(z[:, 0] > 0.5, 1.0, 0.0)


def _timestamps(rng: np.random.Generator, n: int, start: np.datetime64, end: np.datetime64):
    minutes = int((end - start) / np.timedelta64(1, "m"))
    offsets = np.sort(rng.integers(0, minutes + 1, n))
    times = (start + offsets.astype("timedelta64[m]")).astype(object)
    # The real files write the hour without a leading zero: "2022-06-13 5:14".
    return np.array([f"{t:%Y-%m-%d} {t.hour}:{t:%M}" for t in times])


def _chunk(
    s: _Structure, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return line names, product codes, X (n x N_X, NaN where unmeasured) and Y_Quality."""
    names = list(LINES)
    probs = np.array([p for _, p in LINES.values()])
    line = rng.choice(len(names), n, p=probs / probs.sum())
    group = np.array([GROUPS.index(LINES[names[i]][0]) for i in line])
    is_t = group == 0
    code = np.where(is_t, np.where(rng.random(n) < 0.017, "O_31", "T_31"), "A_31")
    f = rng.standard_normal((n, N_FACTORS))
    z = f @ s.loadings.T + rng.standard_normal((n, N_X)) * s.uniq
    signal = np.empty(n)
    for g in range(len(GROUPS)):
        rows = group == g
        zg = z[np.ix_(rows, s.key_columns[g])]
        signal[rows] = _signal(zg, s.key_weights[g]) / s.y_scale[g]
    noise = rng.standard_normal(n)
    y_std = signal * np.sqrt(s.r2) + noise * np.sqrt(1 - s.r2)
    y_quality = np.round(Y_MEAN + Y_STD * y_std, 9)
    x = s.means + (z + s.line_shift[line]) * s.stds
    for d in np.unique(s.decimals):
        cols = s.decimals == d
        x[:, cols] = np.round(x[:, cols], d)
    x[~s.measured[group]] = np.nan
    return np.array(names)[line], code, x, y_quality


def y_class(y_quality: np.ndarray) -> np.ndarray:
    """Return the quality class 0/1/2 of quality scores."""
    low, high = (Y_MEAN + Y_STD * c for c in CLASS_CUTS)
    return np.where(y_quality < low, 0, np.where(y_quality > high, 2, 1))


def _x_columns(x: np.ndarray) -> dict[str, pa.Array]:
    missing = np.isnan(x)
    return {
        f"X_{j + 1}": pa.array(x[:, j], mask=missing[:, j] if missing[:, j].any() else None)
        for j in range(N_X)
    }


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    """Write train, test, sample submission and labels for the product-quality task."""
    n_test = check_rows(rows, DEFAULT_TEST_ROWS, minimum=MIN_TEST_ROWS)
    spec = read_task_toml(__file__)
    s = _structure()

    times = _timestamps(task_rng(seed, TASK, "train-time"), TRAIN_ROWS, TRAIN_START, TRAIN_END)
    width = max(3, len(str(TRAIN_ROWS - 1)))
    with chunk_writers(out_dir, TRAIN_CSV) as (train,):
        for c, start in enumerate(range(0, TRAIN_ROWS, CHUNK)):
            stop = min(start + CHUNK, TRAIN_ROWS)
            line, code, x, yq = _chunk(s, task_rng(seed, TASK, "train", c), stop - start)
            train.write({
                "PRODUCT_ID": numbered_ids("TRAIN_", start, stop, width),
                "Y_Class": pa.array(y_class(yq)),
                "Y_Quality": pa.array(yq),
                "TIMESTAMP": str_column(times[start:stop]),
                "LINE": str_column(line),
                "PRODUCT_CODE": str_column(code),
                **_x_columns(x),
            })  # fmt: skip

    times = _timestamps(task_rng(seed, TASK, "test-time"), n_test, TEST_START, TEST_END)
    width = max(3, len(str(n_test - 1)))
    classes = np.empty(n_test, dtype=np.int64)
    with chunk_writers(out_dir, TEST_CSV, SAMPLE_CSV) as (test, sample):
        for c, start in enumerate(range(0, n_test, CHUNK)):
            stop = min(start + CHUNK, n_test)
            line, code, x, yq = _chunk(s, task_rng(seed, TASK, "test", c), stop - start)
            ids = numbered_ids("TEST_", start, stop, width)
            test.write({
                "PRODUCT_ID": ids,
                "TIMESTAMP": str_column(times[start:stop]),
                "LINE": str_column(line),
                "PRODUCT_CODE": str_column(code),
                **_x_columns(x),
            })  # fmt: skip
            sample.write({"PRODUCT_ID": ids, "Y_Class": pa.array(np.zeros(stop - start, int))})
            classes[start:stop] = y_class(yq)
    rng = task_rng(seed, TASK, "usage")
    usage = assign_usage(n_test, public_fraction(spec), rng, strata=classes)
    ids = numbered_ids("TEST_", 0, n_test, width)
    write_csv(out_dir / LABELS_CSV, {"PRODUCT_ID": ids, "Y_Class": pa.array(classes),
                                     "Usage": usage})  # fmt: skip


def baseline(data_dir: Path) -> pd.DataFrame:
    """Predict ``Y_Quality`` per line group with a ridge regression, then cut it into classes.

    Per group of lines the columns that group measures are imputed with their medians, the
    :data:`_SCREEN` columns most correlated with ``Y_Quality`` on train are kept, and a ridge
    regression predicts the quality score; the class cut points are the midpoints between the
    train classes' score ranges.
    """
    train = pd.read_csv(data_dir / TRAIN_CSV, low_memory=False)
    test = pd.read_csv(data_dir / TEST_CSV, low_memory=False)
    x_cols = [c for c in test.columns if c.startswith("X_")]
    yq = train["Y_Quality"].to_numpy(dtype=float)
    yc = train["Y_Class"].to_numpy(dtype=int)
    low = (yq[yc == 0].max() + yq[yc == 1].min()) / 2 if (yc == 0).any() else -np.inf
    high = (yq[yc == 1].max() + yq[yc == 2].min()) / 2 if (yc == 2).any() else np.inf
    groups = {line: group for line, (group, _) in LINES.items()}
    train_group = train["LINE"].map(groups).to_numpy()
    test_group = test["LINE"].map(groups).fillna("T").to_numpy()
    predicted = np.full(len(test), float(np.median(yq)))
    for group in GROUPS:
        fit_rows, new_rows = train_group == group, test_group == group
        if fit_rows.sum() < 10 or not new_rows.any():
            continue
        x_fit = train.loc[fit_rows, x_cols].to_numpy(dtype=float)
        x_new = test.loc[new_rows, x_cols].to_numpy(dtype=float)
        seen = (~np.isnan(x_fit)).mean(axis=0) > 0.5
        x_fit, x_new = x_fit[:, seen], x_new[:, seen]
        medians = np.nanmedian(x_fit, axis=0)
        x_fit = np.where(np.isnan(x_fit), medians, x_fit)
        x_new = np.where(np.isnan(x_new), medians, x_new)
        std = x_fit.std(axis=0)
        varying = std > 0
        z_fit = (x_fit[:, varying] - x_fit[:, varying].mean(axis=0)) / std[varying]
        z_new = (x_new[:, varying] - x_fit[:, varying].mean(axis=0)) / std[varying]
        y = yq[fit_rows]
        corr = np.abs(z_fit.T @ (y - y.mean())) / (len(y) * y.std())
        top = np.argsort(-corr)[:_SCREEN]
        model = Ridge(alpha=_ALPHA).fit(z_fit[:, top], y)
        predicted[new_rows] = model.predict(z_new[:, top])
    classes = np.where(predicted < low, 0, np.where(predicted > high, 2, 1))
    return pd.DataFrame({"PRODUCT_ID": test["PRODUCT_ID"].astype(str), "Y_Class": classes})
