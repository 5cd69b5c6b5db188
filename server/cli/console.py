"""Console commands beside the API: `hackathon requeue` (a failed submission) and `hackathon log`
(the action log with its hash chain checked)."""

from __future__ import annotations

import click

from server.caller import Caller, Role
from server.cli.app import CLI_ACTOR, ServerGroup, runtime
from server.cli.output import emit, json_option

# Holds this module's top-level commands; server/cli/__init__.py registers each by name.
commands = ServerGroup("console")

# The shell on the server is the organizers' (as every server command).
_CLI_CALLER = Caller(Role.ORGANIZER, CLI_ACTOR)


@commands.command("requeue")
@click.argument("submission_id")
@json_option
def requeue_command(submission_id: str, as_json: bool) -> None:
    """Queue a failed submission for scoring again (before the freeze)."""
    from server.services.submission_console import requeue_failed

    sub = requeue_failed(runtime(), submission_id, _CLI_CALLER, actor=CLI_ACTOR)
    emit(as_json, {"id": sub.id, "status": sub.status}, f"{sub.id} queued for scoring again")


@commands.command("log")
@click.option("--competition", "slug", help="Only this competition's entries (the chain is checked whole).")
@json_option
def log_command(slug: str | None, as_json: bool) -> None:
    """Show the action log and check its hash chain; exit 1 if it is broken."""
    from server.services.actionlog_view import action_log_view

    view = action_log_view(runtime(), _CLI_CALLER, slug)
    lines = [f"{e['id']:>6}  {e['created_at']}  {e['actor']}  {e['action']}"
             f"{'  ' + e['competition'] if e['competition'] else ''}" for e in view["entries"]]
    lines.append(f"hash chain: ok ({view['entries_checked']} entries)" if view["chain_ok"] else
                 f"hash chain BROKEN: {view['first_broken']['message']}")
    emit(as_json, view, "\n".join(lines))
    if not view["chain_ok"]:
        click.get_current_context().exit(1)
