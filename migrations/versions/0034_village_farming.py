"""village: the farming tables

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 18:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("registration_no", sa.String(length=40), nullable=True),
        sa.Column("active_ingredient", sa.String(length=100), nullable=True),
        sa.Column("formulation", sa.String(length=60), nullable=True),
        sa.Column("organic_allowed", sa.Boolean(), nullable=False),
        sa.Column("intervals", sa.JSON(), nullable=False),
        sa.Column("dose_unit", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_input")),
        sa.UniqueConstraint("code", name=op.f("uq_village_input_code")),
    )
    with op.batch_alter_table("village_input", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_input_kind"), ["kind"], unique=False)

    op.create_table(
        "village_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=True),
        sa.Column("input_id", sa.Integer(), nullable=True),
        sa.Column("input_name", sa.String(length=100), nullable=True),
        sa.Column("registration_no", sa.String(length=40), nullable=True),
        sa.Column("interval_days", sa.Integer(), nullable=True),
        sa.Column("dose", sa.Float(), nullable=True),
        sa.Column("dose_unit", sa.String(length=20), nullable=True),
        sa.Column("area_mu", sa.Float(), nullable=True),
        sa.Column("head_count", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=True),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.String(length=300), nullable=True),
        sa.Column("voided_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.String(length=100), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["village_base.id"], name=op.f("fk_village_record_base_id_village_base"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_record_entity_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["input_id"],
            ["village_input.id"],
            name=op.f("fk_village_record_input_id_village_input"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["case_attachment.id"],
            name=op.f("fk_village_record_photo_id_case_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["org_user.id"],
            name=op.f("fk_village_record_recorded_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_record")),
    )
    with op.batch_alter_table("village_record", schema=None) as batch_op:
        batch_op.create_index("ix_village_record_base_used", ["base_id", "used_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_record_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_record_input_id"), ["input_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_record_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_record_used_on"), ["used_on"], unique=False)


def downgrade() -> None:
    for table in ("village_record", "village_input"):
        op.drop_table(table)
