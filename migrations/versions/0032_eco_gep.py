"""eco: the gep tables

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eco_gep_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("class_code", sa.String(length=20), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("entered_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["org_user.id"],
            name=op.f("fk_eco_gep_input_entered_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_gep_input")),
        sa.UniqueConstraint(
            "year", "code", "class_code", "division_code", "version", name=op.f("uq_eco_gep_input_year")
        ),
    )
    with op.batch_alter_table("eco_gep_input", schema=None) as batch_op:
        batch_op.create_index("ix_eco_gep_input_year_current", ["year", "current"], unique=False)

    op.create_table(
        "eco_gep_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parameter_version", sa.String(length=20), nullable=False),
        sa.Column("parameter_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("material", sa.Float(), nullable=False),
        sa.Column("regulating", sa.Float(), nullable=False),
        sa.Column("cultural", sa.Float(), nullable=False),
        sa.Column("gep", sa.Float(), nullable=False),
        sa.Column("gdp", sa.Float(), nullable=True),
        sa.Column("price_factor", sa.Float(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("input_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["org_user.id"], name=op.f("fk_eco_gep_run_created_by_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_gep_run")),
        sa.UniqueConstraint("year", "version", name=op.f("uq_eco_gep_run_year")),
    )
    with op.batch_alter_table("eco_gep_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_gep_run_year"), ["year"], unique=False)

    op.create_table(
        "eco_gep_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("formula", sa.String(length=60), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("input_ids", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["eco_gep_run.id"], name=op.f("fk_eco_gep_result_run_id_eco_gep_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_gep_result")),
    )
    with op.batch_alter_table("eco_gep_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eco_gep_result_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("eco_gep_result")
    op.drop_table("eco_gep_run")
    op.drop_table("eco_gep_input")
