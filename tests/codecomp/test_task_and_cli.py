"""task.toml kind = "code", the bundled code task, its reference zip and `hackathon run-code`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import datasets
from datasets._reference_zip import build_reference_zip
from scoring import read_labels, score
from scoring.errors import TaskSpecError
from scoring.tasks import CodeSpec, load_task, parse_task
from tests.codecomp.conftest import WRITE_SUBMISSION, make_zip

CODE_TASK = datasets.task_dir("lead-conversion-code")
BASE_TOML = (datasets.task_dir("lead-conversion") / "task.toml").read_text()


def _with(extra_task: str, extra: str = "") -> str:
    return BASE_TOML.replace('id_column = "id"', f'id_column = "id"\n{extra_task}') + extra


def test_csv_is_the_default_kind() -> None:
    task = load_task(datasets.task_dir("lead-conversion"))
    assert task.kind == "csv" and task.code is None


def test_code_task_defaults_and_values() -> None:
    task = parse_task(_with('kind = "code"'), "t")
    assert task.kind == "code" and task.code == CodeSpec()
    bundled = load_task(CODE_TASK)
    assert bundled.code is not None and bundled.code.memory_mb == 2048 and bundled.code.test_features == ("test.csv",)


@pytest.mark.parametrize(("task_line", "table", "key", "words"), [
    ('kind = "notebook"', "", "task.kind", "csv, code"),
    ("", "\n[code]\ncpus = 2\n", "code", 'kind = "code"'),
    ('kind = "code"', "\n[code]\ngpus = 1\n", "code.gpus", "unexpected key"),
    ('kind = "code"', "\n[code]\nmemory_mb = 10\n", "code.memory_mb", ">= 64"),
    ('kind = "code"', "\n[code]\ninference_seconds = 1.5\n", "code.inference_seconds", "whole number"),
    ('kind = "code"', '\n[code]\ntest_features = ["../labels.csv"]\n', "code.test_features", "no folders"),
])
def test_bad_code_tables(task_line: str, table: str, key: str, words: str) -> None:
    with pytest.raises(TaskSpecError) as info:
        parse_task(_with(task_line, table), "t")
    assert key in str(info.value) and words in str(info.value)


def test_code_tasks_are_listed_apart() -> None:
    assert "lead-conversion-code" not in datasets.task_names()
    assert datasets.code_task_names() == ["lead-conversion-code"]


def _hackathon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True, timeout=300)


def test_run_code_cli_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "test.csv").write_text("id,x\n0,1\n")
    zip_path = make_zip(tmp_path / "submit.zip", {"script.py": WRITE_SUBMISSION})
    done = _hackathon("run-code", "--task", str(CODE_TASK), "--data", str(data), "--json", str(zip_path))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["outcome"] == "completed" and body["charged"] is True and body["run_seconds"] is not None
    missing = make_zip(tmp_path / "bad.zip", {"main.py": "x"})
    done = _hackathon("run-code", "--task", str(CODE_TASK), "--data", str(data), str(missing))
    assert done.returncode == 1
    assert "install_error" in done.stdout and "would not count" in done.stdout


def test_run_code_refuses_a_csv_task(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "submit.zip", {"script.py": WRITE_SUBMISSION})
    done = _hackathon("run-code", "--task", str(datasets.task_dir("antenna")), "--data", str(tmp_path), str(zip_path))
    assert done.returncode == 2
    assert 'needs kind = "code"' in done.stderr


@pytest.mark.slow
def test_reference_zip_scores_as_the_baseline_csv(tmp_path: Path) -> None:
    data = tmp_path / "data"
    datasets.generate("lead-conversion-code", data, rows=300, seed=0)
    baseline_csv = datasets.baseline("lead-conversion-code", data, tmp_path / "baseline.csv")
    task = load_task(CODE_TASK)
    labels = read_labels(data / "labels.csv", task)
    expected = score(baseline_csv, labels, task)
    zip_path = build_reference_zip(CODE_TASK, data, tmp_path / "submit.zip")
    done = _hackathon("run-code", "--task", str(CODE_TASK), "--data", str(data), "--labels",
                      str(data / "labels.csv"), "--json", str(zip_path))
    assert done.returncode == 0, done.stdout + done.stderr
    body = json.loads(done.stdout)
    assert body["outcome"] == "scored"
    assert (body["public_score"], body["private_score"], body["rows"]) == \
        (expected.public_score, expected.private_score, expected.rows)
