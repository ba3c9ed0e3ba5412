"""ioc: composite indexes on the cases tables for the operations view's indicators

State measures (open, overdue, urgent) within a township or a category, flow measures (reported,
closed, rated… in a period) within a township, urgent open cases; covering indexes from which the
overdue count, open and overdue cases per grid, the ids of the most urgent open cases and the flow
measures of a period are read without reading the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:20:00
"""
from alembic import op
import sqlalchemy as sa
import countyos.core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_case_case_township_open', ['township_code', 'is_open', 'step_deadline']),
    ('ix_case_case_category_open', ['category_id', 'is_open', 'step_deadline']),
    ('ix_case_case_township_reported', ['township_code', 'reported_at']),
    ('ix_case_case_open_priority', ['is_open', 'priority']),
    ('ix_case_case_open_running', ['is_open', 'paused_at', 'step_deadline', 'priority', 'grid_code', 'lon']),
    ('ix_case_case_reported_flow', ['reported_at', 'merged_into_id', 'registered_at', 'voided_at', 'closed_at',
                                    'closed_in_time', 'rework_count', 'satisfaction']),
]


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'case_case', columns, unique=False)
    # statistics for the planner, so that it knows the new indexes from the start (on SQLite an index
    # without statistics next to analysed ones is misjudged)
    op.execute('ANALYZE case_case')


def downgrade() -> None:
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name='case_case')
