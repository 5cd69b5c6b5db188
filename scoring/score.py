"""score(): read a submission once, align it once, and compute the public and private scores."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scoring._columns import PARALLEL_ROWS
from scoring._source import SourceLike
from scoring._threads import both
from scoring.errors import Problem, SubmissionRejected
from scoring.labels import Labels, SplitRows
from scoring.metrics import Metric
from scoring.predictions import Predictions, read_predictions
from scoring.tasks import Task

__all__ = ["SCORER_VERSION", "Score", "score", "score_with_predictions"]

# Bump whenever a score of some file could change (parsing, validation, a metric, the split).
SCORER_VERSION = "1.0.0"


@dataclass(frozen=True)
class Score:
    """The result of scoring one submission; scores are finite Python floats."""

    public_score: float
    private_score: float
    rows: int
    metric: str
    greater_is_better: bool
    scorer_version: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def score(source: SourceLike, labels: Labels, task: Task, *, max_bytes: int | None = None) -> Score:
    """Validate a submission against the task and labels and compute both scores in one pass.

    `source` is the file's bytes, a path, or a binary file open for reading (CSV, optionally
    gzip); `max_bytes` caps its size after decompression (default 1 GiB).

    Raises:
        SubmissionRejected: the file is invalid, or its values make the score non-finite.
        MetricError: the metric is undefined on a split (read_labels normally catches this).
        ValueError: the labels were read for another task.
    """
    return score_with_predictions(source, labels, task, max_bytes=max_bytes)[0]


def score_with_predictions(source: SourceLike, labels: Labels, task: Task, *,
                           max_bytes: int | None = None) -> tuple[Score, Predictions]:
    """score(), and the validated predictions aligned with the labels (for the Ladder and probes)."""
    started = time.perf_counter()
    metric = task.get_metric()
    kwargs = task.metric_kwargs()
    predictions = read_predictions(source, labels, task, max_bytes=max_bytes)
    public_job = lambda: _evaluate(metric, kwargs, labels.public, predictions.public, "public")  # noqa: E731
    private_job = lambda: _evaluate(metric, kwargs, labels.private, predictions.private, "private")  # noqa: E731
    if predictions.rows >= PARALLEL_ROWS:
        public, private = both(public_job, private_job)
    else:
        public, private = public_job(), private_job()
    return Score(
        public_score=public,
        private_score=private,
        rows=predictions.rows,
        metric=metric.name,
        greater_is_better=metric.greater_is_better,
        scorer_version=SCORER_VERSION,
        seconds=time.perf_counter() - started,
    ), predictions


def _evaluate(metric: Metric, kwargs: dict[str, Any], rows: SplitRows, y_pred: np.ndarray, split: str) -> float:
    """Return the metric on one split as a finite float."""
    if metric.group_param is not None:
        kwargs = {**kwargs, "groups": rows.groups}
    with np.errstate(all="ignore"):  # overflow shows up as a non-finite score, handled below
        value = float(metric.func(rows.y_true, y_pred, **kwargs))
    if not math.isfinite(value):
        message = (f"the {metric.name} score of the {split} rows is not finite ({value}); "
                   "are some predictions extremely large?")
        problem = Problem(None, None, message, "score_not_finite", {"metric": metric.name, "split": split})
        raise SubmissionRejected(message, [problem], {"score not finite": 1})
    return value
