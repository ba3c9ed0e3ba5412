"""programme: the index part's tables

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
