"""safety: the camera tables

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
