"""A submission's status, as stored, sent in the API and shown (no Flask, no database: the client uses it too).

    queued → scoring → scored | rejected (the team's file is invalid) | failed (our fault, after retries)
    code competitions also end in run_error | install_error
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SubmissionStatus", "COUNTED_STATUSES", "PENDING_STATUSES", "FINAL_STATUSES"]


class SubmissionStatus(StrEnum):
    QUEUED = "queued"
    SCORING = "scoring"
    SCORED = "scored"
    REJECTED = "rejected"
    FAILED = "failed"
    # Code competitions: script.py started and failed (counted; the outcome column says how), or the
    # zip or its requirements failed before script.py ran (not counted).
    RUN_ERROR = "run_error"
    INSTALL_ERROR = "install_error"


# Statuses that count against the daily limit, and those a worker still owes a result for.
COUNTED_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SCORING, SubmissionStatus.SCORED,
                    SubmissionStatus.RUN_ERROR)
PENDING_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SCORING)
# Statuses a submission ends in.
FINAL_STATUSES = (SubmissionStatus.SCORED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED,
                  SubmissionStatus.RUN_ERROR, SubmissionStatus.INSTALL_ERROR)
