"""programme: the modules part's tables

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # programme_phase and programme_module are made by 0044 (the programme's core tables)


def downgrade() -> None:
    pass
