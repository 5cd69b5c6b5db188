"""Click commands for the bundled tasks; the server's `hackathon` CLI registers them.

- ``datasets_group`` ("datasets"): ``generate TASK --out DIR [--rows N] [--seed S] [--json]`` and
  ``list [--json]``.
- ``baseline_command`` ("baseline"): ``baseline TASK --data DIR --out FILE [--json]``.

With ``--json`` a command prints exactly one JSON object on stdout and nothing else.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

import datasets
from datasets._common import LABELS_CSV, SAMPLE_CSV, TEST_CSV, TRAIN_CSV, read_task_toml

__all__ = ["baseline_command", "datasets_group"]


class TaskName(click.ParamType):
    """A bundled task's name; an unknown one fails with the list of valid names."""

    name = "task"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            datasets.task_dir(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        return [
            click.shell_completion.CompletionItem(name)
            for name in datasets.task_names()
            if name.startswith(incomplete)
        ]


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of text."
)


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False) if as_json else text)


@click.group("datasets")
def datasets_group() -> None:
    """Generate the bundled tasks' synthetic data (train, test, sample submission, hidden labels)."""


@datasets_group.command("generate")
@click.argument("task", type=TaskName())
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    help="Folder to write into (created if missing).",
)
@click.option(
    "--rows", type=click.IntRange(min=1), help="Test rows (default: the real competition's size)."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@json_option
def generate_command(
    task: str, out_dir: Path, rows: int | None, seed: int, as_json: bool
) -> None:
    """Write train.csv, test.csv, sample_submission.csv and the hidden labels.csv for TASK.

    labels.csv holds the answers and the Public/Private split: give it to the server
    (`hackathon competition create --labels`), never to the teams.
    """
    started = time.perf_counter()
    try:
        datasets.generate(task, out_dir, rows=rows, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    files = {
        "train": TRAIN_CSV,
        "test": TEST_CSV,
        "sample_submission": SAMPLE_CSV,
        "labels": LABELS_CSV,
    }
    paths = {key: str(out_dir / name) for key, name in files.items()}
    n_rows = rows if rows is not None else datasets.default_rows(task)
    payload = {
        "task": task,
        "out": str(out_dir),
        "files": paths,
        "rows": n_rows,
        "seed": seed,
        "seconds": round(seconds, 3),
    }
    text = (
        f"{task}: wrote {', '.join(files.values())} to {out_dir} "
        f"({n_rows:,} test rows, seed {seed}) in {seconds:.1f} s\n"
        f"labels.csv holds the hidden answers: keep it away from the teams."
    )
    _emit(as_json, payload, text)


@datasets_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the bundled tasks with their metric and default test size."""
    tasks = []
    for name in datasets.task_names():
        spec = read_task_toml(datasets.task_dir(name) / "task.toml")
        tasks.append({
            "task": name,
            "title_ko": spec["task"]["title_ko"],
            "title_en": spec["task"]["title_en"],
            "metric": spec["metric"]["name"],
            "rows": datasets.default_rows(name),
            "folder": str(datasets.task_dir(name)),
        })  # fmt: skip
    lines = [f"{t['task']:<16} {t['metric']:<11} {t['rows']:>7,} rows  {t['title_ko']}" for t in tasks]
    _emit(as_json, {"tasks": tasks}, "\n".join(lines))


@click.command("baseline")
@click.argument("task", type=TaskName())
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder written by `datasets generate` (train.csv and test.csv are used).",
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The submission file to write.",
)
@json_option
def baseline_command(task: str, data_dir: Path, out_file: Path, as_json: bool) -> None:
    """Train a scikit-learn baseline on TASK's train.csv and write predictions for test.csv."""
    started = time.perf_counter()
    try:
        written = datasets.baseline(task, data_dir, out_file)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_file}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    with written.open("rb") as fh:
        n_rows = max(sum(1 for _ in fh) - 1, 0)
    payload = {
        "task": task,
        "data": str(data_dir),
        "out": str(written),
        "rows": n_rows,
        "seconds": round(seconds, 3),
    }
    _emit(as_json, payload, f"{task}: wrote {n_rows:,} predictions to {written} in {seconds:.1f} s")


@datasets_group.command("reference-zip")
@click.argument("task", type=TaskName())
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder written by `datasets generate` (its train.csv goes into model/).",
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The submit.zip to write.",
)
@json_option
def reference_zip_command(task: str, data_dir: Path, out_file: Path, as_json: bool) -> None:
    """Build the reference submit.zip of a code TASK from its baseline (try it with `hackathon run-code`)."""
    from datasets._reference_zip import build_reference_zip

    if task not in datasets.code_task_names():
        raise click.ClickException(
            f"{task} is not a code task; code tasks: {', '.join(datasets.code_task_names())}"
        )
    try:
        written = build_reference_zip(datasets.task_dir(task), data_dir, out_file)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_file}: {exc.strerror or exc}") from None
    payload = {"task": task, "out": str(written), "bytes": written.stat().st_size}
    _emit(as_json, payload, f"{task}: wrote {written} ({written.stat().st_size:,} bytes)")
