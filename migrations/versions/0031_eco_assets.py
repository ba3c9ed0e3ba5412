"""eco: the assets tables

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eco_landuse_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_kind", sa.String(length=16), nullable=False),
        sa.Column("crs", sa.String(length=200), nullable=False),
        sa.Column("class_field", sa.String(length=100), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("source_classes", sa.JSON(), nullable=False),
        sa.Column("unmapped", sa.JSON(), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("pixels", sa.Integer(), nullable=False),
        sa.Column("total_ha", sa.Float(), nullable=False),
        sa.Column("projection", sa.String(length=200), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["org_user.id"],
            name=op.f("fk_eco_landuse_layer_created_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_landuse_layer")),
        sa.UniqueConstraint("name", "year", "version", name="uq_eco_landuse_layer_version"),
    )
    with op.batch_alter_table("eco_landuse_layer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_landuse_layer_year"), ["year"], unique=False)

    op.create_table(
        "eco_landuse_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("class_code", sa.String(length=20), nullable=False),
        sa.Column("hectares", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["eco_landuse_layer.id"],
            name=op.f("fk_eco_landuse_area_layer_id_eco_landuse_layer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_landuse_area")),
        sa.UniqueConstraint("layer_id", "division_code", "class_code", name="uq_eco_landuse_area"),
    )
    with op.batch_alter_table("eco_landuse_area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_landuse_area_layer_id"), ["layer_id"], unique=False)

    op.create_table(
        "eco_esv_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("unit_value", sa.Float(), nullable=False),
        sa.Column("unit_source", sa.JSON(), nullable=False),
        sa.Column("total_yuan", sa.Float(), nullable=False),
        sa.Column("by_class", sa.JSON(), nullable=False),
        sa.Column("by_service", sa.JSON(), nullable=False),
        sa.Column("by_division", sa.JSON(), nullable=False),
        sa.Column("computed_by_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["computed_by_id"],
            ["org_user.id"],
            name=op.f("fk_eco_esv_result_computed_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["eco_landuse_layer.id"],
            name=op.f("fk_eco_esv_result_layer_id_eco_landuse_layer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_esv_result")),
        sa.UniqueConstraint("layer_id", "year", "method", name="uq_eco_esv_result"),
    )
    with op.batch_alter_table("eco_esv_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_esv_result_layer_id"), ["layer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eco_esv_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eco_esv_result_layer_id"))
    op.drop_table("eco_esv_result")
    with op.batch_alter_table("eco_landuse_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eco_landuse_area_layer_id"))
    op.drop_table("eco_landuse_area")
    with op.batch_alter_table("eco_landuse_layer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eco_landuse_layer_year"))
    op.drop_table("eco_landuse_layer")
