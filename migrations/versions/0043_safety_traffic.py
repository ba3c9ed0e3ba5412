"""safety: the traffic tables

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_road",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("road_class", sa.String(length=12), nullable=False),
        sa.Column("geom", countyos.geo.models.Geometry(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("start_lon", sa.Float(), nullable=False),
        sa.Column("start_lat", sa.Float(), nullable=False),
        sa.Column("end_lon", sa.Float(), nullable=False),
        sa.Column("end_lat", sa.Float(), nullable=False),
        sa.Column("oneway", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_road")),
    )
    with op.batch_alter_table("safety_road", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_road_code"), ["code"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("gix_safety_road_geom", "safety_road", ["geom"], unique=False, postgresql_using="gist")


def downgrade() -> None:
    for table in ("safety_road",):
        op.drop_table(table)
