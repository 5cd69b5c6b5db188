"""`hackathon code-data SLUG --data DIR`: give a code competition its hidden test features."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.cli import cli, emit, json_option, runtime

__all__ = ["code_data_command"]


@cli.command("code-data")
@click.argument("slug")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding the test feature files the task's [code] table names (e.g. test.csv).")
@json_option
@with_appcontext
def code_data_command(slug: str, data_dir: Path, as_json: bool) -> None:
    """Copy a code competition's hidden test features into the instance (never served to teams)."""
    from server.services.code_jobs import attach_test_features

    result = attach_test_features(runtime(), slug, data_dir)
    emit(as_json, result, f"{slug}: hidden test features {', '.join(result['files'])} stored in {result['folder']}")
