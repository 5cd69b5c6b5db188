"""Small task fixtures written into tmp_path; nothing here reads datasets/ or needs a server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from scoring import Labels, Task, load_task, read_labels

REGRESSION_TOML = """
[task]
slug = "tiny-regression"
title_ko = "작은 회귀"
title_en = "Tiny regression"
id_column = "ID"

[metric]
name = "lg_nrmse"

[[targets]]
names = ["Y_01", "Y_02", "Y_03"]
kind = "number"
"""

QUALITY_TOML = """
[task]
slug = "tiny-quality"
title_ko = "품질"
title_en = "Quality"
id_column = "PRODUCT_ID"

[metric]
name = "f1_macro"

[[targets]]
name = "Y_Class"
kind = "class"
classes = [0, 1, 2]
"""

ANOMALY_TOML = """
[task]
slug = "tiny-anomaly"
title_ko = "이상"
title_en = "Anomaly"
id_column = "Set ID"

[metric]
name = "f1_binary"
pos_label = "AbNormal"

[[targets]]
name = "target"
kind = "class"
classes = ["Normal", "AbNormal"]
"""

LEAD_TOML = """
[task]
slug = "tiny-lead"
title_ko = "리드"
title_en = "Lead"
id_column = "id"

[metric]
name = "f1_binary"
pos_label = true

[[targets]]
name = "is_converted"
kind = "boolean"
"""

PROBABILITY_TOML = """
[task]
slug = "tiny-probability"
title_ko = "확률"
title_en = "Probability"
id_column = "ID"

[metric]
name = "log_loss"

[[targets]]
name = "probability"
kind = "probability"
"""

SALES_TOML = """
[task]
slug = "tiny-sales"
title_ko = "판매"
title_en = "Sales"
id_column = "ID"

[metric]
name = "psfa_score"
group_column = "대분류"

[[targets]]
names = ["2023-04-05", "2023-04-06"]
kind = "number"
"""

# Six rows, three of them public (Usage), every column's mean |y| > 0 in both splits.
REGRESSION_LABELS = """ID,Y_01,Y_02,Y_03,Usage
TEST_001,1.0,2.0,3.0,Public
TEST_002,2.0,3.0,4.0,Private
TEST_003,3.0,4.0,5.0,Public
TEST_004,4.0,5.0,6.0,Private
TEST_005,5.0,6.0,7.0,Public
TEST_006,6.0,7.0,8.0,Private
"""

QUALITY_LABELS = """PRODUCT_ID,Y_Class,Usage
TEST_000,0,Public
TEST_001,1,Public
TEST_002,2,Public
TEST_003,1,Private
TEST_004,0,Private
TEST_005,2,Private
TEST_006,1,Private
"""

ANOMALY_LABELS = """Set ID,target,Usage
S1,Normal,Public
S2,AbNormal,Public
S3,Normal,Public
S4,AbNormal,Private
S5,Normal,Private
S6,Normal,Private
"""

LEAD_LABELS = """id,is_converted,Usage
0,True,Public
1,False,Public
2,False,Private
3,True,Private
"""

PROBABILITY_LABELS = """ID,probability,Usage
A,1,Public
B,0,Public
C,0,Private
D,1,Private
"""

SALES_LABELS = """ID,대분류,2023-04-05,2023-04-06,Usage
P1,A,10,0,Public
P2,A,0,0,Public
P3,B,0,4,Public
P4,A,3,5,Private
P5,B,2,0,Private
"""


@dataclass
class Case:
    """A task folder, its labels file and the parsed objects."""

    folder: Path
    labels_path: Path
    task: Task
    labels: Labels


def make_case(root: Path, name: str, toml: str, labels_csv: str, **read_kwargs: object) -> Case:
    """Write task.toml and labels.csv under root/name and read them."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.toml").write_text(toml, encoding="utf-8")
    labels_path = folder / "labels.csv"
    labels_path.write_text(labels_csv, encoding="utf-8")
    task = load_task(folder)
    return Case(folder, labels_path, task, read_labels(labels_path, task, **read_kwargs))  # type: ignore[arg-type]


@pytest.fixture
def regression(tmp_path: Path) -> Case:
    return make_case(tmp_path, "regression", REGRESSION_TOML, REGRESSION_LABELS)


@pytest.fixture
def quality(tmp_path: Path) -> Case:
    return make_case(tmp_path, "quality", QUALITY_TOML, QUALITY_LABELS)


@pytest.fixture
def anomaly(tmp_path: Path) -> Case:
    return make_case(tmp_path, "anomaly", ANOMALY_TOML, ANOMALY_LABELS)


@pytest.fixture
def lead(tmp_path: Path) -> Case:
    return make_case(tmp_path, "lead", LEAD_TOML, LEAD_LABELS)


@pytest.fixture
def probability(tmp_path: Path) -> Case:
    return make_case(tmp_path, "probability", PROBABILITY_TOML, PROBABILITY_LABELS)


@pytest.fixture
def sales(tmp_path: Path) -> Case:
    return make_case(tmp_path, "sales", SALES_TOML, SALES_LABELS)


def regression_csv(rows: list[str] | None = None, header: str = "ID,Y_01,Y_02,Y_03") -> bytes:
    """Return a valid submission for the regression case (truth + 0.5 on Y_01), or given rows."""
    if rows is None:
        rows = [f"TEST_00{i},{i + 0.5},{i + 1},{i + 2}" for i in range(1, 7)]
    return ("\n".join([header, *rows]) + "\n").encode()
