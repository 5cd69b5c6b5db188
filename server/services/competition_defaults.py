"""Competition settings: where each value of a new competition comes from, in one order.

    the organizer's value (command line / API)  →  the task's task.toml [defaults]
    →  the instance configuration (HACKATHON_<KEY>)  →  the built-in default

The built-in defaults are the instance configuration's defaults (server/config.py DEFAULTS), so
the last two steps are one lookup in the loaded configuration. Every value, whatever its source,
passes the same check; an error names the source, what was expected and what was found.
The README's "Competition settings: where each value comes from" lists this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["PUBLIC_FEEDBACK_MODES", "ROUNDED_PRECISION", "Setting", "SETTINGS", "SETTING_KEYS", "resolve", "check", "coerce", "default_help"]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_zone(v: object) -> bool:
    if not isinstance(v, str) or not v.strip():
        return False
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# exact: every public score to `precision` decimals; rounded: the same with fewer decimals;
# ladder: a team sees only its Ladder value (scoring.ladder), never a submission's public score.
PUBLIC_FEEDBACK_MODES = ("exact", "rounded", "ladder")


@dataclass(frozen=True)
class Setting:
    """One competition setting: its name (flag, task.toml key, API field) and its check."""

    key: str
    kind: type  # what an environment string is read as: int, float or str
    valid: Callable[[Any], bool]
    expected: str
    meaning: str

    @property
    def config_key(self) -> str:
        """The instance configuration key; the environment sets it as HACKATHON_<KEY>."""
        return self.key.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("timezone", str, _is_zone, "an IANA time zone such as Asia/Seoul",
            "zone for display, daily limits and times given without an offset"),
    Setting("daily_limit", int, lambda v: _is_int(v) and v >= 1, "a whole number >= 1",
            "counted submissions per team per local day"),
    Setting("total_limit", int, lambda v: _is_int(v) and v >= 0, "a whole number >= 0 (0: no limit)",
            "counted submissions per team over the whole competition"),
    Setting("max_final", int, lambda v: _is_int(v) and v >= 1, "a whole number >= 1",
            "final picks per team"),
    Setting("precision", int, lambda v: _is_int(v) and 0 <= v <= 12, "a whole number of decimals from 0 to 12",
            "decimals shown and ranked"),
    Setting("public_fraction", float, lambda v: _is_number(v) and 0 < v < 1,
            "a number between 0 and 1 (exclusive)", "share of rows on the public board (labels without Usage)"),
    Setting("max_upload_mb", float, lambda v: _is_number(v) and 0 < v <= 10_000,
            "a number of megabytes in (0, 10000]", "largest accepted upload"),
    Setting("public_feedback", str, lambda v: v in PUBLIC_FEEDBACK_MODES, "one of exact, rounded, ladder",
            "what teams see of public scores: exact, fewer digits, or the Ladder"),
)
SETTING_KEYS = tuple(s.key for s in SETTINGS)
# Decimals shown in `rounded` mode when the organizer gives no precision (fewer than exact's 6).
ROUNDED_PRECISION = 5
_BY_KEY = {s.key: s for s in SETTINGS}


def check(key: str, value: Any, source: str) -> str | None:
    """Return an error message if `value` is not valid for `key`, naming `source`; else None."""
    setting = _BY_KEY[key]
    if setting.valid(value):
        return None
    return f"{key} from {source} must be {setting.expected}, found {value!r}"


def coerce(key: str, raw: Any) -> Any:
    """Read an environment string as the setting's type (other values are returned as they are)."""
    kind = _BY_KEY[key].kind
    if not isinstance(raw, str) or kind is str:
        return raw
    try:
        return kind(raw.strip())
    except ValueError:
        return raw  # the check then reports it as found


def resolve(given: Mapping[str, Any], task_defaults: Mapping[str, Any], config: Mapping[str, Any],
            fail: Callable[[str], Exception]) -> dict[str, Any]:
    """Every setting's value for a new competition, in the documented order, checked.

    `given`: the organizer's values (None = not given); `config`: the loaded instance
    configuration, which already holds the built-in default of every key nobody set.
    Raises `fail(message)` for the first invalid value.
    """
    values: dict[str, Any] = {}
    for s in SETTINGS:
        if given.get(s.key) is not None:
            value, source = given[s.key], "the organizer's settings"
        elif task_defaults.get(s.key) is not None:
            value, source = task_defaults[s.key], "the task's task.toml [defaults]"
        else:
            value, source = config[s.config_key], f"the instance configuration (HACKATHON_{s.config_key})"
        problem = check(s.key, value, source)
        if problem:
            raise fail(problem)
        values[s.key] = value
    if values["public_feedback"] == "rounded" and given.get("precision") is None:
        values["precision"] = min(values["precision"], ROUNDED_PRECISION)
    return values


def default_help(key: str) -> str:
    """The option help's tail: where the value comes from when the flag is not given."""
    from server.config import DEFAULTS

    builtin = DEFAULTS[_BY_KEY[key].config_key]
    return f"Default: the task's [defaults], else HACKATHON_{key.upper()}, else {builtin}."
