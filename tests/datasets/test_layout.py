"""Generated files: columns, sizes and ids as in the real competitions and as task.toml says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import datasets
from tests.datasets.conftest import SMALL_ROWS, TASKS

TRAIN_ROWS = {
    "antenna": 39_607,
    "lead-conversion": 59_299,
    "product-anomaly": 40_506,
    "product-quality": 598,
    "sales-forecast": 15_890,
}


def _spec(name: str) -> dict:
    with (datasets.task_dir(name) / "task.toml").open("rb") as fh:
        return tomllib.load(fh)


def _targets(spec: dict) -> list[str]:
    out: list[str] = []
    for target in spec["targets"]:
        out.extend(target.get("names", [target.get("name")]))
    return out


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split(",")


@pytest.mark.parametrize("name", TASKS)
def test_committed_sample_submission_is_the_generated_one_at_default_size(
    name: str, default_data: dict[str, Path]
) -> None:
    committed = datasets.task_dir(name) / "sample_submission.csv"
    assert committed.read_bytes() == (default_data[name] / "sample_submission.csv").read_bytes()


@pytest.mark.parametrize("name", TASKS)
def test_submission_columns_are_the_id_and_the_targets(name: str, small_data: dict[str, Path]) -> None:
    spec = _spec(name)
    expected = [spec["task"]["id_column"], *_targets(spec)]
    assert _header(datasets.task_dir(name) / "sample_submission.csv") == expected
    assert _header(small_data[name] / "sample_submission.csv") == expected


@pytest.mark.parametrize("name", TASKS)
def test_default_sizes_and_hidden_columns(name: str, default_data: dict[str, Path]) -> None:
    spec = _spec(name)
    id_column, targets = spec["task"]["id_column"], _targets(spec)
    folder = default_data[name]
    train, test = _read(folder / "train.csv"), _read(folder / "test.csv")
    labels, sample = _read(folder / "labels.csv"), _read(folder / "sample_submission.csv")
    n = datasets.default_rows(name)
    assert len(train) == TRAIN_ROWS[name]
    assert len(test) == len(labels) == len(sample) == n
    assert test.columns[0] == id_column
    assert not set(targets) & set(test.columns)  # test.csv never carries the answers
    group = spec["metric"].get("group_column")
    assert list(labels.columns) == [id_column, *([group] if group else []), *targets, "Usage"]
    assert list(labels[id_column]) == list(test[id_column]) == list(sample[id_column])
    assert labels[id_column].is_unique
    assert (labels[targets] != "").all().all()
    public = (labels["Usage"] == "Public").sum()
    assert public == round(n * spec["defaults"]["public_fraction"])
    assert set(labels["Usage"]) == {"Public", "Private"}


@pytest.mark.parametrize("name", TASKS)
def test_small_sizes(name: str, small_data: dict[str, Path]) -> None:
    folder = small_data[name]
    rows = SMALL_ROWS[name]
    for file_name in ("test.csv", "labels.csv", "sample_submission.csv"):
        assert len(_read(folder / file_name)) == rows, file_name
    expected_train = rows if name == "sales-forecast" else TRAIN_ROWS[name]
    assert len(_read(folder / "train.csv")) == expected_train


def test_antenna_layout(default_data: dict[str, Path]) -> None:
    x = [f"X_{i:02d}" for i in range(1, 57)]
    y = [f"Y_{i:02d}" for i in range(1, 15)]
    assert _header(default_data["antenna"] / "train.csv") == ["ID", *x, *y]
    assert _header(default_data["antenna"] / "test.csv") == ["ID", *x]
    train = pd.read_csv(default_data["antenna"] / "train.csv")
    test = pd.read_csv(default_data["antenna"] / "test.csv")
    assert train["ID"].iloc[[0, -1]].tolist() == ["TRAIN_00001", "TRAIN_39607"]
    assert test["ID"].iloc[[0, -1]].tolist() == ["TEST_00001", "TEST_39608"]
    assert not train.isna().any().any()
    for flag in ("X_04", "X_23", "X_47", "X_48"):  # inspection pass flags: constant 1
        assert (train[flag] == 1).all()
    assert (train[["Y_01", "Y_02", "Y_03"]] > 0).all().all()


def test_product_quality_layout(default_data: dict[str, Path]) -> None:
    folder = default_data["product-quality"]
    x = [f"X_{i}" for i in range(1, 2876)]
    head = ["PRODUCT_ID", "Y_Class", "Y_Quality", "TIMESTAMP", "LINE", "PRODUCT_CODE"]
    assert _header(folder / "train.csv") == [*head, *x]
    assert _header(folder / "test.csv") == ["PRODUCT_ID", "TIMESTAMP", "LINE", "PRODUCT_CODE", *x]
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    assert train["PRODUCT_ID"].iloc[[0, -1]].tolist() == ["TRAIN_000", "TRAIN_597"]
    assert test["PRODUCT_ID"].iloc[[0, -1]].tolist() == ["TEST_000", "TEST_309"]
    assert set(train["Y_Class"]) == {0, 1, 2}
    assert set(train["PRODUCT_CODE"]) == {"A_31", "T_31", "O_31"}
    assert train["LINE"].nunique() == 6
    empty = train[x].isna()
    assert empty.all().mean() > 0.1  # columns nobody measured
    assert empty.mean().mean() > 0.5  # most cells are empty, as in the real data
    # Y_Class is Y_Quality cut at two thresholds.
    by_class = train.groupby("Y_Class")["Y_Quality"]
    assert by_class.max()[0] < by_class.min()[1] and by_class.max()[1] < by_class.min()[2]


def test_sales_forecast_layout(default_data: dict[str, Path]) -> None:
    folder = default_data["sales-forecast"]
    days = pd.date_range("2022-01-01", "2023-04-04").strftime("%Y-%m-%d").tolist()
    horizon = pd.date_range("2023-04-05", "2023-04-25").strftime("%Y-%m-%d").tolist()
    assert len(days) == 459 and len(horizon) == 21
    info = ["ID", "제품", "대분류", "중분류", "소분류", "브랜드"]
    assert _header(folder / "train.csv") == [*info, *days]
    assert _header(folder / "test.csv") == info
    assert _header(folder / "sample_submission.csv") == ["ID", *horizon]
    train = pd.read_csv(folder / "train.csv")
    assert train["ID"].tolist() == list(range(15_890))
    assert train["대분류"].nunique() == 5
    assert train["중분류"].nunique() == 11
    assert train["소분류"].nunique() == 53
    assert train["제품"].str.fullmatch(r"B002-\d{5}-\d{5}").all()
    sold = train[days].to_numpy()
    assert sold.dtype.kind == "i" and sold.min() >= 0
    assert (sold == 0).mean() > 0.5  # most products sell nothing on most days
    weekday = pd.to_datetime(pd.Series(days)).dt.day_of_week.to_numpy()
    totals = np.array([sold[:, weekday == d].sum(axis=0).mean() for d in range(7)])
    assert totals.max() / totals.min() > 1.1  # weekly seasonality
    labels = pd.read_csv(folder / "labels.csv")
    assert (labels[horizon].to_numpy() >= 0).all()
    assert labels["대분류"].tolist() == train["대분류"].tolist()


def test_lead_conversion_layout(default_data: dict[str, Path]) -> None:
    folder = default_data["lead-conversion"]
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    features = list(train.columns[:-1])
    assert len(features) == 28 and train.columns[-1] == "is_converted"
    assert list(test.columns) == ["id", *features]
    for column in ("business_unit", "customer_type", "response_corporate", "lead_owner"):
        assert column in features
    assert train["is_converted"].dtype == bool  # written as True/False
    assert 0.07 < train["is_converted"].mean() < 0.095
    labels = _read(folder / "labels.csv")
    assert set(labels["is_converted"]) == {"True", "False"}
    assert train.isna().mean().max() > 0.5  # a CRM export: some fields mostly empty


def test_product_anomaly_layout_and_rate(default_data: dict[str, Path]) -> None:
    folder = default_data["product-anomaly"]
    train = _read(folder / "train.csv")
    test = _read(folder / "test.csv")
    labels = _read(folder / "labels.csv")
    assert train.columns[0] == "Set ID" and train.columns[-1] == "target"
    assert list(test.columns) == list(train.columns[:-1])
    assert all(c.endswith(("_Dam", "_AutoClave", "_Fill1", "_Fill2")) for c in test.columns[1:])
    assert test["Set ID"].str.fullmatch(r"[0-9a-f]{32}").all()
    for frame in (train, labels):
        counts = frame["target"].value_counts()
        assert set(counts.index) == {"Normal", "AbNormal"}
        assert counts["AbNormal"] / counts["Normal"] == pytest.approx(0.06, abs=0.004)
    public = labels[labels["Usage"] == "Public"]["target"]
    assert (public == "AbNormal").mean() == pytest.approx((labels["target"] == "AbNormal").mean(), abs=0.002)
