"""village: the certs tables

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 18:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("product_class", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("harvest_date", sa.Date(), nullable=False),
        sa.Column("batch_no", sa.String(length=40), nullable=False),
        sa.Column("trace_code", sa.String(length=80), nullable=False),
        sa.Column("trace_views", sa.Integer(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["village_base.id"], name=op.f("fk_village_batch_base_id_village_base"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_batch_entity_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["village_batch.id"],
            name=op.f("fk_village_batch_parent_id_village_batch"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_batch")),
        sa.UniqueConstraint("entity_id", "batch_no", name="uq_village_batch_entity_no"),
        sa.UniqueConstraint("trace_code", name=op.f("uq_village_batch_trace_code")),
    )
    with op.batch_alter_table("village_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_batch_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_batch_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_batch_harvest_date"), ["harvest_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_batch_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_batch_product_code"), ["product_code"], unique=False)


def downgrade() -> None:
    for table in "village_batch":
        op.drop_table(table)
