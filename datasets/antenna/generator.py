"""Synthetic data for the radar-antenna task (LG Aimers 1st round, 2022).

56 process measurements X_01..X_56 of an automotive radar sensor's assembly line drive 14 antenna
quality measurements Y_01..Y_14 (gains and signal-to-noise ratios). The relation is fixed (drawn
from a constant structure seed); ``seed`` draws the rows. Most of each target is a sparse linear
function of the standardized measurements, some is an interaction the linear baseline cannot see,
and the rest is noise, so a model beats the mean clearly but cannot be perfect.

Rows are generated and written in chunks of :data:`CHUNK` rows, each chunk from its own random
stream, so a million-row test set needs bounded memory and the bytes do not depend on anything but
``(seed, rows)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from datasets._common import (
    LABELS_CSV,
    SAMPLE_CSV,
    TEST_CSV,
    TRAIN_CSV,
    assign_usage,
    check_rows,
    chunk_writers,
    float_column,
    numbered_ids,
    public_fraction,
    read_task_toml,
    task_rng,
)

TASK = "antenna"
MIN_TEST_ROWS = 10
DEFAULT_TEST_ROWS = 39_608
TRAIN_ROWS = 39_607
CHUNK = 65_536
N_FACTORS = 8

# name: (mean, std, decimals); None = a constant pass flag (1st..4th inspection passed).
X_SPECS: dict[str, tuple[float, float, int] | None] = {
    "X_01": (68.4, 2.6, 3),  # PCB press depth, step 1
    "X_02": (103.3, 0.6, 3),  # PCB press depth, step 2
    "X_03": (67.3, 2.7, 3),  # heat-sink material 1 weight
    "X_04": None,  # 1st inspection passed
    "X_05": (101.4, 0.4, 3),  # PCB press depth, step 3
    "X_06": (74.4, 2.7, 3),  # PCB press depth, step 4
    "X_07": (29.4, 7.4, 2),  # heat-sink material 1 area
    "X_08": (164.4, 220.0, 2),  # heat-sink material 2 area (skewed)
    "X_09": (150.4, 35.0, 2),  # heat-sink material 3 area
    "X_10": (0.2, 0.6, 2),  # heat-sink material 2 weight (mostly ~0)
    "X_11": (0.02, 0.06, 3),  # heat-sink material 3 weight (mostly ~0)
    "X_12": (4.38, 0.02, 3),  # connector position reference
    "X_13": (0.13, 0.01, 3),  # antenna pad height difference
    "X_14": (13.38, 0.2, 3),  # antenna pad 1 position
    "X_15": (13.24, 0.2, 3),
    "X_16": (13.55, 0.2, 3),
    "X_17": (13.32, 0.2, 3),
    "X_18": (13.40, 0.2, 3),  # antenna pad 5 position
    "X_19": (3.23, 0.03, 3),  # screw insertion depth 1
    "X_20": (3.22, 0.03, 3),
    "X_21": (3.25, 0.03, 3),
    "X_22": (3.23, 0.03, 3),  # screw insertion depth 4
    "X_23": None,  # 2nd inspection passed
    "X_24": (2.26, 0.03, 3),  # connector pin 1 dimension
    "X_25": (2.26, 0.03, 3),
    "X_26": (2.26, 0.03, 3),
    "X_27": (2.26, 0.03, 3),
    "X_28": (2.26, 0.03, 3),
    "X_29": (2.26, 0.03, 3),  # connector pin 6 dimension
    "X_30": (1.35, 0.02, 3),  # screw insertion depth 5
    "X_31": (1.31, 0.02, 3),
    "X_32": (1.35, 0.02, 3),
    "X_33": (1.34, 0.02, 3),  # screw insertion depth 8
    "X_34": (12.78, 0.3, 2),  # screw rotation speed 1 (rpm, scaled)
    "X_35": (12.80, 0.3, 2),
    "X_36": (12.77, 0.3, 2),
    "X_37": (12.79, 0.3, 2),  # screw rotation speed 4
    "X_38": (-16.4, 0.9, 2),  # housing PCB seat dimension 1
    "X_39": (-15.8, 0.9, 2),
    "X_40": (-15.9, 0.9, 2),  # housing PCB seat dimension 3
    "X_41": (21.2, 0.1, 3),  # radome dimension, antenna 1
    "X_42": (21.0, 0.1, 3),
    "X_43": (21.5, 0.1, 3),
    "X_44": (21.6, 0.1, 3),  # radome dimension, antenna 4
    "X_45": (0.15, 0.04, 3),  # radome tilt
    "X_46": (1301.0, 52.0, 1),  # sealant bond amount
    "X_47": None,  # 3rd inspection passed
    "X_48": None,  # 4th inspection passed
    "X_49": (16000.0, 9000.0, 0),  # waiting time before calibration (s)
    "X_50": (130.0, 6.0, 3),  # SMT solder amount, RF1
    "X_51": (131.0, 6.0, 3),
    "X_52": (138.0, 6.0, 3),
    "X_53": (127.0, 6.0, 3),
    "X_54": (130.0, 6.0, 3),
    "X_55": (136.0, 6.0, 3),
    "X_56": (128.0, 6.0, 3),  # SMT solder amount, RF7
}

# name: (mean, std, lower bound or None)
Y_SPECS: dict[str, tuple[float, float, float | None]] = {
    "Y_01": (1.35, 0.35, 0.0),  # antenna gain mean, angle 1
    "Y_02": (1.05, 0.37, 0.0),  # antenna 1 gain deviation
    "Y_03": (1.03, 0.38, 0.0),  # antenna 2 gain deviation
    "Y_04": (14.0, 2.5, None),  # mean signal-to-noise ratio
    "Y_05": (31.0, 0.6, None),  # antenna gain mean, angle 2
    "Y_06": (16.5, 0.8, None),  # signal-to-noise ratio, angle 1
    "Y_07": (3.1, 0.5, None),  # antenna gain mean, angle 3
    "Y_08": (-26.3, 0.65, None),  # signal-to-noise ratio, angle 2
    "Y_09": (-26.3, 0.65, None),  # signal-to-noise ratio, angle 3
    "Y_10": (-22.4, 0.7, None),  # signal-to-noise ratio, angle 4
    "Y_11": (24.4, 0.45, None),  # antenna gain mean, angle 4
    "Y_12": (-26.2, 0.65, None),  # signal-to-noise ratio, angle 5
    "Y_13": (-26.2, 0.65, None),  # signal-to-noise ratio, angle 6
    "Y_14": (-26.2, 0.65, None),  # signal-to-noise ratio, angle 7
}

X_NAMES = list(X_SPECS)
Y_NAMES = list(Y_SPECS)
_VARYING = [name for name, spec in X_SPECS.items() if spec is not None]


@dataclass(frozen=True)
class _Structure:
    """The fixed relation between measurements and targets (independent of ``seed``)."""

    loadings: np.ndarray  # (n_varying, N_FACTORS)
    uniq: np.ndarray  # (n_varying,) std of each measurement's own noise
    skewed: np.ndarray  # (n_varying,) bool: lognormal measurement
    weights: np.ndarray  # (n_varying, n_targets) sparse linear weights on standardized X
    pairs: np.ndarray  # (n_targets, 2) indices of the interacting measurements
    pair_weight: np.ndarray  # (n_targets,)
    linear_scale: np.ndarray  # (n_targets,) standardizes the linear part
    pair_scale: np.ndarray  # (n_targets,) standardizes the interaction
    r2: np.ndarray  # (n_targets,) share of variance that is signal


@cache
def _structure() -> _Structure:
    rng = task_rng(0, TASK, "structure")
    n_x, n_y = len(_VARYING), len(Y_NAMES)
    group = np.array([int(name[2:]) * N_FACTORS // 57 for name in _VARYING])
    loadings = rng.normal(0.0, 0.15, (n_x, N_FACTORS))
    loadings[np.arange(n_x), group] = rng.uniform(0.5, 0.85, n_x)
    # Keep the common part of each measurement's variance at most 0.9 of it.
    loadings *= np.sqrt(np.minimum(1.0, 0.9 / (loadings**2).sum(axis=1)))[:, None]
    uniq = np.sqrt(1.0 - (loadings**2).sum(axis=1))
    skewed = np.array([name in ("X_08", "X_10", "X_11", "X_49") for name in _VARYING])
    weights = np.zeros((n_x, n_y))
    for j in range(n_y):
        chosen = rng.choice(n_x, size=rng.integers(5, 10), replace=False)
        weights[chosen, j] = rng.normal(0.0, 1.0, chosen.size)
    pairs = np.stack([rng.choice(n_x, size=2, replace=False) for _ in range(n_y)])
    pair_weight = rng.uniform(0.4, 0.7, n_y)
    r2 = rng.uniform(0.55, 0.8, n_y)
    # Standardize both parts of each signal on a fixed calibration sample.
    factors = rng.standard_normal((50_000, N_FACTORS))
    z = factors @ loadings.T + rng.standard_normal((50_000, n_x)) * uniq
    linear_scale = (z @ weights).std(axis=0)
    pair_scale = (z[:, pairs[:, 0]] * z[:, pairs[:, 1]]).std(axis=0)
    return _Structure(
        loadings, uniq, skewed, weights, pairs, pair_weight, linear_scale, pair_scale, r2
    )


def _standard_x(s: _Structure, rng: np.random.Generator, n: int) -> np.ndarray:
    factors = rng.standard_normal((n, N_FACTORS))
    own = rng.standard_normal((n, len(_VARYING)))
    return factors @ s.loadings.T + own * s.uniq


def _signal(s: _Structure, z: np.ndarray) -> np.ndarray:
    """Return each target's signal with unit variance: mostly linear, partly an interaction."""
    linear = (z @ s.weights) / s.linear_scale
    inter = z[:, s.pairs[:, 0]] * z[:, s.pairs[:, 1]] / s.pair_scale
    return linear * np.sqrt(1 - s.pair_weight**2) + inter * s.pair_weight


def _rows(s: _Structure, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (X in the file's units, n x 56) and (Y, n x 14) for ``n`` new rows."""
    z = _standard_x(s, rng, n)
    sig = _signal(s, z)
    noise = rng.standard_normal((n, len(Y_NAMES)))
    y_std = sig * np.sqrt(s.r2) + noise * np.sqrt(1 - s.r2)
    x = np.ones((n, len(X_NAMES)))
    for k, name in enumerate(_VARYING):
        mean, std, _ = X_SPECS[name]  # type: ignore[misc]
        col = X_NAMES.index(name)
        if s.skewed[k]:
            # A lognormal with the spec's mean and std, for the skewed measurements.
            sigma2 = np.log1p((std / mean) ** 2)
            x[:, col] = mean * np.exp(np.sqrt(sigma2) * z[:, k] - sigma2 / 2)
        else:
            x[:, col] = mean + std * z[:, k]
    y = np.empty_like(y_std)
    for j, (mean, std, low) in enumerate(Y_SPECS.values()):
        y[:, j] = mean + std * y_std[:, j]
        if low is not None:
            y[:, j] = np.maximum(y[:, j], low + 0.001)
    return x, y


def _x_columns(x: np.ndarray) -> dict[str, pa.Array]:
    cols = {}
    for j, name in enumerate(X_NAMES):
        spec = X_SPECS[name]
        cols[name] = float_column(x[:, j], spec[2] if spec is not None else 0)
    return cols


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    """Write train, test, sample submission and labels for the antenna task."""
    n_test = check_rows(rows, DEFAULT_TEST_ROWS, minimum=MIN_TEST_ROWS)
    spec = read_task_toml(__file__)
    s = _structure()

    width = max(5, len(str(TRAIN_ROWS)))
    with chunk_writers(out_dir, TRAIN_CSV) as (train,):
        for c, start in enumerate(range(0, TRAIN_ROWS, CHUNK)):
            stop = min(start + CHUNK, TRAIN_ROWS)
            x, y = _rows(s, task_rng(seed, TASK, "train", c), stop - start)
            ids = numbered_ids("TRAIN_", start + 1, stop + 1, width)
            y_cols = {name: float_column(y[:, j], 3) for j, name in enumerate(Y_NAMES)}
            train.write({"ID": ids, **_x_columns(x), **y_cols})

    width = max(5, len(str(n_test)))
    usage = assign_usage(n_test, public_fraction(spec), task_rng(seed, TASK, "usage"))
    with chunk_writers(out_dir, TEST_CSV, LABELS_CSV, SAMPLE_CSV) as (test, labels, sample):
        for c, start in enumerate(range(0, n_test, CHUNK)):
            stop = min(start + CHUNK, n_test)
            x, y = _rows(s, task_rng(seed, TASK, "test", c), stop - start)
            ids = numbered_ids("TEST_", start + 1, stop + 1, width)
            test.write({"ID": ids, **_x_columns(x)})
            y_cols = {name: float_column(y[:, j], 3) for j, name in enumerate(Y_NAMES)}
            labels.write({"ID": ids, **y_cols, "Usage": usage[start:stop]})
            zeros = pa.array(np.zeros(stop - start, dtype=np.int64))
            sample.write({"ID": ids, **{name: zeros for name in Y_NAMES}})
