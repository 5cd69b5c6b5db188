"""`hackathon run-code`: run a submit.zip locally exactly as the server does (same sandbox, limits).

Exit codes: 0 the script ran and wrote output/submission.csv (scored, when --labels is given),
1 any other outcome class (the message says which), 2 unusable arguments or no sandbox here.
With --json exactly one JSON object is printed on stdout. Imports nothing heavy until it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

__all__ = ["run_code_command"]


@click.command("run-code")
@click.option("--task", "task_dir", required=True, type=click.Path(exists=True, path_type=Path),
              help="The code task's folder (task.toml with kind = \"code\").")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with the test features the task names (e.g. test.csv), shown as data/.")
@click.option("--labels", "labels_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labels CSV: score output/submission.csv as the server would.")
@click.option("--install", "install_mode", type=click.Choice(["none", "wheelhouse", "index"]), default=None,
              help="Where requirements come from [HACKATHON_CODE_INSTALL, else none/wheelhouse].")
@click.option("--wheelhouse", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of wheels for --install wheelhouse [HACKATHON_CODE_WHEELHOUSE].")
@click.option("--index-url", default=None, help="Package index for --install index [HACKATHON_CODE_INDEX_URL].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.argument("submit_zip", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def run_code_command(task_dir: Path, data_dir: Path, labels_file: Path | None, install_mode: str | None,
                     wheelhouse: Path | None, index_url: str | None, as_json: bool, submit_zip: Path) -> None:
    """Unpack SUBMIT_ZIP, install its requirements, run script.py in the sandbox and print the outcome."""
    import os

    from codecomp.install import InstallConfig
    from codecomp.pipeline import MissingTestData, run_submission
    from codecomp.run import SandboxUnavailable
    from scoring.errors import LabelsError, TaskSpecError
    from scoring.tasks import load_task

    def fail(message: str) -> NoReturn:
        if as_json:
            click.echo(json.dumps({"error": "unusable", "message": message}, ensure_ascii=False))
        else:
            click.echo(f"Error: {message}", err=True)
        raise SystemExit(2)

    try:
        task = load_task(task_dir)
    except TaskSpecError as exc:
        fail(str(exc))
    if task.kind != "code" or task.code is None:
        fail(f"{task_dir} is a task of kind {task.kind!r}; run-code needs kind = \"code\" with a [code] table")
    code = task.code
    env = dict(os.environ)
    if install_mode:
        env["HACKATHON_CODE_INSTALL"] = install_mode
    if wheelhouse:
        env["HACKATHON_CODE_WHEELHOUSE"] = str(wheelhouse.resolve())
    if index_url:
        env["HACKATHON_CODE_INDEX_URL"] = index_url
    try:
        config = InstallConfig.from_env(env)
    except ValueError as exc:
        fail(str(exc))
    scorer = None
    if labels_file is not None:
        from scoring import read_labels, score

        try:
            labels = read_labels(labels_file, task, public_fraction=float(task.defaults.get("public_fraction", 0.3)))
        except LabelsError as exc:
            fail(str(exc))

        def scorer(csv: Path) -> tuple[float | None, float | None, int | None]:
            result = score(csv, labels, task, max_bytes=code.output_bytes)
            return result.public_score, result.private_score, result.rows

    try:
        outcome = run_submission(submit_zip, code=code, data_dir=data_dir, scorer=scorer, install=config)
    except (SandboxUnavailable, MissingTestData) as exc:
        fail(str(exc))
    body: dict[str, Any] = outcome.to_team_dict()
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(_text(body))
    raise SystemExit(0 if outcome.outcome in ("scored", "completed") else 1)


def _text(body: dict[str, Any]) -> str:
    lines = [f"outcome: {body['outcome']} — {body['message']}"]
    if body["outcome"] == "scored":
        lines.append(f"public score: {body['public_score']}  private score: {body['private_score']}  "
                     f"rows: {body['rows']}")
    times = [f"{k.replace('_', ' ')}: {body[k]} s" for k in ("install_seconds", "run_seconds") if body[k] is not None]
    if body["peak_memory_mb"] is not None:
        times.append(f"peak memory: {body['peak_memory_mb']} MB")
    if times:
        lines.append("  ".join(times))
    if body.get("limits_applied"):
        lines.append(f"limits applied: {body['limits_applied']}")
    if body.get("install_log"):
        lines += ["install log (last lines):", body["install_log"]]
    lines.append("counts against the daily limit on the server" if body["charged"]
                 else "would not count against the daily limit on the server")
    return "\n".join(lines)
