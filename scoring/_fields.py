"""The columns a reader extracts (`Field`) and the rule each kind of cell must follow."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scoring._values import BOOLEAN_CLASSES, ClassLookup, parse_boolean, parse_float
from scoring.split import usage_is_public

__all__ = ["NUMBER_PATTERN", "Field", "lookup", "number_value", "spellings"]

# The ASCII whitespace that Python's float() strips around a number.
WHITESPACE = "\t\n\x0b\x0c\r "
_WS = r"[\t\n\x0b\x0c\r ]"
# Exactly the ASCII texts that float() accepts as a finite-looking decimal (nan/inf excluded).
NUMBER_PATTERN = rf"^{_WS}*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_WS}*$"


@dataclass(frozen=True)
class Field:
    """A column to read and check: number | probability | class | boolean | text | usage."""

    name: str
    kind: str
    classes: tuple[str, ...] = ()

    @property
    def is_float(self) -> bool:
        return self.kind in ("number", "probability")

    @property
    def is_coded(self) -> bool:
        """Return whether cells must be one of fixed values (class, boolean, usage)."""
        return self.kind in ("class", "boolean", "usage")


def number_value(text: str, probability: bool) -> float | None:
    """Return the value of a valid cell of a number (or probability) column, else None."""
    value = parse_float(text)
    if value is None or not math.isfinite(value) or (probability and not 0.0 <= value <= 1.0):
        return None
    return value


def lookup(f: Field) -> Callable[[str], int | None]:
    """Return the function from a cell to its code for a coded field (None: invalid)."""
    if f.kind == "class":
        return ClassLookup(f.classes)
    if f.kind == "boolean":
        return parse_boolean
    if f.kind == "usage":
        return lambda s: None if (v := usage_is_public(s)) is None else int(v)
    raise ValueError(f"field {f.name!r} of kind {f.kind!r} has no fixed codes")


def spellings(f: Field) -> tuple[str, ...]:
    """Return the usual text of each code of a coded field, in code order."""
    if f.kind == "class":
        return f.classes
    if f.kind == "boolean":
        return BOOLEAN_CLASSES
    return ("Private", "Public")
