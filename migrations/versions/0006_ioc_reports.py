"""ioc: operations reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:40:00
"""
from alembic import op
import sqlalchemy as sa
import countyos.core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ioc_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('generated_at', countyos.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=60), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('xlsx', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ioc_report')),
    sa.UniqueConstraint('kind', 'since', name='uq_ioc_report_kind_since')
    )


def downgrade() -> None:
    op.drop_table('ioc_report')
