"""What the server's commands share: the group class, the instance's Runtime and the instance check.

Imported only by server commands (it imports Flask); client commands use server.cli.output.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from server.errors import AppError
from server.runtime import Runtime

__all__ = ["CLI_ACTOR", "InstanceNotReady", "ServerGroup", "check_instance", "init_database", "runtime"]

# The actor recorded in the action log for changes made from the command line.
CLI_ACTOR = "cli"


def runtime() -> Runtime:
    return current_app.extensions["hackathon"]  # type: ignore[no-any-return]


def init_database(rt: Runtime) -> None:
    from server.migrate import upgrade

    rt.storage.ensure_folders()
    upgrade(rt.engine)


class InstanceNotReady(AppError):
    """The command needs an initialised instance and found none (shown as one line, exit 2)."""

    code = "instance_not_ready"


def check_instance(rt: Runtime) -> None:
    """Raise InstanceNotReady unless the instance's database exists and `hackathon init` has run.

    Checked before any query so that a wrong HACKATHON_HOME gives one line saying what to do,
    not a database traceback (and so that SQLite does not create an empty database file).
    """
    url = rt.engine.url
    shown = url.render_as_string(hide_password=True)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not Path(str(url.database)).exists():
        raise InstanceNotReady(
            f"no hackathon instance at {rt.home} (no database file {url.database}): set HACKATHON_HOME "
            "to your instance's folder, or run `hackathon init` to create one there", code="no_instance")
    try:
        with rt.engine.connect() as connection:
            initialised = sa.inspect(connection).has_table("alembic_version")
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise InstanceNotReady(f"cannot open the database {shown}: {reason}; check DATABASE_URL and HACKATHON_HOME",
                               code="database_unreachable") from None
    if not initialised:
        raise InstanceNotReady(
            f"the database {shown} of instance {rt.home} is not initialised: run `hackathon init` first, "
            "or set HACKATHON_HOME (or DATABASE_URL) to your instance", code="not_initialised")


def _requires_instance(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_instance(runtime())
        return f(*args, **kwargs)

    return checked


class ServerGroup(AppGroup):
    """Flask's AppGroup (its commands run in the app context) whose commands first check the instance.

    `needs_instance=False` is for the commands that create or migrate it (init, serve, demo).
    Subgroups are ServerGroups too.
    """

    def command(self, *args: Any, needs_instance: bool = True,  # type: ignore[override]
                **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
        register = super().command(*args, **kwargs)

        def decorator(f: Callable[..., Any]) -> click.Command:
            return register(_requires_instance(f) if needs_instance else f)

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]:  # type: ignore[override]
        kwargs.setdefault("cls", ServerGroup)
        return super().group(*args, **kwargs)
