"""sensing: rollups (1 minute, 1 hour, 1 day) of each component of a MultiDatastream

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

LEVELS = ('minute', 'hour', 'day')


def upgrade() -> None:
    for level in LEVELS:
        op.create_table(f'sensing_rollup_multi_{level}',
        sa.Column('multi_datastream_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('component', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bucket_us', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('vmin', sa.Float(), nullable=True),
        sa.Column('vmax', sa.Float(), nullable=True),
        sa.Column('vsum', sa.Float(), nullable=True),
        sa.Column('vlast', sa.Float(), nullable=True),
        sa.Column('last_us', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('multi_datastream_id', 'component', 'bucket_us',
                                name=op.f(f'pk_sensing_rollup_multi_{level}')),
        sqlite_with_rowid=False
        )


def downgrade() -> None:
    for level in reversed(LEVELS):
        op.drop_table(f'sensing_rollup_multi_{level}')
