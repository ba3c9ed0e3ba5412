"""programme: the kpis part's tables (a score keeps the target and weight it was scored with)

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programme_score") as batch:
        batch.add_column(sa.Column("target", sa.Float(), nullable=True))
        batch.add_column(sa.Column("weight", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme_score") as batch:
        batch.drop_column("weight")
        batch.drop_column("target")
