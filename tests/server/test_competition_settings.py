"""Competition settings: flag → task.toml [defaults] → HACKATHON_<KEY> → built-in, for every key,
through `hackathon competition create --json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.config import DEFAULTS
from server.services.competition_defaults import SETTING_KEYS
from tests.server.conftest import TINY_TASK, Env, tiny_labels
from tests.server.test_cli import _run

TASK_WITHOUT_DEFAULTS = TINY_TASK.split("[defaults]")[0]

# key: (flag value, task.toml value, HACKATHON_<KEY> value, the JSON field, JSON value of each source)
CASES: dict[str, tuple[str, str, str, str, Callable[[Any], Any]]] = {
    "timezone": ("Europe/Paris", '"America/New_York"', "Europe/London", "timezone", str),
    "daily_limit": ("9", "8", "7", "daily_limit", int),
    "total_limit": ("9", "8", "7", "total_limit", int),
    "max_final": ("9", "8", "7", "max_final", int),
    "precision": ("9", "8", "7", "precision", int),
    "public_fraction": ("0.6", "0.5", "0.4", "public_fraction", float),
    "max_upload_mb": ("9", "8", "7.5", "max_upload_bytes", lambda mb: int(float(mb) * 1_000_000)),
    "public_feedback": ("ladder", '"exact"', "rounded", "public_feedback", str),
}
BUILTIN = {"timezone": "Asia/Seoul", "daily_limit": 3, "total_limit": None, "max_final": 2, "precision": 6,
           "public_fraction": 0.3, "max_upload_bytes": 100_000_000, "public_feedback": "exact"}


def _task(env: Env, name: str, toml: str) -> tuple[Path, Path]:
    folder = env.tmp / name
    folder.mkdir(exist_ok=True)
    (folder / "task.toml").write_text(toml, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    return folder, folder / "labels.csv"


def _create(env: Env, folder: Path, labels: Path, slug: str, *flags: str) -> dict[str, Any]:
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels),
                     "--slug", slug, "--json", *flags)
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def test_every_key_is_in_the_table_and_in_the_instance_configuration() -> None:
    assert set(CASES) == set(SETTING_KEYS)
    assert all(key.upper() in DEFAULTS for key in SETTING_KEYS)


@pytest.mark.parametrize("key", list(CASES))
def test_flag_beats_task_default_beats_instance_config(key: str, make_env: Callable[..., Env],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    flag, task_value, config_value, field, expect = CASES[key]
    monkeypatch.setenv(f"HACKATHON_{key.upper()}", config_value)
    env = make_env()
    with_default = _task(env, "with", TASK_WITHOUT_DEFAULTS + f"[defaults]\n{key} = {task_value}\n")
    without = _task(env, "without", TASK_WITHOUT_DEFAULTS)
    option = "--" + key.replace("_", "-")
    assert _create(env, *with_default, "by-flag", option, flag)[field] == expect(flag)
    assert _create(env, *with_default, "by-task")[field] == expect(task_value.strip('"'))
    assert _create(env, *without, "by-config")[field] == expect(config_value)


def test_built_in_defaults_when_nothing_else_is_set(env: Env) -> None:
    data = _create(env, *_task(env, "bare", TASK_WITHOUT_DEFAULTS), "bare")
    assert {field: data[field] for field in BUILTIN} == BUILTIN
    # The task's own zone reads a start without an offset.
    folder, labels = _task(env, "ny", TASK_WITHOUT_DEFAULTS + '[defaults]\ntimezone = "America/New_York"\n')
    data = _create(env, folder, labels, "new-york", "--start", "2026-07-01T10:00", "--end", "2026-08-01T10:00")
    assert data["start_at"] == "2026-07-01T14:00:00Z" and data["start_at_local"] == "2026-07-01T10:00:00-04:00"


def test_a_flag_of_zero_total_limit_clears_the_task_default(env: Env) -> None:
    folder, labels = _task(env, "limited", TASK_WITHOUT_DEFAULTS + "[defaults]\ntotal_limit = 5\n")
    assert _create(env, folder, labels, "unlimited", "--total-limit", "0")["total_limit"] is None


def test_bad_values_name_their_source(env: Env, make_env: Callable[..., Env],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder, labels = _task(env, "mars", TASK_WITHOUT_DEFAULTS + '[defaults]\ntimezone = "Mars/Olympus"\n')
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels), "--json")
    assert code == 2
    assert json.loads(out)["message"] == ("timezone from the task's task.toml [defaults] must be an IANA time zone "
                                          "such as Asia/Seoul, found 'Mars/Olympus'")
    folder, labels = _task(env, "plain", TASK_WITHOUT_DEFAULTS)
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels),
                     "--max-upload-mb", "0")
    assert code == 2 and "max_upload_mb from the organizer's settings must be a number of megabytes" in out
    from server.errors import ConfigError

    monkeypatch.setenv("HACKATHON_PRECISION", "13")
    with pytest.raises(ConfigError, match="PRECISION from environment HACKATHON_PRECISION must be a whole number"):
        make_env()


def test_the_readme_lists_every_key_with_its_built_in_and_configuration_key() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`").split()[0]: line for line in readme.splitlines()
            if line.startswith("| `") and "HACKATHON_" in line}
    for key in SETTING_KEYS:
        builtin = str(DEFAULTS[key.upper()])
        assert key in rows and f"`HACKATHON_{key.upper()}`" in rows[key] and builtin in rows[key], key


def test_rounded_mode_shows_five_decimals_unless_the_organizer_sets_precision(env: Env) -> None:
    folder, labels = _task(env, "rounded", TASK_WITHOUT_DEFAULTS + "[defaults]\nprecision = 6\n")
    data = _create(env, folder, labels, "rounded-default", "--public-feedback", "rounded")
    assert (data["public_feedback"], data["precision"]) == ("rounded", 5)
    data = _create(env, folder, labels, "rounded-seven", "--public-feedback", "rounded", "--precision", "7")
    assert data["precision"] == 7
    code, out = _run(env, "competition", "update", "rounded-default", "--public-feedback", "ladder", "--json")
    assert code == 0 and json.loads(out)["public_feedback"] == "ladder"
    code, out = _run(env, "competition", "create", "--task", str(folder), "--labels", str(labels),
                     "--slug", "bad-mode", "--public-feedback", "secret")
    assert code == 2 and "'secret' is not one of 'exact', 'rounded', 'ladder'" in out
