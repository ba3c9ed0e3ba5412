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

    op.create_table(
        "safety_parking_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("township", sa.String(length=60), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("charging", sa.Integer(), nullable=False),
        sa.Column("fee", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.String(length=100), nullable=False),
        sa.Column("datastream_id", sa.Integer(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sensing_datastream.id"],
            name=op.f("fk_safety_parking_lot_datastream_id_sensing_datastream"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_parking_lot")),
    )
    with op.batch_alter_table("safety_parking_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_parking_lot_datastream_id"), ["datastream_id"], unique=False)
    op.create_table(
        "safety_road_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=14), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("road_id", sa.Integer(), nullable=True),
        sa.Column("from_words", sa.String(length=120), nullable=False),
        sa.Column("to_words", sa.String(length=120), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("line", sa.JSON(), nullable=True),
        sa.Column("starts_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("detour", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["org_user.id"],
            name=op.f("fk_safety_road_incident_created_by_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["road_id"],
            ["safety_road.id"],
            name=op.f("fk_safety_road_incident_road_id_safety_road"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_road_incident")),
        sa.UniqueConstraint("token", name=op.f("uq_safety_road_incident_token")),
    )
    with op.batch_alter_table("safety_road_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_road_incident_road_id"), ["road_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_road_incident_state"), ["state"], unique=False)


def downgrade() -> None:
    for table in ("safety_road_incident", "safety_parking_lot", "safety_road"):
        op.drop_table(table)
