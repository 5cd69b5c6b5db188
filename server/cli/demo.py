"""`hackathon demo`: one command, nothing else installed, a populated competition site.

Creates (or reuses) an instance, generates the bundled tasks' data, creates their competitions,
an organizer, a judge and sample teams, submits baseline predictions through the real HTTP and
queue path (embedded Valkey + worker processes), waits until they are scored, then serves.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
from flask import current_app
from werkzeug.serving import make_server

from server.cli.app import ServerGroup, init_database, runtime
from server.client import ApiClient
from server.runtime import Runtime
from server.services.competitions import CompetitionSettings, list_competitions
from server.services.datafiles import DataFileInput, create_competition_with_data
from server.services.teams import create_team, create_token
from server.statuses import SubmissionStatus

# Holds this module's command; server/cli/__init__.py registers it by name.
commands = ServerGroup("demo")

DEMO_TEAMS = ["Team Alpha", "Team Beta", "Team Gamma", "Team Delta"]
ACTOR = "demo"


def _demo_files(rt: Runtime, rows: int | None) -> dict[str, Path]:
    """Generate each task's data and baseline predictions once (kept under <HOME>/demo)."""
    import datasets

    out: dict[str, Path] = {}
    for name in datasets.task_names():
        folder = rt.home / "demo" / name
        if not (folder / "baseline.csv").exists():
            click.echo(f"  generating {name} data and a scikit-learn baseline …", err=True)
            datasets.generate(name, folder, rows=rows, seed=0)
            datasets.baseline(name, folder, folder / "baseline.csv")
        out[name] = folder
    return out


def _perturbed(baseline: Path, out: Path, task: Any, seed: int) -> Path:
    """A weaker variant of the baseline: noise on numbers, 15% shuffled labels on classes."""
    rng = np.random.default_rng(seed)
    df = pd.read_csv(baseline, dtype=str, keep_default_na=False)
    for target in task.targets:
        column = target.name
        if target.kind in ("number", "probability"):
            values = df[column].astype(float).to_numpy()
            noisy = values * rng.normal(1.0, 0.15, len(values))
            if target.kind == "probability" or values.min() >= 0:
                noisy = np.clip(noisy, 0, 1 if target.kind == "probability" else None)
            df[column] = noisy
        else:
            idx = rng.choice(len(df), size=max(1, len(df) * 15 // 100), replace=False)
            df.loc[idx, column] = df[column].to_numpy()[rng.permutation(idx)]
    df.to_csv(out, index=False)
    return out


def _setup(rt: Runtime, files: dict[str, Path]) -> dict[str, Any]:
    """Create tokens, teams and competitions on a new instance; remember the tokens for reruns."""
    token_file = rt.home / "demo-tokens.json"
    with rt.session() as session:
        existing = {c.slug for c in list_competitions(session)}
    if token_file.exists() and existing:
        return json.loads(token_file.read_text())
    import datasets

    now = rt.now()
    tokens: dict[str, Any] = {
        "organizer": create_token(rt, "organizer", "Demo organizer", actor=ACTOR),
        "judge": create_token(rt, "judge", "Demo judge", actor=ACTOR),
        "teams": {},
    }
    for i, name in enumerate(DEMO_TEAMS):
        new = create_team(rt, name, actor=ACTOR, members=[f"{name} member {j}" for j in (1, 2)],
                          eligible=i != 3)
        tokens["teams"][name] = new.token
    for name, folder in files.items():
        if name in existing:
            continue
        data = [DataFileInput(f, folder / f) for f in (datasets.TRAIN_CSV, datasets.TEST_CSV, datasets.SAMPLE_CSV)]
        create_competition_with_data(rt, actor=ACTOR, task_dir=datasets.task_dir(name),
                                     labels_file=folder / "labels.csv", data=data,
                                     settings=CompetitionSettings(start=(now - timedelta(days=1)).isoformat(),
                                                                  end=(now + timedelta(days=14)).isoformat(),
                                                                  daily_limit=10))
    token_file.write_text(json.dumps(tokens, indent=2, ensure_ascii=False))
    token_file.chmod(0o600)
    return tokens


def _seed_submissions(url: str, tokens: dict[str, Any], files: dict[str, Path]) -> list[dict[str, Any]]:
    """Submit through the HTTP API as the teams would; wait until every file is scored."""
    import datasets
    from scoring import load_task

    sent = []
    for slug, folder in files.items():
        task = load_task(datasets.task_dir(slug))
        plan = [
            ("Team Alpha", folder / "baseline.csv"),
            ("Team Beta", folder / "sample_submission.csv"),
            ("Team Gamma", _perturbed(folder / "baseline.csv", folder / "gamma.csv", task, 1)),
            ("Team Delta", _perturbed(folder / "baseline.csv", folder / "delta.csv", task, 2)),
        ]
        for team, file in plan:
            client = ApiClient(url, tokens["teams"][team])
            sent.append({"team": team, "competition": slug,
                         **client.upload(slug, file, note=f"demo: {file.name}")})
    client = ApiClient(url, tokens["organizer"])
    deadline = time.monotonic() + 600
    pending = {s["id"] for s in sent}
    while pending and time.monotonic() < deadline:
        time.sleep(0.3)
        for sid in list(pending):
            if client.get(f"/api/v1/submissions/{sid}")["status"] in (SubmissionStatus.SCORED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED):
                pending.discard(sid)
    return [client.get(f"/api/v1/submissions/{s['id']}") for s in sent]


@commands.command("demo", needs_instance=False)
@click.option("--host", default=None, help="Interface (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option("--rows", default=None, type=int, help="Test rows per task (default: the real sizes).")
@click.option("--no-serve", is_flag=True, help="Set up and score, print the summary, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def demo_command(host: str | None, port: int | None, rows: int | None, no_serve: bool, as_json: bool) -> None:
    """Run the whole product locally with sample competitions, teams and scored submissions."""
    from server.serve import embedded_stack

    rt = runtime()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    host = host or app.config["HOST"]
    port = app.config["PORT"] if port is None else port
    init_database(rt)
    click.echo(f"instance: {rt.home}", err=True)
    files = _demo_files(rt, rows)
    tokens = _setup(rt, files)
    server = make_server(host, port, app, threaded=True)
    url = f"http://{host}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with embedded_stack(rt):
        thread.start()
        click.echo(f"submitting baseline predictions through {url} …", err=True)
        results = _seed_submissions(url, tokens, files)
        from server.cli.code import demo_code_competition  # the code competition (issue 12)

        results += demo_code_competition(rt, url, tokens, rows)
        summary = {"url": url, "home": str(rt.home), "tokens": tokens,
                   "submissions": [{k: r.get(k) for k in ("competition", "team", "status", "public_score", "message")}
                                   for r in results]}
        if as_json:
            click.echo(json.dumps(summary, ensure_ascii=False))
        else:
            click.echo(f"\nLG AI Hackathon demo is running at {url}\n")
            for r in results:
                shown = r["public_score"] if r["status"] == SubmissionStatus.SCORED else (r["message"] or "").splitlines()[0]
                click.echo(f"  {r['competition']:<16} {r['team']:<11} {r['status']:<8} {shown}")
            click.echo(f"\norganizer token: {tokens['organizer']}\njudge token:     {tokens['judge']}")
            for team, token in tokens["teams"].items():
                click.echo(f"{team + ' token:':<17}{token}")
            click.echo(f"\nTry: curl {url}/api/v1/competitions/antenna/leaderboard\n"
                       f"     curl {url}/api/v1/competitions/antenna/data   (train, test, sample submission)\n"
                       f"     hackathon submit --server {url} --token <team token> --competition antenna "
                       f"{rt.home / 'demo' / 'antenna' / 'baseline.csv'} --wait\n(Ctrl-C stops)")
        if no_serve:
            server.shutdown()
            return
        try:
            while thread.is_alive():
                thread.join(1)
        except KeyboardInterrupt:
            server.shutdown()
