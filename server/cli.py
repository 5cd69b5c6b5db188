"""The `hackathon` command group (a Flask CLI group): instance, competitions, teams, queue."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import redis
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from server.errors import AppError, ConfigError
from server.runtime import Runtime

__all__ = ["cli", "main", "emit", "runtime", "register_commands", "init_database"]

CLI_ACTOR = "cli"


def _create_app() -> Any:
    from server import create_app

    return create_app()


class HackathonGroup(FlaskGroup):
    """FlaskGroup whose commands turn our errors into a clear message and exit code 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Remember the command line as given (sys.argv is not it under a test runner).
        ctx.meta["hackathon.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (AppError, ConfigError, redis.RedisError) as exc:
            if isinstance(exc, AppError):
                code, message = exc.code, exc.message
            elif isinstance(exc, redis.RedisError):
                code, message = "queue_unreachable", f"queue unreachable: {exc}"
            else:
                code, message = "config", str(exc)
            if ctx.params.get("as_json") or "--json" in ctx.meta.get("hackathon.args", sys.argv):
                click.echo(json.dumps({"error": code, "message": message}, ensure_ascii=False))
            else:
                click.echo(f"Error: {message}", err=True)
            ctx.exit(2)


cli = HackathonGroup(
    name="hackathon", create_app=_create_app, add_default_commands=False, load_dotenv=False,
    help="LG AI Hackathon competition server. State lives under HACKATHON_HOME (default ./instance).",
)


def runtime() -> Runtime:
    return current_app.extensions["hackathon"]


def emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    """Print one JSON object (--json) or a line for people."""
    click.echo(json.dumps(data, ensure_ascii=False, allow_nan=False) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")


def init_database(rt: Runtime) -> None:
    from server.migrate import upgrade

    rt.storage.ensure_folders()
    upgrade(rt.engine)


@cli.command("init")
@json_option
@with_appcontext
def init_command(as_json: bool) -> None:
    """Create or migrate the database."""
    rt = runtime()
    init_database(rt)
    emit(as_json, {"home": str(rt.home), "database": rt.engine.url.render_as_string(hide_password=True)},
         f"database ready at {rt.engine.url.render_as_string(hide_password=True)} (instance {rt.home})")


@cli.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option("--workers", default=None, type=int, help="Embedded scoring workers (no REDIS_URL only).")
@with_appcontext
def serve_command(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web server; with no REDIS_URL, also an embedded queue and workers."""
    from server.serve import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    init_database(runtime())
    serve(app, host=host or app.config["HOST"], port=port or app.config["PORT"], workers=workers)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="Worker log level.")
@click.option("--queue", "queue_kind", default="scoring", show_default=True, type=click.Choice(["scoring", "code"]),
              help="scoring: CSV uploads; code: code competitions' submit.zip runs (needs bubblewrap).")
@with_appcontext
def worker_command(burst: bool, log_level: str, queue_kind: str) -> None:
    """Run an RQ worker for the scoring queue (or, with --queue code, the code queue)."""
    from server.serve import run_worker

    run_worker(runtime(), burst=burst, log_level=log_level, queue=queue_kind)


@cli.command("reconcile")
@json_option
@with_appcontext
def reconcile_command(as_json: bool) -> None:
    """Re-queue submissions whose scoring job was lost."""
    from server.queue import reconcile

    report = reconcile(runtime())
    emit(as_json, report.to_dict(),
         f"checked {report.checked} pending submissions; requeued {len(report.requeued)}; failed {len(report.failed)}")


def register_commands() -> click.Group:
    """Attach the commands that live in other modules (idempotent); return the group."""
    from server import cli_admin, cli_client, cli_demo, cli_final  # noqa: F401  (their decorators register them)
    from scoring.cli import score_command

    cli.add_command(score_command, "score")
    from codecomp.cli import run_code_command  # click only at import time

    cli.add_command(run_code_command, "run-code")
    from server import cli_code  # noqa: F401  (hackathon code-data)
    try:
        from datasets.cli import baseline_command, datasets_group
    except ImportError:  # pragma: no cover - datasets is part of this distribution
        return cli
    cli.add_command(datasets_group, "datasets")
    cli.add_command(baseline_command, "baseline")
    return cli


def main() -> None:
    register_commands()
    cli.main(prog_name="hackathon")
