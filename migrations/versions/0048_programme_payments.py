"""programme: the payments part's tables

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
