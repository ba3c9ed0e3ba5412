"""ioc: the covering index of open cases carries the latitude too

The case map of a zoomed-in view keeps the points inside a box (``bbox``): with ``lat`` beside ``lon``
in ``ix_case_case_open_running`` the box is tested from the index alone, and only the rows of the
points shown are read (before, every open case's row was read for its latitude).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 17:45:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NAME = 'ix_case_case_open_running'
BEFORE = ['is_open', 'paused_at', 'step_deadline', 'priority', 'grid_code', 'lon']


def upgrade() -> None:
    op.drop_index(NAME, table_name='case_case')
    op.create_index(NAME, 'case_case', [*BEFORE, 'lat'], unique=False)
    op.execute('ANALYZE case_case')


def downgrade() -> None:
    op.drop_index(NAME, table_name='case_case')
    op.create_index(NAME, 'case_case', BEFORE, unique=False)
