"""Instance commands: init, serve, worker, reconcile."""

from __future__ import annotations

import click
from flask import current_app

from server.cli.app import ServerGroup, init_database, runtime
from server.cli.output import emit, json_option

# Holds this module's top-level commands; server/cli/__init__.py registers each by name.
commands = ServerGroup("instance")


@commands.command("init", needs_instance=False)
@json_option
def init_command(as_json: bool) -> None:
    """Create or migrate the database."""
    rt = runtime()
    init_database(rt)
    emit(as_json, {"home": str(rt.home), "database": rt.engine.url.render_as_string(hide_password=True)},
         f"database ready at {rt.engine.url.render_as_string(hide_password=True)} (instance {rt.home})")


@commands.command("serve", needs_instance=False)
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option("--workers", default=None, type=int, help="Embedded scoring workers (no REDIS_URL only).")
def serve_command(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web server; with no REDIS_URL, also an embedded queue and workers."""
    from server.serve import prepare_process, serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    prepare_process(runtime(), clean_metrics=True)
    init_database(runtime())
    serve(app, host=host or app.config["HOST"], port=port or app.config["PORT"], workers=workers)


@commands.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="Worker log level.")
@click.option("--queue", "queue_kind", default="scoring", show_default=True, type=click.Choice(["scoring", "code"]),
              help="scoring: CSV uploads; code: code competitions' submit.zip runs (needs bubblewrap).")
def worker_command(burst: bool, log_level: str, queue_kind: str) -> None:
    """Run an RQ worker for the scoring queue (or, with --queue code, the code queue)."""
    from scoring._threads import single_threaded
    from server.serve import prepare_process, run_worker, serve_worker_metrics

    single_threaded()  # one of as many workers as cores: its own threads would only compete with them
    prepare_process(runtime(), clean_metrics=False, log_level=log_level)
    if runtime().config["WORKER_METRICS_PORT"]:
        serve_worker_metrics(runtime().config["WORKER_METRICS_PORT"])
    run_worker(runtime(), burst=burst, log_level=log_level, queue=queue_kind)


@commands.command("reconcile")
@json_option
def reconcile_command(as_json: bool) -> None:
    """Re-queue submissions whose scoring job was lost."""
    from server.queue import reconcile

    report = reconcile(runtime())
    emit(as_json, report.to_dict(),
         f"checked {report.checked} pending submissions; requeued {len(report.requeued)}; failed {len(report.failed)}")


@commands.command("queue")
@json_option
def queue_command(as_json: bool) -> None:
    """Show the queue: submissions by status, the oldest waiting, workers alive, recent failures."""
    from server.services.queue_status import queue_dashboard

    board = queue_dashboard(runtime())
    lines = [f"{c['competition']:<20} " + "  ".join(f"{k} {v}" for k, v in c["counts"].items())
             for c in board["competitions"]]
    oldest = board["oldest_waiting"]
    lines.append(f"oldest waiting: {oldest['id']} ({oldest['competition']}, {oldest['team']}), "
                 f"{oldest['age_seconds']:.0f} s" if oldest else "oldest waiting: none")
    if board["workers"] is None:
        lines.append(f"workers: queue {board['queue']}")
    else:
        lines.append(f"workers: {len(board['workers'])}, jobs waiting: {board['jobs_waiting']}")
        lines += [f"  {w['name']} {w['host']} pid {w['pid']} {w['state']}"
                  f"{' scoring ' + w['submission_id'] if w['submission_id'] else ''}"
                  f"{' verify run ' + str(w['verification_id']) if w['verification_id'] else ''}"
                  for w in board["workers"]]
    lines += [f"failed {f['id']} ({f['competition']}, {f['team']}): {f['reason']}" for f in board["failed"]]
    emit(as_json, board, "\n".join(lines))
