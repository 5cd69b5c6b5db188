"""`hackathon submit`: the team's client (standard library and click only: no server code runs here)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from server.client import ApiClient, ApiError, server_base_url
from server.statuses import FINAL_STATUSES, SubmissionStatus


def _fail(as_json: bool, exc: ApiError) -> NoReturn:
    """One line (or one JSON object) and exit 2: the server refused, or could not be reached."""
    if as_json:
        click.echo(json.dumps({"status_code": exc.status, **exc.body}, ensure_ascii=False))
    elif exc.status:
        click.echo(f"Error ({exc.status}): {exc}", err=True)
    else:  # no HTTP answer at all
        click.echo(f"Error: {exc}", err=True)
    sys.exit(2)


@click.command("submit")
@click.option("--server", required=True, help="Base URL, e.g. http://127.0.0.1:8000 (host:port means http://).")
@click.option("--token", required=True, envvar="HACKATHON_TOKEN", help="Your team token (or HACKATHON_TOKEN).")
@click.option("--competition", required=True, help="Competition slug.")
@click.option("--note", help="A note kept with the submission.")
@click.option("--wait", is_flag=True, help="Show progress until scored, then the public score.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait with --wait.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the submission).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def submit_command(server: str, token: str, competition: str, note: str | None, wait: bool, timeout: float,
                   as_json: bool, file: Path) -> None:
    """Upload a prediction CSV (optionally gzip) for scoring, or a code competition's submit.zip."""
    try:
        base, assumed = server_base_url(server)
    except ValueError as exc:
        _fail(as_json, ApiError(0, {"error": "bad_server_url", "message": f"--server: {exc}"}))
    if assumed:
        click.echo(f"note: --server {server} has no scheme; using {base}", err=True)
    client = ApiClient(base, token)
    progress_shown = False
    try:
        sub: dict[str, Any] = client.upload(competition, file, note)
        if not as_json:
            click.echo(f"submission {sub['id']} {sub['status']} ({sub['bytes']:,} bytes, "
                       f"{sub.get('remaining_today', '?')} left today)")
        started = time.monotonic()
        while wait and sub["status"] not in FINAL_STATUSES:
            if time.monotonic() - started > timeout:
                raise click.ClickException(f"still {sub['status']} after {timeout:.0f} s; check later with the API")
            time.sleep(0.2)
            sub = client.get(f"/api/v1/submissions/{sub['id']}")
            if not as_json:
                click.echo(f"\r{sub['status']}… {time.monotonic() - started:.1f} s", nl=False, err=True)
                progress_shown = True
    except ApiError as exc:
        if progress_shown:
            click.echo("", err=True)
        _fail(as_json, exc)
    if as_json:
        click.echo(json.dumps(sub, ensure_ascii=False))
    elif wait:
        click.echo("", err=True)
        if sub["status"] == SubmissionStatus.SCORED:
            if sub.get("ladder"):  # ladder mode: no public score per submission, only the Ladder value
                click.echo(f"scored: {sub['ladder'].replace('_', ' ')}; your ladder score {sub['ladder_score']}")
            else:
                click.echo(f"scored: public score {sub['public_score']}")
        else:
            click.echo(f"{sub['status']}: {sub['message']}")
        run = sub.get("run") or {}  # code competitions: outcome class, times, install log
        if run.get("install_log"):
            click.echo(f"install log (last lines):\n{run['install_log']}")
    if wait and sub["status"] != SubmissionStatus.SCORED:
        sys.exit(1)
