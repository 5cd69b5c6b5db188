"""`hackathon code-data SLUG --data DIR`: give a code competition its hidden test features; and the
demo's code competition (`demo_code_competition`, called by `hackathon demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from server.cli.app import ServerGroup, runtime
from server.cli.output import emit, json_option

__all__ = ["code_data_command", "demo_code_competition"]

# Holds this module's top-level commands; server/cli/__init__.py registers each by name.
commands = ServerGroup("code")


@commands.command("code-data")
@click.argument("slug")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding the test feature files the task's [code] table names (e.g. test.csv).")
@json_option
def code_data_command(slug: str, data_dir: Path, as_json: bool) -> None:
    """Copy a code competition's hidden test features into the instance (never served to teams)."""
    from server.services.code_jobs import attach_test_features

    result = attach_test_features(runtime(), slug, data_dir)
    emit(as_json, result, f"{slug}: hidden test features {', '.join(result['files'])} stored in {result['folder']}")


def demo_code_competition(rt: Any, url: str, tokens: dict[str, Any], rows: int | None) -> list[dict[str, Any]]:
    """`hackathon demo`: the bundled code task as a competition; Team Alpha submits the reference zip
    (scored like the baseline CSV) and Team Beta a zip with an extra top-level folder (an install
    error, not counted). Skipped, with a line on stderr, where the sandbox cannot run."""
    import time
    import zipfile
    from datetime import timedelta

    import datasets
    from codecomp.run import bwrap_problem
    from datasets._reference_zip import build_reference_zip
    from server.client import ApiClient
    from server.services.code_jobs import attach_test_features
    from server.services.competitions import CompetitionSettings, create_competition, list_competitions

    name = "lead-conversion-code"
    problem = bwrap_problem()
    if problem:
        click.echo(f"  skipping the code competition {name}: {problem}", err=True)
        return []
    folder = rt.home / "demo" / name
    if not (folder / "submit.zip").exists():
        click.echo(f"  generating {name} data and its reference submit.zip …", err=True)
        datasets.generate(name, folder, rows=rows, seed=0)
        build_reference_zip(datasets.task_dir(name), folder, folder / "submit.zip")
        with zipfile.ZipFile(folder / "nested.zip", "w") as zf:
            zf.writestr("submit/script.py", "print('inside an extra folder')\n")
    with rt.session() as session:
        exists = name in {c.slug for c in list_competitions(session)}
    if not exists:
        now = rt.now()
        create_competition(rt, actor="demo", task_dir=datasets.task_dir(name), labels_file=folder / "labels.csv",
                           settings=CompetitionSettings(start=(now - timedelta(days=1)).isoformat(),
                                                        end=(now + timedelta(days=14)).isoformat(), daily_limit=10))
        attach_test_features(rt, name, folder)
    sent = []
    for team, file in (("Team Alpha", folder / "submit.zip"), ("Team Beta", folder / "nested.zip")):
        client = ApiClient(url, tokens["teams"][team])
        sent.append({"team": team, "competition": name, **client.upload(name, file, note=f"demo: {file.name}")})
    organizer = ApiClient(url, tokens["organizer"])
    done = ("scored", "rejected", "failed", "install_error", "run_error")
    deadline = time.monotonic() + 900
    results = [organizer.get(f"/api/v1/submissions/{s['id']}") for s in sent]
    while any(r["status"] not in done for r in results) and time.monotonic() < deadline:
        time.sleep(0.5)
        results = [organizer.get(f"/api/v1/submissions/{s['id']}") for s in sent]
    return [{"team": s["team"], "competition": name, **r} for s, r in zip(sent, results)]
