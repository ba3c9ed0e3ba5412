"""data: the search indexes a load's table is to have, and when they were made

A big file's rows are committed first and its indexes made right after (``data.index_loads``), so a
load records its planned indexes and the time they were made. Loads made before this revision built
their indexes inside the load: they are marked made at their end.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 12:06:54.638804
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_load", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indexes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("indexed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE data_load SET indexed_at = finished_at WHERE table_name IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("data_load", schema=None) as batch_op:
        batch_op.drop_column("indexed_at")
        batch_op.drop_column("indexes")
