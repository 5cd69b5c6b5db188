"""fair ranking: public feedback mode, the Ladder, probe signs, rank confidence

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('competitions') as batch:
        batch.add_column(sa.Column('public_feedback', sa.String(length=16), nullable=False, server_default='exact'))
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('ladder', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('ladder_score', sa.Double(), nullable=True))
        batch.add_column(sa.Column('changed_rows', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('near_constant', sa.Boolean(), nullable=True))
    op.create_table('ladder_bests',
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.Double(), nullable=False),
    sa.Column('shape', sa.String(length=32), nullable=False),
    sa.Column('evidence', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('competition_id', 'team_id')
    )
    op.create_table('rank_confidences',
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], ),
    sa.PrimaryKeyConstraint('competition_id')
    )


def downgrade() -> None:
    op.drop_table('rank_confidences')
    op.drop_table('ladder_bests')
    with op.batch_alter_table('submissions') as batch:
        for name in ('near_constant', 'changed_rows', 'ladder_score', 'ladder'):
            batch.drop_column(name)
    with op.batch_alter_table('competitions') as batch:
        batch.drop_column('public_feedback')
