"""The click commands the `hackathon` CLI registers: output, --json, and errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from datasets.cli import baseline_command, datasets_group


def _invoke(command, args: list[str]):
    return CliRunner().invoke(command, args, catch_exceptions=False)


def test_generate_json_prints_one_object_with_the_paths(tmp_path: Path) -> None:
    out = tmp_path / "antenna"
    result = _invoke(datasets_group, ["generate", "antenna", "--out", str(out), "--rows", "50",
                                      "--seed", "7", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # exactly one JSON document, nothing else
    assert payload["task"] == "antenna" and payload["rows"] == 50 and payload["seed"] == 7
    assert payload["seconds"] >= 0
    assert set(payload["files"]) == {"train", "test", "sample_submission", "labels"}
    for path in payload["files"].values():
        assert Path(path).is_file() and Path(path).parent == out
    assert len(pd.read_csv(payload["files"]["labels"])) == 50


def test_generate_text_warns_that_labels_are_hidden(tmp_path: Path) -> None:
    result = _invoke(datasets_group, ["generate", "product-quality", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "310 test rows, seed 0" in result.output
    assert "keep it away from the teams" in result.output


def test_generate_unknown_task_is_a_usage_error_listing_the_tasks(tmp_path: Path) -> None:
    result = _invoke(datasets_group, ["generate", "antena", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown task 'antena'; valid tasks: antenna, lead-conversion" in result.output
    assert "Traceback" not in result.output


def test_generate_too_few_rows_is_a_clear_error(tmp_path: Path) -> None:
    result = _invoke(datasets_group, ["generate", "product-anomaly", "--out", str(tmp_path),
                                      "--rows", "10"])  # fmt: skip
    assert result.exit_code == 1
    assert "rows must be at least 50, got 10" in result.output
    result = _invoke(datasets_group, ["generate", "antenna", "--out", str(tmp_path), "--rows", "0"])
    assert result.exit_code == 2 and "--rows" in result.output


def test_generate_into_a_file_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _invoke(datasets_group, ["generate", "antenna", "--out", str(blocker)])
    assert result.exit_code == 2
    assert "is a file" in result.output


def test_list_json_names_every_task() -> None:
    result = _invoke(datasets_group, ["list", "--json"])
    assert result.exit_code == 0
    tasks = json.loads(result.stdout)["tasks"]
    assert [t["task"] for t in tasks] == [
        "antenna", "lead-conversion", "product-anomaly", "product-quality", "sales-forecast",
    ]  # fmt: skip
    assert {t["task"]: t["metric"] for t in tasks}["sales-forecast"] == "psfa_score"


def test_baseline_json_writes_the_submission(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _invoke(datasets_group, ["generate", "sales-forecast", "--out", str(data),
                                    "--rows", "30"]).exit_code == 0  # fmt: skip
    out = tmp_path / "sub" / "baseline.csv"
    result = _invoke(baseline_command, ["sales-forecast", "--data", str(data), "--out", str(out),
                                        "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {**payload, "task": "sales-forecast", "out": str(out), "rows": 30}
    written = pd.read_csv(out)
    assert list(written.columns) == list(pd.read_csv(data / "sample_submission.csv").columns)


def test_baseline_missing_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    result = _invoke(baseline_command, ["antenna", "--data", str(tmp_path / "nope"),
                                        "--out", str(tmp_path / "x.csv")])  # fmt: skip
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_baseline_on_an_empty_folder_says_to_generate_first(tmp_path: Path) -> None:
    result = _invoke(baseline_command, ["antenna", "--data", str(tmp_path),
                                        "--out", str(tmp_path / "x.csv")])  # fmt: skip
    assert result.exit_code == 1
    assert "train.csv not found; generate the data first" in result.output
