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

_ = countyos.geo.models  # kept: the chain's files import it alike


def upgrade() -> None:
    op.create_table(
        "safety_camera_event_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=60), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("dedupe_seconds", sa.Integer(), nullable=False),
        sa.Column("dedupe_radius_m", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=24), nullable=True),
        sa.Column("priority", sa.String(length=12), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_camera_event_type")),
        sa.UniqueConstraint("code", name=op.f("uq_safety_camera_event_type_code")),
    )
    op.create_table(
        "safety_camera",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("township_name", sa.String(length=60), nullable=True),
        sa.Column("grid_code", sa.String(length=20), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["org_department.id"],
            name=op.f("fk_safety_camera_department_id_org_department"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_camera")),
        sa.UniqueConstraint("code", name=op.f("uq_safety_camera_code")),
    )
    op.create_index(op.f("ix_safety_camera_township_code"), "safety_camera", ["township_code"], unique=False)
    op.create_table(
        "safety_camera_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=32), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("box", sa.JSON(), nullable=True),
        sa.Column("external_id", sa.String(length=80), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["safety_camera.id"],
            name=op.f("fk_safety_camera_event_camera_id_safety_camera"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_case.id"], name=op.f("fk_safety_camera_event_case_id_case_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["safety_camera_event.id"],
            name=op.f("fk_safety_camera_event_duplicate_of_id_safety_camera_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["case_attachment.id"],
            name=op.f("fk_safety_camera_event_snapshot_id_case_attachment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_camera_event")),
        sa.UniqueConstraint("camera_id", "external_id", name="uq_safety_camera_event_external"),
    )
    op.create_index(
        "ix_safety_camera_event_dedupe", "safety_camera_event", ["type_code", "camera_id", "occurred_at"], unique=False
    )
    op.create_index(op.f("ix_safety_camera_event_outcome"), "safety_camera_event", ["outcome"], unique=False)
    op.create_index("ix_safety_camera_event_received", "safety_camera_event", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("safety_camera_event")
    op.drop_index(op.f("ix_safety_camera_township_code"), table_name="safety_camera")
    op.drop_table("safety_camera")
    op.drop_table("safety_camera_event_type")
