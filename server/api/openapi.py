"""Anyone: the OpenAPI 3.1 document of this API (one source: openapi.yaml beside this module)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

__all__ = ["DOCUMENT_PATH", "bp", "load_document"]

DOCUMENT_PATH = Path(__file__).with_name("openapi.yaml")

bp = Blueprint("openapi", __name__)


@functools.cache
def _parsed() -> dict[str, Any]:
    with DOCUMENT_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_document() -> dict[str, Any]:
    """Return the document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_parsed())


@bp.get("/api/v1/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(_parsed())
