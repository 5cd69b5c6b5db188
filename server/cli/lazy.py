"""A click group that imports each subcommand's module only when that command runs.

After click's documentation, "Lazily Loading Subcommands": `hackathon submit` must not pay for
Flask, SQLAlchemy or pandas, which the organizer commands' modules import. The group also lists
its commands, in sections, from the short help recorded with each entry, so `hackathon --help`
imports none of them (tests/server/test_cli_package.py checks the recorded help against each
command's own).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives ("module:attribute"), its one-line help and its help section.

    `app` commands run against the server's instance (Flask app, database, queue); the others
    are the teams' client commands, which must start without any of that.
    """

    target: str
    help: str
    section: str
    app: bool = True


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self._import(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def _import(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_commands[cmd_name].target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands by section without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        # Sections in the order of the entries, commands sorted by name within each.
        sections: dict[str, list[tuple[str, str]]] = {e.section: [] for e in self.lazy_commands.values()}
        for name in names:
            entry = self.lazy_commands.get(name)
            if entry is not None:
                sections.setdefault(entry.section, []).append((name, _shorten(entry.help, limit)))
            else:
                command = self.commands[name]
                if not command.hidden:
                    sections.setdefault("Commands", []).append((name, command.get_short_help_str(limit)))
        for section, rows in sections.items():
            if not rows:
                continue
            with formatter.section(section):
                formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with "..." as click does for a command's short help."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 1)].rsplit(" ", 1)[0] + "..."
