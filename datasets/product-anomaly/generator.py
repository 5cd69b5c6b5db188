"""Synthetic data for the product-anomaly task (LG Aimers 5th round, 2024).

Each row is one product set passing four stations of a display-module line: Dam dispensing, the
AutoClave, and the Fill1 and Fill2 resin dispensers. Columns are named as in the real file
(``<measurement> Collect Result_<station>``). A hidden risk combines out-of-spec resin volumes,
head coordinates and cure settings, low autoclave temperature or short pressure time, a worse
dispenser, the work order's batch effect and noise; the riskiest
``round(n · AB_RATIO / (1 + AB_RATIO))`` rows of each file are ``AbNormal``, so that
AbNormal:Normal is about 0.06:1 in train and in test alike.

``Set ID`` values are fixed by position (a hash of the row number), not by ``seed``, so the
committed sample submission fits the default-size test set of every seed.
"""

from __future__ import annotations

import hashlib
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
    float_column,
    int_column,
    public_fraction,
    read_task_toml,
    str_column,
    task_rng,
    write_csv,
)

TASK = "product-anomaly"
DEFAULT_TEST_ROWS = 17_361
TRAIN_ROWS = 40_506
MIN_TEST_ROWS = 50  # at least 3 AbNormal rows, so that both splits have one
AB_RATIO = 0.0615  # AbNormal : Normal
N_WORKORDERS = 640
MODELS = ("AJX75334505", "AJX75334501", "AJX75334502", "AJX75334503", "AJX75334506",
          "AJX75334507", "AJX75334508")  # fmt: skip
MODEL_SHARE = (0.55, 0.2, 0.08, 0.07, 0.05, 0.03, 0.02)

# Measured values: name -> (mean, std, decimals). Columns listed in the real file's order.
DAM = {
    "CURE END POSITION X Collect Result_Dam": (1000.0, 120.0, 0),
    "CURE END POSITION Z Collect Result_Dam": (12.0, 2.0, 1),
    "CURE END POSITION Θ Collect Result_Dam": (-45.0, 45.0, 0),
    "CURE SPEED Collect Result_Dam": (75.0, 5.0, 0),
    "CURE START POSITION X Collect Result_Dam": (1030.0, 120.0, 0),
    "CURE START POSITION Θ Collect Result_Dam": (-45.0, 45.0, 0),
    "DISCHARGED SPEED OF RESIN Collect Result_Dam": (10.0, 0.6, 0),
    "DISCHARGED TIME OF RESIN(Stage1) Collect Result_Dam": (16.0, 2.5, 1),
    "DISCHARGED TIME OF RESIN(Stage2) Collect Result_Dam": (16.0, 2.5, 1),
    "DISCHARGED TIME OF RESIN(Stage3) Collect Result_Dam": (16.0, 2.5, 1),
    "Dispense Volume(Stage1) Collect Result_Dam": (0.85, 0.2, 2),
    "Dispense Volume(Stage2) Collect Result_Dam": (0.85, 0.2, 2),
    "Dispense Volume(Stage3) Collect Result_Dam": (0.85, 0.2, 2),
    "HEAD NORMAL COORDINATE X AXIS(Stage1) Collect Result_Dam": (384.0, 60.0, 1),
    "HEAD NORMAL COORDINATE Y AXIS(Stage1) Collect Result_Dam": (1220.0, 220.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage1) Collect Result_Dam": (301.0, 35.0, 1),
    "HEAD NORMAL COORDINATE X AXIS(Stage2) Collect Result_Dam": (835.5, 0.5, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage2) Collect Result_Dam": (301.0, 35.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage3) Collect Result_Dam": (301.0, 35.0, 1),
    "Production Qty Collect Result_Dam": (120.0, 28.0, 0),
    "Stage1 Circle1 Distance Speed Collect Result_Dam": (4000.0, 600.0, 0),
    "Stage1 Line1 Distance Speed Collect Result_Dam": (7000.0, 1300.0, 0),
    "Stage2 Circle1 Distance Speed Collect Result_Dam": (4000.0, 600.0, 0),
    "Stage3 Line4 Distance Speed Collect Result_Dam": (7000.0, 1300.0, 0),
    "THICKNESS 1 Collect Result_Dam": (0.55, 0.08, 3),
    "THICKNESS 2 Collect Result_Dam": (0.55, 0.08, 3),
    "THICKNESS 3 Collect Result_Dam": (0.55, 0.08, 3),
}
AUTOCLAVE = {
    "1st Pressure Collect Result_AutoClave": (0.2, 0.05, 3),
    "1st Pressure 1st Pressure Unit Time_AutoClave": (240.0, 2.0, 0),
    "2nd Pressure Collect Result_AutoClave": (0.65, 0.1, 3),
    "2nd Pressure Unit Time_AutoClave": (240.0, 2.0, 0),
    "3rd Pressure Collect Result_AutoClave": (0.2, 0.05, 3),
    "3rd Pressure Unit Time_AutoClave": (240.0, 8.0, 0),
    "Chamber Temp. Collect Result_AutoClave": (54.0, 7.0, 0),
    "Chamber Temp. Unit Time_AutoClave": (240.0, 2.0, 0),
}
FILL1 = {
    "DISCHARGED SPEED OF RESIN Collect Result_Fill1": (10.0, 0.6, 0),
    "DISCHARGED TIME OF RESIN(Stage1) Collect Result_Fill1": (23.0, 4.0, 1),
    "DISCHARGED TIME OF RESIN(Stage2) Collect Result_Fill1": (23.0, 4.0, 1),
    "DISCHARGED TIME OF RESIN(Stage3) Collect Result_Fill1": (23.0, 4.0, 1),
    "Dispense Volume(Stage1) Collect Result_Fill1": (1.2, 0.25, 2),
    "Dispense Volume(Stage2) Collect Result_Fill1": (1.2, 0.25, 2),
    "Dispense Volume(Stage3) Collect Result_Fill1": (1.2, 0.25, 2),
    "HEAD NORMAL COORDINATE X AXIS(Stage1) Collect Result_Fill1": (458.0, 20.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage1) Collect Result_Fill1": (157.0, 35.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage3) Collect Result_Fill1": (157.0, 35.0, 1),
    "Production Qty Collect Result_Fill1": (120.0, 28.0, 0),
}
FILL2 = {
    "CURE END POSITION X Collect Result_Fill2": (240.0, 10.0, 0),
    "CURE END POSITION Z Collect Result_Fill2": (33.0, 2.5, 1),
    "CURE SPEED Collect Result_Fill2": (95.0, 5.0, 0),
    "CURE STANDBY POSITION Z Collect Result_Fill2": (33.0, 0.5, 1),
    "CURE START POSITION X Collect Result_Fill2": (1020.0, 10.0, 0),
    "CURE START POSITION Z Collect Result_Fill2": (32.0, 2.0, 1),
    "HEAD NORMAL COORDINATE Y AXIS(Stage1) Collect Result_Fill2": (590.0, 160.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage1) Collect Result_Fill2": (50.0, 5.0, 1),
    "HEAD NORMAL COORDINATE Z AXIS(Stage3) Collect Result_Fill2": (50.0, 5.0, 1),
    "Production Qty Collect Result_Fill2": (120.0, 28.0, 0),
}
MEASURES = {**DAM, **AUTOCLAVE, **FILL1, **FILL2}
# Quantities that cannot be negative (times, volumes, speeds, counts, pressures, temperatures).
_NON_NEGATIVE = ("TIME", "Volume", "SPEED", "Speed", "Qty", "Pressure", "THICKNESS", "Temp")


def _measure(name: str, z: np.ndarray) -> pa.Array:
    mean, std, decimals = MEASURES[name]
    values = mean + std * z
    if any(word in name for word in _NON_NEGATIVE):
        values = np.maximum(values, 0.0)
    return float_column(values, decimals)


def set_ids(part: str, start: int, stop: int) -> np.ndarray:
    """Return 32-hex-digit set ids for rows ``start..stop-1`` of a file, fixed by position."""
    return np.array([
        hashlib.md5(f"{TASK}/{part}/{i}".encode(), usedforsecurity=False).hexdigest()
        for i in range(start, stop)
    ])  # fmt: skip


def _rows(rng: np.random.Generator, n: int, orders: np.ndarray) -> tuple[dict, np.ndarray]:
    """Return the columns (without ``Set ID``) and the anomaly risk of ``n`` new sets."""
    order = rng.integers(0, len(orders), n)
    model = rng.choice(len(MODELS), n, p=np.array(MODEL_SHARE) / sum(MODEL_SHARE))
    # A work order's recipe and batch: sets of one order share offsets and a batch effect.
    order_rng = task_rng(0, TASK, "orders")
    order_shift = order_rng.normal(0.0, 0.6, (len(orders), len(MEASURES)))
    order_effect = order_rng.normal(0.0, 0.7, len(orders))
    z = rng.standard_normal((n, len(MEASURES))) + order_shift[order]
    names = list(MEASURES)
    col = {name: k for k, name in enumerate(names)}

    def out_of_spec(name: str, limit: float) -> np.ndarray:
        return np.maximum(np.abs(z[:, col[name]]) - limit, 0.0)

    dam_unit = rng.integers(1, 3, n)
    fill1_unit = rng.integers(1, 3, n)
    fill2_unit = rng.integers(1, 3, n)
    risk = (
        1.6 * out_of_spec("Dispense Volume(Stage1) Collect Result_Dam", 1.3)
        + 1.2 * out_of_spec("Dispense Volume(Stage2) Collect Result_Fill1", 1.4)
        + 1.0 * out_of_spec("HEAD NORMAL COORDINATE Z AXIS(Stage1) Collect Result_Dam", 1.5)
        + 0.9 * out_of_spec("CURE END POSITION Z Collect Result_Fill2", 1.5)
        + 0.7 * np.maximum(-z[:, col["Chamber Temp. Collect Result_AutoClave"]] - 1.0, 0.0)
        + 0.6 * np.maximum(-z[:, col["3rd Pressure Unit Time_AutoClave"]] - 1.2, 0.0)
        + 0.5 * z[:, col["THICKNESS 1 Collect Result_Dam"]] ** 2 / 4
        + 0.35 * (dam_unit == 2)
        + 0.25 * (fill1_unit == 2)
        + 0.15 * (model >= 3)
        + order_effect[order]
        + rng.logistic(0.0, 0.7, n)
    )
    columns: dict[str, pa.Array] = {
        "Model.Suffix_Dam": str_column(np.array(MODELS)[model]),
        "Workorder_Dam": str_column(orders[order]),
        "Insp. Seq No._Dam": int_column(np.ones(n, dtype=np.int64)),
        "Insp Judge Code_Dam": str_column(np.full(n, "OK")),
        "Equipment_Dam": str_column(np.char.add("Dam dispenser #", dam_unit.astype(str))),
    }
    receipt = (model % 3) + 1
    for name in DAM:
        columns[name] = _measure(name, z[:, col[name]])
        if name.startswith("HEAD NORMAL COORDINATE X AXIS(Stage2)"):
            columns["PalletID Collect Result_Dam"] = int_column(rng.integers(1, 16, n))
    columns["Receip No Collect Result_Dam"] = int_column(receipt)
    columns["WorkMode Collect Result_Dam"] = int_column(np.zeros(n, dtype=np.int64))
    columns["Equipment_AutoClave"] = str_column(np.full(n, "Auto Clave Out"))
    for name in AUTOCLAVE:
        columns[name] = _measure(name, z[:, col[name]])
    temp_ok = z[:, col["Chamber Temp. Collect Result_AutoClave"]] > -2.2
    columns["Chamber Temp. Judge Value_AutoClave"] = str_column(np.where(temp_ok, "OK", "NG"))
    columns["GMES_ORIGIN_INSP_JUDGE_CODE Collect Result_AutoClave"] = str_column(np.full(n, "OK"))
    columns["Equipment_Fill1"] = str_column(np.char.add("Fill1 dispenser #", fill1_unit.astype(str)))
    for name in FILL1:
        columns[name] = _measure(name, z[:, col[name]])
    columns["Receip No Collect Result_Fill1"] = int_column(receipt)
    columns["Equipment_Fill2"] = str_column(np.char.add("Fill2 dispenser #", fill2_unit.astype(str)))
    for name in FILL2:
        columns[name] = _measure(name, z[:, col[name]])
    columns["Receip No Collect Result_Fill2"] = int_column(receipt)
    return columns, risk


def _label(risk: np.ndarray) -> np.ndarray:
    """Return AbNormal for the riskiest ``round(n · AB_RATIO / (1 + AB_RATIO))`` rows."""
    n_abnormal = int(round(risk.size * AB_RATIO / (1 + AB_RATIO)))
    abnormal = np.zeros(risk.size, dtype=bool)
    abnormal[np.argsort(-risk, kind="stable")[:n_abnormal]] = True
    return np.where(abnormal, "AbNormal", "Normal")


def _workorders() -> np.ndarray:
    rng = task_rng(0, TASK, "workorders")
    prefix = rng.choice(["3F1X", "3G1X", "3H1X", "3J1X", "3K1X", "4A1X", "4B1X", "4C1X"], N_WORKORDERS)
    serial = rng.integers(1000, 9999, N_WORKORDERS).astype(str)
    suffix = rng.integers(1, 4, N_WORKORDERS).astype(str)
    letters = np.array(list("ABCDEFGH"))[rng.integers(0, 8, N_WORKORDERS)]
    return np.char.add(np.char.add(np.char.add(prefix, letters), serial), np.char.add("-", suffix))


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    """Write train, test, sample submission and labels for the product-anomaly task."""
    n_test = check_rows(rows, DEFAULT_TEST_ROWS, minimum=MIN_TEST_ROWS)
    spec = read_task_toml(__file__)
    orders = _workorders()

    columns, risk = _rows(task_rng(seed, TASK, "train"), TRAIN_ROWS, orders)
    train = {"Set ID": pa.array(set_ids("train", 0, TRAIN_ROWS)), **columns}
    write_csv(out_dir / TRAIN_CSV, {**train, "target": str_column(_label(risk))})

    columns, risk = _rows(task_rng(seed, TASK, "test"), n_test, orders)
    ids = pa.array(set_ids("test", 0, n_test))
    write_csv(out_dir / TEST_CSV, {"Set ID": ids, **columns})
    target = _label(risk)
    rng = task_rng(seed, TASK, "usage")
    usage = assign_usage(n_test, public_fraction(spec), rng, strata=target)
    write_csv(out_dir / LABELS_CSV, {"Set ID": ids, "target": str_column(target),
                                     "Usage": usage})  # fmt: skip
    write_csv(out_dir / SAMPLE_CSV, {"Set ID": ids, "target": str_column(np.full(n_test, "Normal"))})
