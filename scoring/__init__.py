"""Scoring for the LG AI Hackathon: tasks, hidden labels, the public/private split, validation and metrics.

Pure: no web framework, database or queue; everything comes in as arguments.

>>> task = load_task("datasets/antenna")
>>> labels = read_labels("labels.csv", task, public_fraction=0.3, seed="antenna-2022")
>>> result = score("submission.csv", labels, task)
>>> result.public_score, result.private_score

The names below are imported on first use (PEP 562), so that `import scoring.cli` (and with it
`hackathon score --help`) does not pay for numpy and pyarrow.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoring.errors import LabelsError, Problem, ScoringError, SubmissionRejected, TaskSpecError
    from scoring.labels import Labels, read_labels
    from scoring.metrics import Metric, get_metric, metric_names
    from scoring.score import SCORER_VERSION, Score, score
    from scoring.split import assign_public
    from scoring.tasks import Target, Task, load_task, parse_task

# Exported name -> the submodule that defines it.
_SOURCES = {
    "LabelsError": "errors", "Problem": "errors", "ScoringError": "errors", "SubmissionRejected": "errors",
    "TaskSpecError": "errors",
    "Labels": "labels", "read_labels": "labels",
    "Metric": "metrics", "get_metric": "metrics", "metric_names": "metrics",
    "SCORER_VERSION": "score", "Score": "score", "score": "score",
    "assign_public": "split",
    "Target": "tasks", "Task": "tasks", "load_task": "tasks", "parse_task": "tasks",
}

__all__ = [
    "SCORER_VERSION",
    "Labels",
    "LabelsError",
    "Metric",
    "Problem",
    "Score",
    "ScoringError",
    "SubmissionRejected",
    "Target",
    "Task",
    "TaskSpecError",
    "assign_public",
    "get_metric",
    "load_task",
    "metric_names",
    "parse_task",
    "read_labels",
    "score",
]


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module 'scoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"scoring.{_SOURCES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCES))


class _Package(types.ModuleType):
    """Keeps `scoring.score` the function: importing the submodule scoring.score would rebind it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SOURCES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
