"""Task definitions: read and validate `task.toml` (see docs/design.md for the format).

Every error is a `TaskSpecError` naming the file (or the label the caller gave the text), the key
and what was expected and found. Array entries are numbered from 1: `targets[2].kind` is the
`kind` of the second [[targets]] table.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoring._values import BOOLEAN_CLASSES, KINDS, parse_float
from scoring.errors import TaskSpecError, UnknownMetricError
from scoring.metrics import Metric, ParamError, bind_params, get_metric

__all__ = ["CODE_LIMITS", "DEFAULTS", "CodeSpec", "Target", "Task", "load_task", "parse_task"]

# Column name reserved for the public/private assignment in the hidden labels file.
USAGE_COLUMN = "Usage"

# [defaults] keys: (check, what the message says is expected).
DEFAULTS: dict[str, tuple[Any, str]] = {
    "daily_limit": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "total_limit": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "max_final": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "precision": (lambda v: _is_int(v) and 0 <= v <= 12, "a whole number of decimals from 0 to 12"),
    "public_fraction": (lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1 (exclusive)"),
    "max_upload_mb": (lambda v: _is_number(v) and v > 0, "a number of megabytes > 0"),
    "timezone": (lambda v: isinstance(v, str) and bool(v.strip()), "an IANA time zone name such as 'Asia/Seoul'"),
    "public_feedback": (lambda v: v in ("exact", "rounded", "ladder"), "one of 'exact', 'rounded', 'ladder'"),
}

_TASK_KEYS = {"slug", "title_ko", "title_en", "description_ko", "description_en", "id_column", "kind",
              "cluster_column"}
_REQUIRED_TASK_KEYS = ("slug", "title_ko", "title_en", "id_column")
_TABLES = ("task", "metric", "targets", "defaults", "code")
KINDS_OF_TASK = ("csv", "code")

# [code] limits of a code competition (kind = "code"): key -> (default, smallest allowed, unit).
CODE_LIMITS: dict[str, tuple[int, int, str]] = {
    "install_seconds": (600, 1, "seconds"),
    "inference_seconds": (600, 1, "seconds"),
    "memory_mb": (4096, 64, "megabytes"),
    "cpus": (2, 1, "CPUs"),
    "processes": (64, 4, "processes"),
    "zip_bytes": (200_000_000, 1_000, "bytes"),
    "unpacked_bytes": (1_000_000_000, 1_000, "bytes"),
    "files": (10_000, 1, "files"),
    "output_bytes": (200_000_000, 1_000, "bytes"),
}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Target:
    """One submission column to predict: its name, kind and (kind 'class') allowed labels."""

    name: str
    kind: str  # number | probability | class | boolean
    classes: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        """Return the classes whose indices are the codes: ('False', 'True') for a boolean target."""
        return BOOLEAN_CLASSES if self.kind == "boolean" else self.classes

    @property
    def is_numeric(self) -> bool:
        """Return whether values are floats (number, probability) rather than class codes."""
        return self.kind in ("number", "probability")


@dataclass(frozen=True)
class CodeSpec:
    """The [code] table of a code competition: limits and the hidden test feature files.

    `test_features` are file names in the organizer's data folder; the sandbox shows them to the
    team's script.py read-only as data/<name>. Limits are whole numbers in the units of CODE_LIMITS.
    """

    test_features: tuple[str, ...] = ("test.csv",)
    install_seconds: int = 600
    inference_seconds: int = 600
    memory_mb: int = 4096
    cpus: int = 2
    processes: int = 64
    zip_bytes: int = 200_000_000
    unpacked_bytes: int = 1_000_000_000
    files: int = 10_000
    output_bytes: int = 200_000_000

    def to_dict(self) -> dict[str, Any]:
        return {"test_features": list(self.test_features), **{k: getattr(self, k) for k in CODE_LIMITS}}


@dataclass(frozen=True)
class Task:
    """A validated task.toml."""

    slug: str
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    id_column: str
    targets: tuple[Target, ...]
    metric: str
    metric_params: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    kind: str = "csv"  # "csv": teams upload predictions; "code": teams upload submit.zip (see code)
    code: CodeSpec | None = None
    # A labels column whose rows are resampled together by the rank-confidence bootstrap.
    cluster_column: str | None = None

    @property
    def target_names(self) -> list[str]:
        """Return the target column names in task order."""
        return [t.name for t in self.targets]

    @property
    def columns(self) -> list[str]:
        """Return the submission columns: the id column, then the targets."""
        return [self.id_column, *self.target_names]

    @property
    def group_column(self) -> str | None:
        """Return the labels column that groups rows for the metric (PSFA), if any."""
        param = get_metric(self.metric).group_param
        return None if param is None else str(self.metric_params[param])

    def get_metric(self) -> Metric:
        """Return the task's metric from the registry."""
        return get_metric(self.metric)

    def metric_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments for the metric function (class labels as codes)."""
        first = self.targets[0]
        return bind_params(self.get_metric(), self.metric_params, n_targets=len(self.targets),
                           kind=first.kind, classes=first.classes)


def load_task(path: str | os.PathLike[str]) -> Task:
    """Read and validate a task from its folder (containing task.toml) or the toml file itself.

    Raises:
        TaskSpecError: the file is missing, unreadable or invalid.
    """
    p = Path(path)
    toml_path = p / "task.toml" if p.is_dir() else p
    try:
        text = toml_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise TaskSpecError("no such file (expected a task folder with task.toml, or the toml file)",
                            str(toml_path)) from None
    except UnicodeDecodeError as exc:
        raise TaskSpecError(f"not UTF-8: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}",
                            str(toml_path)) from None
    except OSError as exc:
        raise TaskSpecError(f"cannot read: {exc.strerror}", str(toml_path)) from None
    return parse_task(text, str(toml_path))


def parse_task(text: str, source: str) -> Task:
    """Validate task.toml text; `source` names it in errors (a path, or e.g. 'competition antenna').

    Raises:
        TaskSpecError: the text is not TOML or breaks a rule of docs/design.md.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskSpecError(f"invalid TOML: {exc}", source) from None
    return _Parser(source).task(doc)


class _Parser:
    """Validate a parsed task.toml document, naming `source` in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> TaskSpecError:
        return TaskSpecError(message, self.source, key)

    def table(self, doc: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
        value = doc.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            found = "nothing" if value is None else type(value).__name__
            raise self.fail(key, f"expected a [{key}] table, found {found}")
        return value

    def text(self, table: Mapping[str, Any], key: str, prefix: str, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{prefix}.{key}", f"expected a non-empty string, found {value!r}")
        return value

    def column_name(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a column name (a non-empty string), found {value!r}")
        if value != value.strip() or any(ord(c) < 32 or c == '"' for c in value):
            raise self.fail(key, f"column name {value!r} has surrounding spaces, a quote or a control character")
        return value

    def task(self, doc: Mapping[str, Any]) -> Task:
        for key in doc:
            if key not in _TABLES:
                raise self.fail(key, f"unexpected table; expected {', '.join(_TABLES)}")
        info = self.table(doc, "task")
        for key in info:
            if key not in _TASK_KEYS:
                raise self.fail(f"task.{key}", f"unexpected key; expected {', '.join(sorted(_TASK_KEYS))}")
        for key in _REQUIRED_TASK_KEYS:
            self.text(info, key, "task")
        id_column = self.column_name(info["id_column"], "task.id_column")
        targets = self.targets(doc.get("targets"))
        metric, params = self.metric(self.table(doc, "metric"), targets)
        self.check_columns(id_column, targets, metric, params)
        kind = info.get("kind", "csv")
        if kind not in KINDS_OF_TASK:
            raise self.fail("task.kind", f"expected one of {', '.join(KINDS_OF_TASK)}; found {kind!r}")
        if kind != "code" and "code" in doc:
            raise self.fail("code", 'a [code] table needs kind = "code" in [task]')
        code = self.code(self.table(doc, "code", required=False)) if kind == "code" else None
        cluster = info.get("cluster_column")
        if cluster is not None:
            cluster = self.column_name(cluster, "task.cluster_column")
            if cluster in (id_column, *(t.name for t in targets)) or cluster.casefold() == USAGE_COLUMN.casefold():
                raise self.fail("task.cluster_column", f"{cluster!r} must be a separate column of the hidden labels, "
                                                       f"not the id, a target or {USAGE_COLUMN}")
        return Task(
            kind=kind,
            code=code,
            slug=self.text(info, "slug", "task"),
            title_ko=self.text(info, "title_ko", "task"),
            title_en=self.text(info, "title_en", "task"),
            description_ko=self.text(info, "description_ko", "task", required=False),
            description_en=self.text(info, "description_en", "task", required=False),
            id_column=id_column,
            targets=targets,
            metric=metric.name,
            metric_params=params,
            defaults=self.defaults(self.table(doc, "defaults", required=False)),
            source=self.source,
            cluster_column=cluster,
        )

    def targets(self, value: object) -> tuple[Target, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
            raise self.fail("targets", "expected one or more [[targets]] tables, found "
                                       f"{'nothing' if value is None else repr(value)[:60]}")
        out: list[Target] = []
        for number, entry in enumerate(value, start=1):
            out.extend(self.target(entry, f"targets[{number}]"))
        return tuple(out)

    def target(self, entry: Mapping[str, Any], key: str) -> list[Target]:
        for name in entry:
            if name not in ("name", "names", "kind", "classes"):
                raise self.fail(f"{key}.{name}", "unexpected key; expected name (or names), kind, classes")
        if ("name" in entry) == ("names" in entry):
            raise self.fail(key, "expected exactly one of name = \"...\" or names = [...]")
        if "names" in entry:
            names = entry["names"]
            if not isinstance(names, list) or not names:
                raise self.fail(f"{key}.names", f"expected a non-empty list of column names, found {names!r}")
            columns = [self.column_name(n, f"{key}.names") for n in names]
        else:
            columns = [self.column_name(entry["name"], f"{key}.name")]
        kind = entry.get("kind")
        if kind not in KINDS:
            raise self.fail(f"{key}.kind", f"expected one of {', '.join(KINDS)}; found {kind!r}")
        classes: tuple[str, ...] = ()
        if kind == "class":
            classes = self.classes(entry.get("classes"), f"{key}.classes")
        elif "classes" in entry:
            raise self.fail(f"{key}.classes", f"only a target of kind 'class' has classes; this one is {kind!r}")
        return [Target(name, kind, classes) for name in columns]

    def classes(self, value: object, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"a class target needs a non-empty list of its labels, found {value!r}")
        labels: list[str] = []
        seen: dict[object, str] = {}
        for item in value:
            if isinstance(item, bool):
                text = "True" if item else "False"
            elif isinstance(item, int | str):
                text = str(item)
            else:
                raise self.fail(key, f"expected class labels as strings or whole numbers, found {item!r}")
            if not text or text != text.strip():
                raise self.fail(key, f"class label {text!r} is empty or has surrounding spaces")
            number = parse_float(text)
            same = number if number is not None and math.isfinite(number) else text
            if same in seen:
                raise self.fail(key, f"class {text!r} is listed twice (same as {seen[same]!r})")
            seen[same] = text
            labels.append(text)
        return tuple(labels)

    def metric(self, table: Mapping[str, Any], targets: tuple[Target, ...]) -> tuple[Metric, dict[str, Any]]:
        name = table.get("name")
        if not isinstance(name, str):
            raise self.fail("metric.name", f"expected a metric name, found {name!r}")
        try:
            metric = get_metric(name)
        except UnknownMetricError as exc:
            raise self.fail("metric.name", str(exc)) from None
        for _number, target in enumerate(targets, start=1):
            if target.kind not in metric.target_kinds:
                raise self.fail("targets", f"metric {name} scores targets of kind {' or '.join(sorted(metric.target_kinds))}; "
                                           f"target {target.name!r} is {target.kind!r}")
        if metric.single_target and len(targets) != 1:
            raise self.fail("targets", f"metric {name} scores exactly one target, found {len(targets)}")
        params = {k: v for k, v in table.items() if k != "name"}
        try:
            bind_params(metric, params, n_targets=len(targets), kind=targets[0].kind, classes=targets[0].classes)
        except ParamError as exc:
            raise self.fail(f"metric.{exc.key}", exc.message) from None
        return metric, params

    def check_columns(self, id_column: str, targets: tuple[Target, ...], metric: Metric,
                      params: Mapping[str, Any]) -> None:
        seen = {id_column: "task.id_column"}
        for target in targets:
            if target.name in seen:
                raise self.fail("targets", f"column {target.name!r} is declared twice")
            seen[target.name] = "targets"
        if USAGE_COLUMN.casefold() in {c.casefold() for c in seen}:
            raise self.fail("targets", f"{USAGE_COLUMN!r} is reserved for the public/private column of the labels")
        if metric.group_param is not None:
            group = params[metric.group_param]
            if group in seen or group.casefold() == USAGE_COLUMN.casefold():
                raise self.fail(f"metric.{metric.group_param}",
                                f"{group!r} must be a separate column of the hidden labels, not the id, "
                                f"a target or {USAGE_COLUMN}")

    def defaults(self, table: Mapping[str, Any]) -> dict[str, Any]:
        for key, value in table.items():
            if key not in DEFAULTS:
                raise self.fail(f"defaults.{key}", f"unexpected key; expected {', '.join(DEFAULTS)}")
            check, expected = DEFAULTS[key]
            if not check(value):
                raise self.fail(f"defaults.{key}", f"expected {expected}, found {value!r}")
        return dict(table)

    def code(self, table: Mapping[str, Any]) -> CodeSpec:
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key == "test_features":
                if (not isinstance(value, list) or not value
                        or not all(isinstance(v, str) and _plain_file_name(v) for v in value)):
                    raise self.fail("code.test_features",
                                    f"expected a non-empty list of file names (no folders), found {value!r}")
                values[key] = tuple(value)
                continue
            if key not in CODE_LIMITS:
                raise self.fail(f"code.{key}",
                                f"unexpected key; expected test_features, {', '.join(CODE_LIMITS)}")
            _, smallest, unit = CODE_LIMITS[key]
            if not _is_int(value) or value < smallest:
                raise self.fail(f"code.{key}", f"expected a whole number of {unit} >= {smallest}, found {value!r}")
            values[key] = value
        return CodeSpec(**values)


def _plain_file_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name
