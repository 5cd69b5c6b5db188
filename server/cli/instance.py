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
def worker_command(burst: bool, log_level: str) -> None:
    """Run an RQ worker for the scoring queue."""
    from server.serve import prepare_process, run_worker, serve_worker_metrics

    prepare_process(runtime(), clean_metrics=False)
    if runtime().config["WORKER_METRICS_PORT"]:
        serve_worker_metrics(runtime().config["WORKER_METRICS_PORT"])
    run_worker(runtime(), burst=burst, log_level=log_level)


@commands.command("reconcile")
@json_option
def reconcile_command(as_json: bool) -> None:
    """Re-queue submissions whose scoring job was lost."""
    from server.queue import reconcile

    report = reconcile(runtime())
    emit(as_json, report.to_dict(),
         f"checked {report.checked} pending submissions; requeued {len(report.requeued)}; failed {len(report.failed)}")
