"""Synthetic data for the online-channel sales task (LG Aimers 3rd round, 2023).

Each row is one product sold online, with its category path (대분류 > 중분류 > 소분류) and brand,
and its daily quantities sold from 2022-01-01 to 2023-04-04 (459 days); the task is the next 21
days, 2023-04-05..2023-04-25. Quantities are non-negative integers drawn from a Poisson process
whose rate combines a product level (most products sell little, a few a lot), a product trend, a
weekly profile per 대분류, a yearly wave, the Lunar New Year and Chuseok holidays, promotion bursts,
launches and discontinuations, and day-to-day over-dispersion. Most cells are 0.

``rows`` is the number of products; train.csv and test.csv both have one row per product (the
train file carries the history, the test file the products to forecast).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from datasets._common import (
    LABELS_CSV,
    SAMPLE_CSV,
    TEST_CSV,
    TRAIN_CSV,
    assign_usage,
    check_rows,
    chunk_writers,
    public_fraction,
    read_task_toml,
    str_column,
    task_rng,
)

TASK = "sales-forecast"
MIN_TEST_ROWS = 10
DEFAULT_TEST_ROWS = 15_890
CHUNK = 8_192  # products simulated per random stream
FIRST_DAY = np.datetime64("2022-01-01")
HISTORY_DAYS = 459  # 2022-01-01 .. 2023-04-04
HORIZON_DAYS = 21  # 2023-04-05 .. 2023-04-25
N_DAYS = HISTORY_DAYS + HORIZON_DAYS
DATES = [str(FIRST_DAY + d) for d in range(N_DAYS)]
HISTORY, HORIZON = DATES[:HISTORY_DAYS], DATES[HISTORY_DAYS:]
CATEGORY_COLUMNS = ("제품", "대분류", "중분류", "소분류", "브랜드")

# 대분류 -> (share of products, number of 중분류); 중분류 get 소분류 in turn (53 in all).
TOP_CATEGORIES = ((0.34, 3), (0.24, 2), (0.19, 2), (0.14, 2), (0.09, 2))
SUB_PER_MID = (6, 5, 4, 5, 5, 4, 5, 4, 5, 5, 5)
HOLIDAYS = (
    ("2022-01-31", "2022-02-02"),  # 설날
    ("2022-09-09", "2022-09-12"),  # 추석
    ("2023-01-21", "2023-01-24"),  # 설날
)


def _category_codes() -> tuple[np.ndarray, np.ndarray]:
    """Return, per 소분류 index, its 중분류 index and that 중분류's 대분류 index."""
    mid_top = np.repeat(np.arange(len(TOP_CATEGORIES)), [n for _, n in TOP_CATEGORIES])
    sub_mid = np.repeat(np.arange(len(SUB_PER_MID)), SUB_PER_MID)
    return sub_mid, mid_top[sub_mid]


def _catalog(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Return the products' codes: brand, product, 대/중/소분류, sorted by product code."""
    sub_mid, sub_top = _category_codes()
    top_share = np.array([share for share, _ in TOP_CATEGORIES])
    sub_weight = top_share[sub_top] / np.bincount(sub_top)[sub_top]
    sub_weight *= rng.lognormal(0.0, 0.6, sub_weight.size)
    sub_weight /= sub_weight.sum()
    sizes = rng.geometric(0.22, size=n)  # products per brand; mean about 4.5
    n_brands = int(np.searchsorted(np.cumsum(sizes), n) + 1)
    sizes = sizes[:n_brands]
    sizes[-1] -= sizes.sum() - n
    brand_sub = rng.choice(sub_weight.size, n_brands, p=sub_weight)
    brand = np.repeat(np.arange(1, n_brands + 1), sizes)
    serial = np.concatenate([np.arange(1, s + 1) for s in sizes])
    sub = brand_sub[brand - 1]
    stray = rng.random(n) < 0.1  # a brand's product listed under another 소분류
    sub[stray] = rng.choice(sub_weight.size, int(stray.sum()), p=sub_weight)
    mid, top = sub_mid[sub], sub_top[sub]
    return {
        "제품": np.char.add(np.char.add("B002-", np.char.zfill(brand.astype(str), 5)),
                          np.char.add("-", np.char.zfill(serial.astype(str), 5))),
        "대분류": np.char.add("B002-C001-", np.char.zfill((top + 1).astype(str), 4)),
        "중분류": np.char.add("B002-C002-", np.char.zfill((mid + 1).astype(str), 4)),
        "소분류": np.char.add("B002-C003-", np.char.zfill((sub + 1).astype(str), 4)),
        "브랜드": np.char.add("B002-", np.char.zfill(brand.astype(str), 5)),
        "top": top,
    }  # fmt: skip


def _calendar() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return weekday (Mon = 0), holiday multiplier and the yearly phase of every day."""
    days = FIRST_DAY + np.arange(N_DAYS)
    weekday = ((days - np.datetime64("2022-01-03")).astype(int)) % 7  # 2022-01-03 was a Monday
    holiday = np.ones(N_DAYS)
    for first, last in HOLIDAYS:
        holiday[(days >= np.datetime64(first)) & (days <= np.datetime64(last))] = 0.45
    phase = 2 * np.pi * np.arange(N_DAYS) / 365.25
    return weekday, holiday, phase


def _category_effects() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the fixed weekly profile (top x 7), yearly amplitude and phase per 대분류."""
    rng = task_rng(0, TASK, "structure")
    n_top = len(TOP_CATEGORIES)
    weekly = np.exp(rng.normal(0.0, 0.12, (n_top, 7)))
    weekly[:, 5:] *= rng.uniform(0.55, 1.35, (n_top, 1))  # weekend lower or higher per category
    weekly /= weekly.mean(axis=1, keepdims=True)
    return weekly, rng.uniform(0.05, 0.3, n_top), rng.uniform(0, 2 * np.pi, n_top)


def _quantities(rng: np.random.Generator, top: np.ndarray) -> np.ndarray:
    """Return daily quantities (products x N_DAYS) for products in 대분류 ``top``."""
    n = top.size
    weekday, holiday, phase = _calendar()
    weekly, amplitude, shift = _category_effects()
    t = np.arange(N_DAYS)
    log_rate = rng.normal(-1.4, 1.9, n)[:, None] + np.zeros(N_DAYS)
    slope = rng.normal(0.0, 0.9, n)  # log change over the whole period
    log_rate += slope[:, None] * (t - HISTORY_DAYS) / N_DAYS
    log_rate += amplitude[top][:, None] * np.sin(phase + shift[top][:, None])
    rate = np.exp(log_rate) * weekly[top][:, weekday] * holiday
    # Promotions: a few bursts per product, 3-10 days each.
    n_promo = rng.poisson(1.5, n)
    owner = np.repeat(np.arange(n), n_promo)
    start = rng.integers(0, N_DAYS, owner.size)
    stop = np.minimum(start + rng.integers(3, 11, owner.size), N_DAYS)
    lift = rng.uniform(0.5, 1.6, owner.size)
    boost = np.zeros((n, N_DAYS + 1))
    np.add.at(boost, (owner, start), lift)
    np.add.at(boost, (owner, stop), -lift)
    rate *= np.exp(np.cumsum(boost[:, :N_DAYS], axis=1))
    # Launches and discontinuations.
    launch = np.where(rng.random(n) < 0.25, rng.integers(0, N_DAYS - 10, n), 0)
    end = np.where(rng.random(n) < 0.12, rng.integers(60, N_DAYS, n), N_DAYS)
    rate[(t < launch[:, None]) | (t >= end[:, None])] = 0.0
    rate *= rng.gamma(3.0, 1 / 3.0, rate.shape)  # over-dispersion
    return rng.poisson(rate)


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    """Write train, test, sample submission and labels for the sales-forecast task."""
    n = check_rows(rows, DEFAULT_TEST_ROWS, minimum=MIN_TEST_ROWS)
    spec = read_task_toml(__file__)
    catalog = _catalog(task_rng(seed, TASK, "catalog"), n)
    usage = assign_usage(n, public_fraction(spec), task_rng(seed, TASK, "usage"))
    names = (TRAIN_CSV, TEST_CSV, LABELS_CSV, SAMPLE_CSV)
    with chunk_writers(out_dir, *names) as (train, test, labels, sample):
        for c, start in enumerate(range(0, n, CHUNK)):
            stop = min(start + CHUNK, n)
            sold = _quantities(task_rng(seed, TASK, "sales", c), catalog["top"][start:stop])
            ids = pa.array(np.arange(start, stop))
            info = {name: str_column(catalog[name][start:stop]) for name in CATEGORY_COLUMNS}
            history = {d: pa.array(sold[:, j]) for j, d in enumerate(HISTORY)}
            future = {d: pa.array(sold[:, HISTORY_DAYS + j]) for j, d in enumerate(HORIZON)}
            train.write({"ID": ids, **info, **history})
            test.write({"ID": ids, **info})
            labels.write({"ID": ids, "대분류": info["대분류"], **future, "Usage": usage[start:stop]})
            zeros = pa.array(np.zeros(stop - start, dtype=np.int64))
            sample.write({"ID": ids, **{d: zeros for d in HORIZON}})


def baseline(data_dir: Path) -> pd.DataFrame:
    """Forecast each product's last-28-day mean, shaped by its 대분류's recent weekly profile."""
    train = pd.read_csv(data_dir / TRAIN_CSV)
    test = pd.read_csv(data_dir / TEST_CSV)
    history = [c for c in train.columns if c not in ("ID", *CATEGORY_COLUMNS)]
    sold = train[history].to_numpy(dtype=float)
    level = sold[:, -28:].mean(axis=1)
    days = np.array(history, dtype="datetime64[D]")
    weekday = ((days - np.datetime64("2022-01-03")).astype(int)) % 7
    recent = slice(-56, None)  # eight weeks
    top = train["대분류"].to_numpy()
    horizon = np.array(HORIZON, dtype="datetime64[D]")
    horizon_weekday = ((horizon - np.datetime64("2022-01-03")).astype(int)) % 7
    forecast = np.zeros((len(train), len(horizon)))
    for category in np.unique(top):
        rows = top == category
        daily = sold[rows][:, recent].sum(axis=0)
        profile = np.array([daily[weekday[recent] == d].mean() for d in range(7)])
        profile = profile / profile.mean() if profile.mean() > 0 else np.ones(7)
        forecast[rows] = level[rows, None] * profile[horizon_weekday]
    by_id = pd.DataFrame(np.round(forecast, 3), columns=HORIZON, index=train["ID"])
    return by_id.loc[test["ID"]].reset_index().rename(columns={"index": "ID"})
