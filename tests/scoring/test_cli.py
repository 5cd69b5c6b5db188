"""The `score` click command: text and --json output, and exit codes 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scoring.cli import score_command

from .conftest import Case, regression_csv

KEYS = {"status", "public_score", "private_score", "rows", "message", "problems", "metric", "greater_is_better",
        "scorer_version"}


def run(*args: str | Path, input: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(score_command, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def write(tmp_path: Path, data: bytes, name: str = "sub.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_scored_text(regression: Case, tmp_path: Path) -> None:
    code, out = run("--task", regression.folder, "--labels", regression.labels_path, write(tmp_path, regression_csv()))
    assert code == 0
    assert "scored 6 rows with lg_nrmse (lower is better); split: usage, 3 public rows" in out
    lines = dict(line.split(":", 1) for line in out.splitlines()[1:])
    assert float(lines["public score"]) == pytest.approx(0.2) and float(lines["private score"]) == pytest.approx(0.15)


def test_scored_json(regression: Case, tmp_path: Path) -> None:
    code, out = run("--task", regression.folder / "task.toml", "--labels", regression.labels_path, "--json",
                    write(tmp_path, regression_csv()))
    data = json.loads(out)
    assert code == 0 and set(data) == KEYS
    assert data["status"] == "scored" and data["rows"] == 6 and data["message"] is None and data["problems"] is None
    assert data["public_score"] == pytest.approx(0.2) and data["private_score"] == pytest.approx(0.15)


def test_rejected_text_and_json(regression: Case, tmp_path: Path) -> None:
    bad = write(tmp_path, regression_csv([f"TEST_00{i},x,1,1" for i in range(1, 6)]))
    code, out = run("--task", regression.folder, "--labels", regression.labels_path, bad)
    assert code == 1 and out.startswith("rejected:\nline 2, column Y_01: 'x' is not a number\n")
    code, out = run("--task", regression.folder, "--labels", regression.labels_path, "--json", bad)
    data = json.loads(out)
    assert code == 1 and set(data) == KEYS and data["status"] == "rejected"
    assert data["public_score"] is None and data["private_score"] is None and data["rows"] is None
    assert data["problems"][0] == {"line": 2, "column": "Y_01", "message": "'x' is not a number",
                                  "code": "not_a_number", "params": {"value": "'x'"}}
    assert data["problems"][-1] == {"line": None, "column": "ID", "message": "1 id is missing: TEST_006",
                                   "code": "missing_ids", "params": {"count": 1, "example": "TEST_006"}}
    assert data["message"].splitlines()[0] == "line 2, column Y_01: 'x' is not a number"


def test_stdin(regression: Case) -> None:
    code, out = run("--task", regression.folder, "--labels", regression.labels_path, "--json", "-",
                    input=regression_csv())
    assert code == 0 and json.loads(out)["status"] == "scored"


def test_bad_task_or_labels_exit_2_without_traceback(regression: Case, tmp_path: Path) -> None:
    sub = write(tmp_path, regression_csv())
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "task.toml").write_text("[task\n", encoding="utf-8")
    code, out = run("--task", broken, "--labels", regression.labels_path, sub)
    assert code == 2 and "Error: " in out and "invalid TOML" in out and "Traceback" not in out
    code, out = run("--task", broken, "--labels", regression.labels_path, "--json", sub)
    data = json.loads(out)
    assert code == 2 and data["status"] == "error" and data["error"] == "task" and "invalid TOML" in data["message"]
    bad_labels = write(tmp_path, b"ID,Y_01\nA,1\n", "labels.csv")
    code, out = run("--task", regression.folder, "--labels", bad_labels, "--json", sub)
    data = json.loads(out)
    assert code == 2 and data["error"] == "labels" and "missing columns Y_02, Y_03" in data["message"]
    code, out = run("--task", regression.folder, "--labels", bad_labels, "--public-fraction", "2", sub)
    assert code == 2 and "--public-fraction" in out


def test_hash_split_options(regression: Case, tmp_path: Path) -> None:
    labels = write(tmp_path, regression.labels_path.read_bytes().replace(b",Usage", b"").replace(b",Public", b"")
                   .replace(b",Private", b""), "nousage.csv")
    code, out = run("--task", regression.folder, "--labels", labels, "--public-fraction", "0.5", "--seed", "7",
                    write(tmp_path, regression_csv()))
    assert code == 0 and "split: hash" in out
