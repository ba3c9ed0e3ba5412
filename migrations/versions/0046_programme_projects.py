"""programme: the projects part's tables

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
