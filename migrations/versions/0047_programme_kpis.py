"""programme: the kpis part's tables

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
