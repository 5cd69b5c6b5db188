"""Scoring for the LG AI Hackathon: tasks, hidden labels, the public/private split, validation and metrics.

Pure: no web framework, database or queue; everything comes in as arguments.

>>> task = load_task("datasets/antenna")
>>> labels = read_labels("labels.csv", task, public_fraction=0.3, seed="antenna-2022")
>>> result = score("submission.csv", labels, task)
>>> result.public_score, result.private_score
"""

from scoring.errors import LabelsError, Problem, ScoringError, SubmissionRejected, TaskSpecError
from scoring.labels import Labels, read_labels
from scoring.metrics import Metric, get_metric, metric_names
from scoring.score import SCORER_VERSION, Score, score
from scoring.split import assign_public
from scoring.tasks import Target, Task, load_task, parse_task

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
