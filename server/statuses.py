"""A submission's status, as stored, sent in the API and shown (no Flask, no database: the client uses it too).

    queued → scoring → scored | rejected (the team's file is invalid) | failed (our fault, after retries)
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


# Statuses that count against the daily limit, and those a worker still owes a result for.
COUNTED_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SCORING, SubmissionStatus.SCORED)
PENDING_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SCORING)
# Statuses a submission ends in.
FINAL_STATUSES = (SubmissionStatus.SCORED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED)
