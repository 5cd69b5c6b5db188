"""task.toml: parsing, the shorthand, and validation errors that name the file and the key."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from scoring import Target, TaskSpecError, load_task, parse_task

from .conftest import ANOMALY_TOML, LEAD_TOML, QUALITY_TOML, REGRESSION_TOML, SALES_TOML

HEAD = """
[task]
slug = "t"
title_ko = "과제"
title_en = "Task"
id_column = "ID"
"""

NUMBER_TARGET = """
[[targets]]
name = "y"
kind = "number"
"""


def test_load_task_from_folder_or_file(tmp_path: Path) -> None:
    (tmp_path / "task.toml").write_text(REGRESSION_TOML, encoding="utf-8")
    for where in (tmp_path, tmp_path / "task.toml", str(tmp_path)):
        task = load_task(where)
        assert task.slug == "tiny-regression" and task.title_ko == "작은 회귀"
        assert task.targets == tuple(Target(f"Y_0{i}", "number") for i in (1, 2, 3))
        assert task.columns == ["ID", "Y_01", "Y_02", "Y_03"]
        assert task.metric == "lg_nrmse" and task.source == str(tmp_path / "task.toml")
        assert task.description_en == "" and dict(task.defaults) == {}


def test_the_five_bundled_shapes_parse() -> None:
    quality = parse_task(QUALITY_TOML, "q")
    assert quality.targets[0].classes == ("0", "1", "2") and quality.metric == "f1_macro"
    anomaly = parse_task(ANOMALY_TOML, "a")
    assert anomaly.metric_kwargs() == {"pos_label": 1} and anomaly.id_column == "Set ID"
    lead = parse_task(LEAD_TOML, "l")
    assert lead.targets[0].class_names == ("False", "True") and lead.metric_kwargs() == {"pos_label": 1}
    sales = parse_task(SALES_TOML, "s")
    assert sales.group_column == "대분류" and sales.metric_kwargs() == {}
    assert parse_task(REGRESSION_TOML, "r").group_column is None


def test_defaults_are_kept() -> None:
    text = HEAD + NUMBER_TARGET + """
[metric]
name = "root_mean_squared_error"
[defaults]
daily_limit = 5
max_final = 2
precision = 4
public_fraction = 0.5
max_upload_mb = 2.5
total_limit = 100
timezone = "Asia/Seoul"
"""
    task = parse_task(text, "x")
    assert task.defaults == {"daily_limit": 5, "max_final": 2, "precision": 4, "public_fraction": 0.5,
                             "max_upload_mb": 2.5, "total_limit": 100, "timezone": "Asia/Seoul"}


BAD = [
    # (toml text, key, message pattern)
    ("[task\n", None, r"invalid TOML: .*line 1"),
    (NUMBER_TARGET + '[metric]\nname = "smape"\n', "task", r"expected a \[task\] table, found nothing"),
    (HEAD.replace('slug = "t"\n', "") + NUMBER_TARGET + '[metric]\nname = "smape"\n', "task.slug",
     "expected a non-empty string, found None"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "nrmse"\n', "metric.name",
     r"unknown metric 'nrmse'; valid names: accuracy_score, brier_skill_score, f1_binary, f1_macro, lg_nrmse, "),
    (HEAD + NUMBER_TARGET, "metric", r"expected a \[metric\] table"),
    (HEAD + '[metric]\nname = "smape"\n', "targets", r"expected one or more \[\[targets\]\] tables"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "float"\n[metric]\nname = "smape"\n', "targets[1].kind",
     "expected one of number, probability, class, boolean; found 'float'"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "class"\n[metric]\nname = "f1_macro"\n', "targets[1].classes",
     "a class target needs a non-empty list of its labels, found None"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "class"\nclasses = ["1", 1.0]\n[metric]\nname = "f1_macro"\n',
     "targets[1].classes", "expected class labels as strings or whole numbers, found 1.0"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "class"\nclasses = ["1", "01"]\n[metric]\nname = "f1_macro"\n',
     "targets[1].classes", "class '01' is listed twice \\(same as '1'\\)"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "number"\nclasses = ["a"]\n[metric]\nname = "smape"\n',
     "targets[1].classes", "only a target of kind 'class' has classes; this one is 'number'"),
    (HEAD + '[[targets]]\nname = "y"\nnames = ["z"]\nkind = "number"\n[metric]\nname = "smape"\n', "targets[1]",
     "expected exactly one of name"),
    (HEAD + '[[targets]]\nnames = []\nkind = "number"\n[metric]\nname = "smape"\n', "targets[1].names",
     "expected a non-empty list of column names"),
    (HEAD + '[[targets]]\nname = " y"\nkind = "number"\n[metric]\nname = "smape"\n', "targets[1].name",
     "column name ' y' has surrounding spaces"),
    (HEAD + NUMBER_TARGET + NUMBER_TARGET + '[metric]\nname = "smape"\n', "targets", "column 'y' is declared twice"),
    (HEAD + '[[targets]]\nname = "ID"\nkind = "number"\n[metric]\nname = "smape"\n', "targets",
     "column 'ID' is declared twice"),
    (HEAD + '[[targets]]\nname = "usage"\nkind = "number"\n[metric]\nname = "smape"\n', "targets",
     "'Usage' is reserved"),
    (HEAD + '[[targets]]\nname = "y"\nkind = "number"\nunit = "kg"\n[metric]\nname = "smape"\n',
     "targets[2].unit".replace("2", "1"), "unexpected key; expected name"),
    (HEAD + 'color = "red"\n' + NUMBER_TARGET + '[metric]\nname = "smape"\n', "task.color", "unexpected key"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[extra]\na = 1\n', "extra",
     "unexpected table; expected task, metric, targets, defaults"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "f1_macro"\n', "targets",
     "metric f1_macro scores targets of kind boolean or class; target 'y' is 'number'"),
    (HEAD + NUMBER_TARGET.replace('"y"', '"a"') + NUMBER_TARGET + '[metric]\nname = "log_loss"\n', "targets",
     "metric log_loss scores targets of kind probability; target 'a' is 'number'"),
    (HEAD + '[[targets]]\nnames = ["a", "b"]\nkind = "boolean"\n[metric]\nname = "accuracy_score"\n', "targets",
     "metric accuracy_score scores exactly one target, found 2"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\nweights = [1]\n', "metric.weights",
     "unknown parameter for metric smape; valid parameters: none"),
    (HEAD + '[[targets]]\nnames = ["a", "b"]\nkind = "number"\n[metric]\nname = "lg_nrmse"\nweights = [1, 2, 3]\n',
     "metric.weights", r"expected a list of 2 non-negative numbers \(one per target\), found \[1, 2, 3\]"),
    (HEAD + '[[targets]]\nname = "t"\nkind = "class"\nclasses = ["Normal", "AbNormal"]\n[metric]\nname = "f1_binary"\n',
     "metric.pos_label", "required: which class is positive\\? one of Normal, AbNormal"),
    (HEAD + '[[targets]]\nname = "t"\nkind = "class"\nclasses = ["Normal", "AbNormal"]\n'
            '[metric]\nname = "f1_binary"\npos_label = "Bad"\n',
     "metric.pos_label", "expected one of the classes Normal, AbNormal; found 'Bad'"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "psfa_score"\n', "metric.group_column",
     "metric psfa_score needs a column name of the hidden labels that groups the rows; found None"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "psfa_score"\ngroup_column = "y"\n', "metric.group_column",
     "'y' must be a separate column of the hidden labels"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[defaults]\nprecision = -1\n', "defaults.precision",
     "expected a whole number of decimals from 0 to 12, found -1"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[defaults]\npublic_fraction = 1.5\n',
     "defaults.public_fraction", r"expected a number between 0 and 1 \(exclusive\), found 1.5"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[defaults]\ndaily_limit = "3"\n', "defaults.daily_limit",
     "expected a whole number >= 1, found '3'"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[defaults]\ndaily_limit = true\n', "defaults.daily_limit",
     "expected a whole number >= 1, found True"),
    (HEAD + NUMBER_TARGET + '[metric]\nname = "smape"\n[defaults]\ndaly_limit = 3\n', "defaults.daly_limit",
     "unexpected key; expected daily_limit, total_limit"),
]


@pytest.mark.parametrize(("text", "key", "pattern"), BAD)
def test_invalid_task_names_file_and_key(tmp_path: Path, text: str, key: str | None, pattern: str) -> None:
    path = tmp_path / "task.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaskSpecError) as info:
        load_task(tmp_path)
    exc = info.value
    assert exc.source == str(path) and exc.key == key
    prefix = re.escape(f"{path}: {key}: " if key else f"{path}: ")
    assert re.match(prefix + pattern, str(exc)), str(exc)


def test_parse_task_names_the_given_source() -> None:
    with pytest.raises(TaskSpecError, match=r"^competition antenna \(database\): metric.name: unknown metric 'x'"):
        parse_task(HEAD + NUMBER_TARGET + '[metric]\nname = "x"\n', "competition antenna (database)")


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(TaskSpecError, match=r"task.toml: no such file \(expected a task folder with task.toml"):
        load_task(tmp_path)
    (tmp_path / "task.toml").write_bytes(b'[task]\nslug = "\xff"\n')
    with pytest.raises(TaskSpecError, match="task.toml: not UTF-8: byte 0xff at offset 15"):
        load_task(tmp_path)


def test_task_errors_pickle() -> None:
    try:
        parse_task("[task", "somewhere")
    except TaskSpecError as exc:
        again = pickle.loads(pickle.dumps(exc))
        assert str(again) == str(exc) and again.source == "somewhere"
