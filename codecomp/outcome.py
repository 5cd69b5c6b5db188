"""Outcome classes of a code submission, named as Kaggle names them, and what a team may see.

Only the class, the run time and the peak memory (and, for an install error, the reason and the
last lines of the install log, which come from the team's own requirements, not hidden data)
reach the team. Whatever script.py printed while it read the hidden test features stays in
`Outcome.internal`, for the organizers' log and the tests: a log on hidden data is a leak channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLASSES", "CHARGED", "TEAM_MESSAGES", "Outcome",
           "INSTALL_ERROR", "TIMEOUT", "EXCEPTION", "EXCEEDED_MEMORY", "SUBMISSION_NOT_FOUND",
           "REJECTED", "SCORED", "COMPLETED"]

INSTALL_ERROR = "install_error"          # zip layout or requirements: before script.py starts
TIMEOUT = "timeout"                      # wall clock or CPU time limit
EXCEPTION = "exception"                  # script.py exited non-zero or was killed by a signal
EXCEEDED_MEMORY = "exceeded_memory"      # the memory limit's OOM killer (or MemoryError under rlimits)
SUBMISSION_NOT_FOUND = "submission_not_found"  # script.py succeeded without output/submission.csv
REJECTED = "rejected"                    # the scorer refused output/submission.csv
SCORED = "scored"
COMPLETED = "completed"                  # run-code without --labels: ran and wrote submission.csv

CLASSES = (INSTALL_ERROR, TIMEOUT, EXCEPTION, EXCEEDED_MEMORY, SUBMISSION_NOT_FOUND, REJECTED, SCORED)
# Classes that count against the daily limit: everything once script.py has started.
CHARGED = frozenset(CLASSES) - {INSTALL_ERROR}

TEAM_MESSAGES = {
    INSTALL_ERROR: "install error (not counted against your daily limit)",
    TIMEOUT: "script.py did not finish within the time limit",
    EXCEPTION: "script.py stopped with an error (its output on the hidden data is not shown)",
    EXCEEDED_MEMORY: "script.py exceeded the memory limit",
    SUBMISSION_NOT_FOUND: "script.py finished but wrote no output/submission.csv",
    REJECTED: "output/submission.csv does not match the submission format (details are not shown "
              "because they come from the hidden data; check your file on the public sample)",
    SCORED: "scored",
    COMPLETED: "script.py finished and wrote output/submission.csv (not scored: no labels given)",
}


@dataclass
class Outcome:
    """The result of one code submission run."""

    outcome: str
    message: str
    install_seconds: float | None = None
    run_seconds: float | None = None
    peak_memory_bytes: int | None = None
    install_log: str = ""            # last lines of pip's log (team's own requirements): shown
    enforcement: str = ""            # how memory/process limits were applied: "cgroup v1", "rlimits"
    public_score: float | None = None
    private_score: float | None = None
    rows: int | None = None
    internal: dict[str, Any] = field(default_factory=dict)  # exit status, log tail: never shown

    @property
    def charged(self) -> bool:
        """Whether the server counts it against the daily limit (a local `completed` would be scored)."""
        return self.outcome != INSTALL_ERROR

    def to_team_dict(self) -> dict[str, Any]:
        """What the team sees: the class, times, peak memory, install reason and log; no run output."""
        body: dict[str, Any] = {
            "outcome": self.outcome, "message": self.message, "charged": self.charged,
            "install_seconds": _round(self.install_seconds), "run_seconds": _round(self.run_seconds),
            "peak_memory_mb": None if self.peak_memory_bytes is None else round(self.peak_memory_bytes / 2**20, 1),
            "limits_applied": self.enforcement or None,
        }
        if self.outcome == INSTALL_ERROR:
            body["install_log"] = self.install_log
        if self.outcome == SCORED:
            body.update(public_score=self.public_score, private_score=self.private_score, rows=self.rows)
        return body


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
