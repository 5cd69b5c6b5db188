"""The `hackathon` command: a plain click group that imports each command only when it runs.

Every command is registered here, in COMMANDS ("module:attribute"). Server commands are Flask
`AppGroup` commands (server.cli.app.ServerGroup): the first to run builds the app through
server.create_app, which reads the instance's configuration. Client commands (submit, score,
datasets, baseline) never build the app or read that configuration, and start without importing
Flask, SQLAlchemy or pandas.

Errors the user can fix (AppError, ConfigError, an unreachable queue) end as one line on stderr,
or one JSON object with --json, and exit code 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from server.cli.lazy import LazyCommand, LazyGroup

__all__ = ["COMMANDS", "cli", "main", "register_commands"]

DISTRIBUTION = "lg-hackathon-server"

_INSTANCE = "Instance"
_SETUP = "Competitions and teams"
_FINAL = "End of a competition"
_CLIENT = "Teams' tools (no server instance needed)"

COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand("server.cli.instance:init_command", "Create or migrate the database.", _INSTANCE),
    "serve": LazyCommand("server.cli.instance:serve_command",
                         "Run the web server; with no REDIS_URL, also an embedded queue and workers.", _INSTANCE),
    "worker": LazyCommand("server.cli.instance:worker_command",
                          "Run an RQ worker for the scoring queue (or, with --queue code, the code queue).", _INSTANCE),
    "queue": LazyCommand("server.cli.instance:queue_command",
                         "Show the queue: submissions by status, the oldest waiting, workers alive, recent failures.",
                         _INSTANCE),
    "reconcile": LazyCommand("server.cli.instance:reconcile_command",
                             "Re-queue submissions whose scoring job was lost.", _INSTANCE),
    "demo": LazyCommand("server.cli.demo:demo_command",
                        "Run the whole product locally with sample competitions, teams and scored submissions.",
                        _INSTANCE),
    "competition": LazyCommand("server.cli.competitions:competition_group", "Create and change competitions.",
                               _SETUP),
    "team": LazyCommand("server.cli.teams:team_group",
                        "Register teams (or import a roster); list them; revoke or reissue their tokens.", _SETUP),
    "token": LazyCommand("server.cli.teams:token_group", "Issue organizer and judge tokens.", _SETUP),
    "code-data": LazyCommand("server.cli.code:code_data_command",
                             "Copy a code competition's hidden test features into the instance (never served to "
                             "teams).", _SETUP),
    "freeze": LazyCommand("server.cli.final:freeze_command",
                          "Freeze the final standings into an immutable, hashed snapshot (after the end).", _FINAL),
    "publish": LazyCommand("server.cli.final:publish_command", "Make the frozen private leaderboard public.", _FINAL),
    "award": LazyCommand("server.cli.final:award_command",
                         "Show the award standings: eligible, verified teams in private-board order.", _FINAL),
    "verification": LazyCommand("server.cli.final:verification_command",
                                "Record a team's code verification (after the freeze); "
                                "TEAM is the exact team name.", _FINAL),
    "eligibility": LazyCommand("server.cli.final:eligibility_command",
                               "Set whether a team may receive an award; TEAM is the exact team name.", _FINAL),
    "audit": LazyCommand("server.cli.final:audit_command",
                         "Export the judges' audit: every submission, the snapshot hash and the action log.", _FINAL),
    "verify": LazyCommand("server.cli.final:verify_command",
                          "Re-read and re-score every submission, check the snapshot and the action log; "
                          "exit 1 on any difference.", _FINAL),
    "rescore": LazyCommand("server.cli.final:rescore_command",
                           "Score submissions again (before the freeze), keeping old scores in history; "
                           "reports rank changes.", _FINAL),
    "requeue": LazyCommand("server.cli.console:requeue_command",
                           "Queue a failed submission for scoring again (before the freeze).", _FINAL),
    "log": LazyCommand("server.cli.console:log_command",
                       "Show the action log and check its hash chain; exit 1 if it is broken.", _FINAL),
    "submit": LazyCommand("server.cli.client:submit_command",
                          "Upload a prediction CSV (optionally gzip) for scoring, or a code competition's submit.zip.",
                          _CLIENT, app=False),
    "run-code": LazyCommand("codecomp.cli:run_code_command",
                            "Unpack SUBMIT_ZIP, install its requirements, run script.py in the sandbox and print the "
                            "outcome.", _CLIENT, app=False),
    "score": LazyCommand("scoring.cli:score_command",
                         "Score PREDICTIONS (CSV, optionally gzip; '-' reads stdin) and print the public and "
                         "private scores.", _CLIENT, app=False),
    "datasets": LazyCommand("datasets.cli:datasets_group",
                            "Generate the bundled tasks' synthetic data (train, test, sample submission, "
                            "hidden labels).", _CLIENT, app=False),
    "baseline": LazyCommand("datasets.cli:baseline_command",
                            "Train a scikit-learn baseline on TASK's train.csv and write predictions for test.csv.",
                            _CLIENT, app=False),
}


def _create_app() -> Any:
    from server import create_app

    return create_app()


def _known_failure(exc: Exception) -> tuple[str, str] | None:
    """(code, message) of an error the user can fix, else None (a bug: let the traceback show)."""
    from server.errors import AppError, ConfigError

    if isinstance(exc, AppError):
        return exc.code, exc.message
    if isinstance(exc, ConfigError):
        return "config", str(exc)
    redis = sys.modules.get("redis")  # only a command that imported it can raise its errors
    if redis is not None and isinstance(exc, redis.RedisError):
        return "queue_unreachable", f"queue unreachable: {exc}"
    return None


class HackathonGroup(LazyGroup):
    """The root group: server commands get the app's ScriptInfo; fixable errors become one line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Remember the command line as given (sys.argv is not it under a test runner).
        ctx.meta["hackathon.args"] = list(args)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        entry = self.lazy_commands.get(name or "")
        if entry is not None and entry.app and ctx.obj is None:
            # What Flask's with_appcontext (AppGroup) loads the app from; built only when a command runs.
            from flask.cli import ScriptInfo

            ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False)
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            failure = _known_failure(exc)
            if failure is None:
                raise
            code, message = failure
            if ctx.params.get("as_json") or "--json" in ctx.meta.get("hackathon.args", sys.argv):
                click.echo(json.dumps({"error": code, "message": message}, ensure_ascii=False))
            else:
                click.echo(f"Error: {message}", err=True)
            ctx.exit(2)


@click.group("hackathon", cls=HackathonGroup, lazy_commands=COMMANDS)
@click.version_option(package_name=DISTRIBUTION, prog_name="hackathon",
                      message="%(prog)s %(version)s (LG AI Hackathon competition server)")
def cli() -> None:
    """hackathon: the LG AI Hackathon competition server, and the teams' tools.

    Organizers and judges run the server's commands where the instance lives: its state is under
    HACKATHON_HOME (default ./instance); start with `hackathon init`. Teams need only `submit`
    (and `score`, `datasets`, `baseline` offline).
    """


def register_commands() -> click.Group:
    """Import every command now (the group otherwise imports each when it runs); return the group."""
    for name in COMMANDS:
        cli.get_command(None, name)
    return cli


def main() -> None:
    cli.main(prog_name="hackathon")
