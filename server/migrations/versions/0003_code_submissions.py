"""code submissions: outcome class and run information

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('submissions', sa.Column('outcome', sa.String(length=32), nullable=True))
    op.add_column('submissions', sa.Column('run_info', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('run_info')
        batch.drop_column('outcome')
