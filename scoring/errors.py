"""Exceptions raised by the scoring package.

    ScoringError                 base class; never raised itself
    ├── TaskSpecError            task.toml is invalid (the organizer's problem): names file and key
    ├── LabelsError              the hidden labels file is invalid (the organizer's problem)
    ├── MetricError              a metric is undefined on the given rows (e.g. one class only)
    ├── UnknownMetricError       no metric of that name (also a LookupError); lists valid names
    └── SubmissionRejected       the submission is invalid (the team's problem); carries problems

`SubmissionRejected.message` is the text for the team; `.problems` lists the first detailed
`Problem`s (line numbers count the header as line 1) and `.counts` the number of problems of
each kind in the whole file. Every exception pickles (RQ stores exceptions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LabelsError",
    "MetricError",
    "Problem",
    "ScoringError",
    "SubmissionRejected",
    "TaskSpecError",
    "UnknownMetricError",
]


class ScoringError(Exception):
    """Base class of every error raised on purpose by the scoring package."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TaskSpecError(ScoringError):
    """A task.toml is invalid; `source` is the file (or its label) and `key` the offending key."""

    def __init__(self, message: str, source: str | None = None, key: str | None = None) -> None:
        full = ": ".join(part for part in (source, key, message) if part)
        super().__init__(full, source, key)
        self.detail = message
        self.source = source
        self.key = key


class LabelsError(ScoringError):
    """The hidden labels file cannot be used with the task."""


class MetricError(ScoringError):
    """A metric is undefined on the given rows (e.g. ROC-AUC when only one class is present)."""


class UnknownMetricError(ScoringError, LookupError):
    """No metric is registered under the name; the message lists the valid names."""


@dataclass(frozen=True)
class Problem:
    """One problem in a submission: where it is (either may be None) and what is wrong.

    `code` and `params` say the same as `message` in a form a page can translate (e.g. code
    `not_a_number`, params `{"value": "'abc'"}`); they do not take part in equality.
    """

    line: int | None
    column: str | None
    message: str
    code: str = field(default="", compare=False)
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        if self.line is not None and self.column is not None:
            return f"line {self.line}, column {self.column}: {self.message}"
        if self.line is not None:
            return f"line {self.line}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dict with keys line, column, message, code and params."""
        return {"line": self.line, "column": self.column, "message": self.message,
                "code": self.code, "params": dict(self.params)}


class SubmissionRejected(ScoringError):
    """The submission is invalid; `message` is the summary for the team."""

    def __init__(
        self,
        message: str,
        problems: Sequence[Problem] = (),
        counts: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(message, list(problems), dict(counts or {}))
        self.problems: list[Problem] = list(problems)
        self.counts: dict[str, int] = dict(counts or {})

    def to_dict(self) -> dict[str, object]:
        """Return the rejection as a JSON-ready dict: message, problems, counts."""
        return {
            "message": self.message,
            "problems": [p.to_dict() for p in self.problems],
            "counts": dict(self.counts),
        }
