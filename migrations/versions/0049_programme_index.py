"""programme: the index part's tables (who used which module each day, for the 盆景 index's active users)

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ioc_usage_user_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("module", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("day", "module", "user_id", "role", name=op.f("pk_ioc_usage_user_daily")),
    )


def downgrade() -> None:
    op.drop_table("ioc_usage_user_daily")
