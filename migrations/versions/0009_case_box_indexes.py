"""cases: indexes for the boxes of the case map and of the duplicate search

- The case map of a zoomed-in view keeps the points inside a box (``bbox``): with ``lat`` beside
  ``lon`` in ``ix_case_case_open_running`` the box is tested from the index alone, and only the rows
  of the points shown are read (before, every open case's row was read for its latitude).
- Intake looks for an open case of the same category near a new report (``duplicates.find_for``):
  ``ix_case_case_category_box`` finds the few cases in the report's box directly, where the search
  used to walk every case of the category reported in the last days — a cost that grew with the
  number of reports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 17:45:00
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

RUNNING = 'ix_case_case_open_running'
RUNNING_BEFORE = ['is_open', 'paused_at', 'step_deadline', 'priority', 'grid_code', 'lon']
BOX = 'ix_case_case_category_box'
BOX_COLUMNS = ['category_id', 'is_open', 'lat', 'lon', 'reported_at', 'merged_into_id']


def upgrade() -> None:
    op.drop_index(RUNNING, table_name='case_case')
    op.create_index(RUNNING, 'case_case', [*RUNNING_BEFORE, 'lat'], unique=False)
    op.create_index(BOX, 'case_case', BOX_COLUMNS, unique=False)
    op.execute('ANALYZE case_case')


def downgrade() -> None:
    op.drop_index(BOX, table_name='case_case')
    op.drop_index(RUNNING, table_name='case_case')
    op.create_index(RUNNING, 'case_case', RUNNING_BEFORE, unique=False)
