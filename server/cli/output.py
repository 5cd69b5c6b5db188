"""Output helpers shared by every command (click and json only: client commands import this too)."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["emit", "json_option"]


def emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    """Print one JSON object (--json) or a line for people."""
    click.echo(json.dumps(data, ensure_ascii=False, allow_nan=False) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
