"""cases: settings of the workflow as data (``case_setting``), first the automatic checking rule

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 04:00:00
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_setting',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=True),
        sa.Column('updated_at', countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_case_setting')),
    )


def downgrade() -> None:
    op.drop_table('case_setting')
