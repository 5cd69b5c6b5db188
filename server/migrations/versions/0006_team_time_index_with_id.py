"""a team's submissions indexed in the ranking's order: receipt, then id

The scoring job reads the team's previous scored file (the probe signs) as the last submission
before this one in (received_at, id) order. Without the id in the index SQLite sorted all of
the team's rows for it on every job (EXPLAIN: "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_submissions_team_time', table_name='submissions')
    op.create_index('ix_submissions_team_time', 'submissions', ['competition_id', 'team_id', 'received_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_submissions_team_time', table_name='submissions')
    op.create_index('ix_submissions_team_time', 'submissions', ['competition_id', 'team_id', 'received_at'],
                    unique=False)
