"""Cell-level rules shared by task validation, labels and submissions: what a valid value is."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "BOOLEAN_CLASSES",
    "ClassLookup",
    "KINDS",
    "parse_boolean",
    "parse_float",
    "show",
]

# The target kinds a task may declare, in the order the error messages list them.
KINDS = ("number", "probability", "class", "boolean")

# A boolean target is a class target with these two classes: False is code 0, True is code 1.
BOOLEAN_CLASSES = ("False", "True")

_BOOLEAN_WORDS = {"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}

# Characters trimmed around a value, as pyarrow's CSV reader trims numbers.
_PAD = " \t"


def show(value: str, limit: int = 40) -> str:
    """Quote a cell for a message, shortened to `limit` characters."""
    if len(value) > limit:
        return repr(value[:limit])[:-1] + "…'"
    return repr(value)


def parse_float(text: str) -> float | None:
    """Parse a decimal number written in ASCII (nan and inf included); None if it is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    # float() also accepts '1_000' and non-ASCII digits; a CSV number never has them.
    if "_" in text or not text.isascii():
        return None
    return value


def parse_boolean(text: str) -> int | None:
    """Return 1 for True/true/1, 0 for False/false/0 (any case, trimmed); None otherwise."""
    return _BOOLEAN_WORDS.get(text.strip(_PAD).lower())


class ClassLookup:
    """Map a cell to the index of its class: exact text (trimmed), or equal number for numeric classes."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = tuple(classes)
        self._exact = {c: i for i, c in enumerate(self.classes)}
        numbers = [parse_float(c) for c in self.classes]
        # Numeric classes (0/1/2) also accept '1.0' and ' 1': compare as numbers then.
        self._numeric: dict[float, int] | None = None
        if all(v is not None and math.isfinite(v) for v in numbers):
            self._numeric = {v: i for i, v in enumerate(numbers) if v is not None}
        self._folded = {c.casefold(): c for c in self.classes}

    def __call__(self, text: str) -> int | None:
        code = self._exact.get(text)
        if code is not None:
            return code
        trimmed = text.strip(_PAD)
        code = self._exact.get(trimmed)
        if code is not None or self._numeric is None:
            return code
        value = parse_float(trimmed)
        return None if value is None else self._numeric.get(value)

    def hint(self, text: str) -> str:
        """Return a short hint for a near miss (wrong case), or ''."""
        near = self._folded.get(text.strip(_PAD).casefold())
        return f" (did you mean {near!r}? classes are case-sensitive)" if near else ""

    def describe(self) -> str:
        """List the classes for a message."""
        return ", ".join(self.classes)
