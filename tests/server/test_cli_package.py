"""The `hackathon` group itself: this project's name and version, one registry, lazy imports.

Run as real processes (`python -m server` is the console script's `server.cli:main`).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from server.cli import COMMANDS, cli, register_commands
from server.cli.app import ServerGroup

HACKATHON = [sys.executable, "-m", "server"]
SERVER_CLI = Path(__file__).resolve().parents[2] / "server" / "cli"

# What a team's commands must not load: the server's stack and the scorer's.
HEAVY = ("flask", "werkzeug", "sqlalchemy", "alembic", "rq", "redis", "pandas", "numpy", "pyarrow", "sklearn")

# Every command name (SPEC §3, README): none may go, none may appear unlisted.
NAMES = {"init", "serve", "worker", "reconcile", "demo", "competition", "team", "token", "freeze", "publish",
         "award", "verification", "eligibility", "audit", "verify", "rescore", "submit", "score", "datasets",
         "baseline", "run-code", "code-data", "queue", "requeue", "log"}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HACKATHON, *args], check=False, capture_output=True, text=True, timeout=120,
                          env=env or dict(os.environ))


def test_version_and_help_name_this_project() -> None:
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hackathon {version('lg-hackathon-server')} (LG AI Hackathon competition server)"
    help_text = _run("--help").stdout
    assert help_text.startswith("Usage: hackathon [OPTIONS] COMMAND")
    assert "LG AI Hackathon competition server" in help_text
    assert "Flask" not in help_text and "--app" not in help_text  # none of FlaskGroup's options
    assert all(f"  {name} " in help_text for name in NAMES)


@pytest.mark.parametrize("args", [("submit", "--help"), ("score", "--help"), ("--help",), ("--version",),
                                  ("submit", "--server", "127.0.0.1:9", "--token", "t", "--competition", "c",
                                   "pyproject.toml")])
def test_client_commands_load_no_server_or_scorer_code(args: tuple[str, ...]) -> None:
    script = ("import sys\nfrom server.cli import main\nsys.argv = ['hackathon', *sys.argv[1:]]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", script, *args], check=False, capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert "LOADED []" in result.stderr, result.stderr[-2000:]


def test_every_command_is_registered_once_with_its_own_help() -> None:
    assert set(COMMANDS) == NAMES
    register_commands()
    for name, entry in COMMANDS.items():
        command = cli.commands[name]
        assert command.name == name
        # `hackathon --help` shows the recorded help without importing the command: it must be the command's.
        assert command.get_short_help_str(limit=10_000) == entry.help, name
        # Server commands are made by a ServerGroup (Flask's AppGroup: run in the app context); client ones not.
        container = getattr(importlib.import_module(entry.target.split(":")[0]), "commands", None)
        made_by_server_group = isinstance(command, ServerGroup) or (
            isinstance(container, ServerGroup) and container.commands.get(name) is command)
        assert entry.app == made_by_server_group, name


def test_command_modules_do_not_import_the_root_group() -> None:
    """The root imports the command modules (lazily); they import only server.cli.app/output: no cycle."""
    for path in SERVER_CLI.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "server.cli", f"{path.name} imports from server.cli"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = _run("nope")
    assert result.returncode == 2 and "No such command 'nope'" in result.stderr


def test_json_error_of_a_server_command_is_one_object(tmp_path: Path) -> None:
    env = dict(os.environ, HACKATHON_HOME=str(tmp_path / "missing"), HACKATHON_JOB_TIMEOUT="abc")
    result = _run("reconcile", "--json", env=env)
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "error": "config", "message": "JOB_TIMEOUT from environment HACKATHON_JOB_TIMEOUT must be a whole number, "
                                      "found 'abc'"}
