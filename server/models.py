"""Tables. The submission row is the source of truth; the queue only carries its id."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.caller import TOKEN_ROLES
from server.db import Base, UTCDateTime, utcnow
from server.statuses import COUNTED_STATUSES, PENDING_STATUSES, SubmissionStatus

__all__ = [
    "Competition", "Team", "TeamMember", "Token", "Submission", "FinalSelection", "TeamStanding",
    "ActionLogEntry", "Snapshot", "Verification", "ScoreHistory", "DataFile", "LadderBest", "RankConfidence",
    "VerifyRun",
    "COUNTED_STATUSES", "PENDING_STATUSES", "ROLES",
]

# The values `tokens.role` stores (server.caller.Role is the enum over them).
ROLES = tuple(role.value for role in TOKEN_ROLES)


def new_submission_id() -> str:
    return secrets.token_hex(16)


class Competition(Base):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    task_slug: Mapped[str] = mapped_column(sa.String(64))
    # The task.toml text as it was at creation, so a competition never depends on a folder.
    task_toml: Mapped[str] = mapped_column(sa.Text)
    title_ko: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    metric: Mapped[str] = mapped_column(sa.String(64))
    greater_is_better: Mapped[bool] = mapped_column(sa.Boolean)
    labels_file: Mapped[str] = mapped_column(sa.String(300))  # relative to the instance folder
    labels_sha256: Mapped[str] = mapped_column(sa.String(64))
    labels_rows: Mapped[int] = mapped_column(sa.Integer)
    split_method: Mapped[str] = mapped_column(sa.String(16))  # "usage" | "hash"
    split_seed: Mapped[str] = mapped_column(sa.String(64))
    public_fraction: Mapped[float] = mapped_column(sa.Double)
    public_rows: Mapped[int] = mapped_column(sa.Integer)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Settings: values come from services.competition_defaults (no defaults here on purpose).
    timezone: Mapped[str] = mapped_column(sa.String(64))
    daily_limit: Mapped[int] = mapped_column(sa.Integer)
    total_limit: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    max_final: Mapped[int] = mapped_column(sa.Integer)
    precision: Mapped[int] = mapped_column(sa.Integer)
    max_upload_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    public_feedback: Mapped[str] = mapped_column(sa.String(16), default="exact")  # exact | rounded | ladder
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    eligible: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", order_by="TeamMember.id", cascade="all, delete-orphan"
    )


class TeamMember(Base):
    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    team: Mapped[Team] = relationship(back_populates="members")


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(100))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        sa.Index("ix_submissions_team_time", "competition_id", "team_id", "received_at", "id"),
        sa.Index("ix_submissions_status", "status", "competition_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_submission_id)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default=SubmissionStatus.QUEUED.value)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    filename: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    note: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    rows: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    public_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    private_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    problems: Mapped[str | None] = mapped_column(sa.Text, nullable=True)  # JSON list
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    scorer_version: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    labels_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # Code competitions: Kaggle's outcome class and what the team may see of the run (JSON).
    outcome: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    run_info: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # The Ladder (public_feedback = ladder): "improved" | "not_significant", and the team's
    # Ladder value after this submission (the public score of its best so far).
    ladder: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    ladder_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    # Probe signs: rows changed since the team's previous scored submission; near-constant values.
    changed_rows: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    near_constant: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)


class FinalSelection(Base):
    """A submission a team chose as final (automatic picks are computed, not stored)."""

    __tablename__ = "final_selections"
    __table_args__ = (sa.UniqueConstraint("submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"))
    submission_id: Mapped[str] = mapped_column(sa.ForeignKey("submissions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamStanding(Base):
    """Each team's public best and counts, kept current so the leaderboard is an index seek."""

    __tablename__ = "team_standings"
    __table_args__ = (sa.Index("ix_standings_rank", "competition_id", "sort_key", "best_received_at"),)

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    best_submission_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    best_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    # The shown (rounded) score, negated when greater is better, so ascending order ranks.
    sort_key: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    best_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    entries: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ActionLogEntry(Base):
    """An organizer action; `sha256` covers the entry and `prev_sha256`, forming a hash chain."""

    __tablename__ = "action_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competitions.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[str] = mapped_column(sa.Text)  # canonical JSON
    prev_sha256: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)


class Snapshot(Base):
    """The frozen final standings: canonical JSON and its SHA-256. Immutable (database triggers)."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))


class Verification(Base):
    """Code verification of a team for one competition's award."""

    __tablename__ = "verifications"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending|verified|disqualified
    reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(200))


class ScoreHistory(Base):
    """Scores a rescore replaced, kept for the audit."""

    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.ForeignKey("submissions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    public_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    private_score: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    scorer_version: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    labels_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataFile(Base):
    """A file participants download (train, test, sample submission); the bytes live in storage."""

    __tablename__ = "data_files"
    __table_args__ = (sa.UniqueConstraint("competition_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"))
    name: Mapped[str] = mapped_column(sa.String(128))  # as downloaded, e.g. train.csv
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    stored_name: Mapped[str] = mapped_column(sa.String(300))  # relative to the instance folder
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LadderBest(Base):
    """A team's current Ladder best: what scoring.ladder.Evidence keeps (float32 bytes per public row)."""

    __tablename__ = "ladder_bests"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(16))  # loss | predictions
    reference: Mapped[float] = mapped_column(sa.Double)
    shape: Mapped[str] = mapped_column(sa.String(32))  # e.g. "1200" or "1200,14"
    evidence: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RankConfidence(Base):
    """The final board's rank confidence, computed after the freeze; canonical JSON and its
    SHA-256, which the action log's `freeze.confidence` entry records (the hash chain covers it)."""

    __tablename__ = "rank_confidences"

    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"), primary_key=True)
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
class VerifyRun(Base):
    """A background verify run (services.verify_runs): its progress while it runs, then its report.
    (`verifications` holds the code verification of teams; these are runs of `verify`.)"""

    __tablename__ = "verify_runs"
    __table_args__ = (sa.Index("ix_verify_runs_competition", "competition_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")  # queued|running|done|failed
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    total: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)  # submissions to check
    checked: Mapped[int] = mapped_column(sa.Integer, default=0)
    files: Mapped[int] = mapped_column(sa.Integer, default=0)  # stored files re-hashed
    rescored: Mapped[int] = mapped_column(sa.Integer, default=0)
    ok: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    differences: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    report: Mapped[str | None] = mapped_column(sa.Text, nullable=True)  # VerifyReport.to_dict() as JSON
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
