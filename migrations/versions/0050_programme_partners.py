"""programme: the partners part's tables

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
