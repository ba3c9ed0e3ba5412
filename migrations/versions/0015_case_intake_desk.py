"""cases: the intake desk — 12345 work-order facts of a case, stock phrases

- ``case_work_order`` (1:1 with ``case_case``): 工单号, 来电时间, 诉求类型, 回访要求 (needed, way, time),
  the clerk who took the call.
- ``case_stock_phrase``: 常用语 of the intake desk, global (category NULL) or for one category.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 04:00:00
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_work_order',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('order_no', sa.String(length=50), nullable=True),
        sa.Column('called_at', countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('demand_type', sa.String(length=12), nullable=False),
        sa.Column('callback_needed', sa.Boolean(), nullable=False),
        sa.Column('callback_way', sa.String(length=8), nullable=True),
        sa.Column('callback_time', sa.String(length=60), nullable=True),
        sa.Column('taken_by', sa.Integer(), nullable=True),
        sa.Column('created_at', countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_case.id'], name=op.f('fk_case_work_order_case_id_case_case'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['taken_by'], ['org_user.id'], name=op.f('fk_case_work_order_taken_by_org_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_work_order')),
    )
    with op.batch_alter_table('case_work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_work_order_order_no'), ['order_no'], unique=False)
    op.create_table(
        'case_stock_phrase',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sa.String(length=60), nullable=True),
        sa.Column('created_at', countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['case_category.id'], name=op.f('fk_case_stock_phrase_category_id_case_category'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_stock_phrase')),
    )
    with op.batch_alter_table('case_stock_phrase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_stock_phrase_category_id'), ['category_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_stock_phrase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_stock_phrase_category_id'))
    op.drop_table('case_stock_phrase')
    with op.batch_alter_table('case_work_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_work_order_order_no'))
    op.drop_table('case_work_order')
