"""Hidden labels: reading, the organizer's mistakes, and the metric's check on each split."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from scoring import LabelsError, read_labels

from .conftest import (
    ANOMALY_LABELS,
    ANOMALY_TOML,
    LEAD_LABELS,
    LEAD_TOML,
    PROBABILITY_LABELS,
    PROBABILITY_TOML,
    QUALITY_TOML,
    REGRESSION_LABELS,
    REGRESSION_TOML,
    SALES_LABELS,
    SALES_TOML,
    Case,
    make_case,
)


def test_labels_fields(regression: Case) -> None:
    labels = regression.labels
    assert labels.rows == 6 and labels.split == "usage"
    assert labels.ids.to_pylist() == [f"TEST_00{i}" for i in range(1, 7)]
    assert labels.public_mask.dtype == np.bool_ and labels.public_mask.tolist() == [True, False] * 3
    assert labels.sha256 == hashlib.sha256(regression.labels_path.read_bytes()).hexdigest()
    assert labels.public.index.tolist() == [0, 2, 4] and labels.private.index.tolist() == [1, 3, 5]
    assert labels.public.y_true.shape == (3, 3) and labels.public.y_true.flags.f_contiguous
    assert labels.public.y_true[:, 0].tolist() == [1.0, 3.0, 5.0]
    assert labels.columns == ("ID", "Y_01", "Y_02", "Y_03")


def test_class_boolean_and_group_labels(quality: Case, lead: Case, sales: Case, anomaly: Case) -> None:
    assert quality.labels.public.y_true.tolist() == [0, 1, 2]
    assert lead.labels.public.y_true.tolist() == [1, 0] and lead.labels.ids.to_pylist() == ["0", "1", "2", "3"]
    assert anomaly.labels.private.y_true.tolist() == [1, 0, 0]
    # groups are codes of the sorted group names: A = 0, B = 1
    assert sales.labels.public.groups.tolist() == [0, 0, 1] and sales.labels.private.groups.tolist() == [0, 1]


def test_extra_columns_are_ignored_and_gzip_is_read(tmp_path: Path) -> None:
    text = REGRESSION_LABELS.replace(",Usage\n", ",Usage,note\n", 1).replace("Public\n", "Public,x\n").replace(
        "Private\n", "Private,y\n")
    case = make_case(tmp_path, "extra", REGRESSION_TOML, text)
    assert case.labels.rows == 6
    packed = tmp_path / "labels.csv.gz"
    packed.write_bytes(gzip.compress(REGRESSION_LABELS.encode()))
    again = read_labels(packed, case.task)
    assert again.rows == 6 and again.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()


BAD_LABELS = [
    (REGRESSION_TOML, "ID,Y_01,Y_02,Usage\nA,1,2,Public\n", "missing column Y_03; found ID, Y_01, Y_02, Usage"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03,Y_03\nA,1,2,3,3\n", "column Y_03 appear more than once"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03\nA,1,2,3\nB,1,2,3\nA,1,2,3\n",
     r"line 4, column ID: duplicate id 'A' \(first on line 2\)"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03\nA,1,2,nan\nB,1,2,3\n", "line 2, column Y_03: 'nan' is not a finite number"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03\nA,1,2,\nB,1,2,3\n", r"line 2, column Y_03: empty value \(expected a number\)"),
    (REGRESSION_TOML, "", "the file is empty"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03\n", "the file has a header but no data rows"),
    (QUALITY_TOML, "PRODUCT_ID,Y_Class\nA,0\nB,3\n",
     r"line 3, column Y_Class: '3' is not an allowed class \(expected one of 0, 1, 2\)"),
    (SALES_TOML, "ID,2023-04-05,2023-04-06\nA,1,2\n", "missing column 대분류"),
    (PROBABILITY_TOML, "ID,probability,Usage\nA,0.5,Public\nB,1,Private\nC,0,Private\nD,1,Public\n",
     "metric log_loss needs true values 0 or 1 in probability; found others"),
    (ANOMALY_TOML, "Set ID,target,Usage\nA,Normal,Public\nB,Normal,Public\nC,AbNormal,Private\n",
     r"the public split \(2 rows\) cannot be scored: f1_binary is undefined: no row is positive"),
    (REGRESSION_TOML, "ID,Y_01,Y_02,Y_03,Usage\nA,0,2,3,Public\nB,1,2,3,Private\n",
     r"the public split \(1 rows\) cannot be scored: lg_nrmse is undefined: a target has mean\(\|y_true\|\) = 0"),
    (LEAD_TOML, "id,is_converted,Usage\n1,yes,Public\n", r"line 2, column is_converted: 'yes' is not True or False"),
]


@pytest.mark.parametrize(("toml", "text", "pattern"), BAD_LABELS)
def test_bad_labels_name_the_file_and_the_problem(tmp_path: Path, toml: str, text: str, pattern: str) -> None:
    good = {REGRESSION_TOML: REGRESSION_LABELS, QUALITY_TOML: "PRODUCT_ID,Y_Class\nA,0\nB,1\nC,2\nD,1\n",
            SALES_TOML: SALES_LABELS, PROBABILITY_TOML: PROBABILITY_LABELS,
            ANOMALY_TOML: ANOMALY_LABELS, LEAD_TOML: LEAD_LABELS}[toml]
    case = make_case(tmp_path, "case", toml, good)
    bad = case.folder / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(LabelsError, match=f"^{bad}: {pattern}"):
        read_labels(bad, case.task)


def test_roc_auc_on_a_one_class_split_fails_at_load(tmp_path: Path) -> None:
    toml = PROBABILITY_TOML.replace('"log_loss"', '"roc_auc_score"')
    with pytest.raises(LabelsError, match=r"the private split \(2 rows\) cannot be scored: roc_auc_score is undefined: "
                                          r"y_true must contain both 0 and 1"):
        make_case(tmp_path, "auc", toml, "ID,probability,Usage\nA,1,Public\nB,0,Public\nC,0,Private\nD,0,Private\n")
