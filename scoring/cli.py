"""`hackathon score`: score a predictions file offline against a task folder and hidden labels.

Exit codes: 0 scored, 1 rejected (the message says why), 2 unusable task, labels or arguments.
With --json exactly one JSON object is printed on stdout in every case.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scoring.errors import LabelsError, ScoringError, SubmissionRejected, TaskSpecError

if TYPE_CHECKING:  # the scorer (numpy, pyarrow) is imported when a file is scored, not for --help
    from scoring.labels import Labels
    from scoring.tasks import Task

__all__ = ["score_command"]


def _emit(as_json: bool, data: dict[str, Any], text: str, *, err: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(text, err=err)


def _result(status: str, **fields: Any) -> dict[str, Any]:
    from scoring import SCORER_VERSION

    data: dict[str, Any] = {"status": status, "public_score": None, "private_score": None, "rows": None,
                            "message": None, "problems": None, "metric": None, "greater_is_better": None,
                            "scorer_version": SCORER_VERSION}
    data.update(fields)
    return data


def _load(task_dir: Path, labels_file: Path, public_fraction: float | None, seed: str) -> tuple[Task, Labels]:
    from scoring import load_task, read_labels

    task = load_task(task_dir)
    fraction = public_fraction if public_fraction is not None else float(task.defaults.get("public_fraction", 0.3))
    if not 0 < fraction < 1:
        raise click.BadParameter(f"expected a number between 0 and 1 (exclusive), found {fraction}",
                                 param_hint="--public-fraction")
    return task, read_labels(labels_file, task, public_fraction=fraction, seed=seed)


@click.command("score")
@click.option("--task", "task_dir", required=True, type=click.Path(exists=True, path_type=Path),
              help="Task folder (with task.toml) or the task.toml file.")
@click.option("--labels", "labels_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Hidden labels CSV (id, targets, optional Usage).")
@click.option("--public-fraction", type=float, default=None,
              help="Public share of rows when the labels have no Usage column [task default, else 0.3].")
@click.option("--seed", default="0", show_default=True, help="Seed of the public/private hash split.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.argument("predictions", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
def score_command(task_dir: Path, labels_file: Path, public_fraction: float | None, seed: str, as_json: bool,
                  predictions: Path) -> None:
    """Score PREDICTIONS (CSV, optionally gzip; '-' reads stdin) and print the public and private scores."""
    from scoring import score

    try:
        task, labels = _load(task_dir, labels_file, public_fraction, seed)
    except (TaskSpecError, LabelsError) as exc:
        kind = "task" if isinstance(exc, TaskSpecError) else "labels"
        _emit(as_json, _result("error", error=kind, message=exc.message), f"Error: {exc.message}", err=True)
        sys.exit(2)
    except click.BadParameter as exc:
        _emit(as_json, _result("error", error="usage", message=exc.format_message()),
              f"Error: {exc.format_message()}", err=True)
        sys.exit(2)
    source: Any = sys.stdin.buffer if str(predictions) == "-" else predictions
    metric = task.get_metric()
    try:
        result = score(source, labels, task)
    except SubmissionRejected as exc:
        _emit(as_json,
              _result("rejected", message=exc.message, problems=[p.to_dict() for p in exc.problems],
                      metric=metric.name, greater_is_better=metric.greater_is_better),
              f"rejected:\n{exc.message}")
        sys.exit(1)
    except ScoringError as exc:
        _emit(as_json, _result("error", error="metric", message=exc.message), f"Error: {exc.message}", err=True)
        sys.exit(2)
    _emit(as_json,
          _result("scored", public_score=result.public_score, private_score=result.private_score, rows=result.rows,
                  metric=result.metric, greater_is_better=result.greater_is_better),
          f"scored {result.rows:,} rows with {result.metric} ({metric.direction}); "
          f"split: {labels.split}, {len(labels.public.index):,} public rows\n"
          f"public score:  {result.public_score!r}\n"
          f"private score: {result.private_score!r}")
