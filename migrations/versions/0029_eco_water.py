"""eco: the water tables

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eco_water_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("water_name", sa.String(length=100), nullable=False),
        sa.Column("waterbody", sa.String(length=8), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("target_class", sa.String(length=4), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_class", sa.String(length=4), nullable=True),
        sa.Column("last_meets", sa.Boolean(), nullable=True),
        sa.Column("last_sampled_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensing_thing.id"],
            name=op.f("fk_eco_water_section_thing_id_sensing_thing"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_water_section")),
        sa.UniqueConstraint("code", name=op.f("uq_eco_water_section_code")),
        sa.UniqueConstraint("thing_id", name=op.f("uq_eco_water_section_thing_id")),
    )
    with op.batch_alter_table("eco_water_section", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_water_section_division_code"), ["division_code"], unique=False)

    op.create_table(
        "eco_water_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("sampled_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("cls", sa.String(length=4), nullable=True),
        sa.Column("target_class", sa.String(length=4), nullable=False),
        sa.Column("meets", sa.Boolean(), nullable=True),
        sa.Column("exceeding", sa.JSON(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("lab_name", sa.String(length=100), nullable=False),
        sa.Column("report_no", sa.String(length=60), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["eco_water_section.id"],
            name=op.f("fk_eco_water_sample_section_id_eco_water_section"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["org_user.id"],
            name=op.f("fk_eco_water_sample_entered_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_water_sample")),
        sa.UniqueConstraint("section_id", "source", "sampled_at", name="uq_eco_water_sample_section_source_time"),
    )
    with op.batch_alter_table("eco_water_sample", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_water_sample_cls"), ["cls"], unique=False)
        batch_op.create_index("ix_eco_water_sample_section_time", ["section_id", "sampled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eco_water_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_eco_water_sample_section_time")
        batch_op.drop_index(batch_op.f("ix_eco_water_sample_cls"))
    op.drop_table("eco_water_sample")
    with op.batch_alter_table("eco_water_section", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eco_water_section_division_code"))
    op.drop_table("eco_water_section")
