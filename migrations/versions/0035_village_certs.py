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
        sa.Column("trace_scheme", sa.String(length=8), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("source_record_id", sa.Integer(), nullable=True),
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

    op.create_table(
        "village_gtin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("item_ref", sa.Integer(), nullable=False),
        sa.Column("gtin13", sa.String(length=13), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_gtin_entity_id_village_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_gtin")),
        sa.UniqueConstraint("entity_id", "product_code", name="uq_village_gtin_entity_product"),
        sa.UniqueConstraint("gtin13", name=op.f("uq_village_gtin_gtin13")),
    )
    with op.batch_alter_table("village_gtin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_gtin_entity_id"), ["entity_id"], unique=False)

    op.create_table(
        "village_batch_test",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=120), nullable=False),
        sa.Column("method", sa.String(length=14), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("standard", sa.String(length=120), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=6), nullable=False),
        sa.Column("report_no", sa.String(length=60), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["village_batch.id"],
            name=op.f("fk_village_batch_test_batch_id_village_batch"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_batch_test")),
    )
    with op.batch_alter_table("village_batch_test", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_batch_test_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "village_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=60), nullable=False),
        sa.Column("product_class", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("producer_name", sa.String(length=120), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("contact_enc", sa.String(length=200), nullable=True),
        sa.Column("contact_masked", sa.String(length=20), nullable=True),
        sa.Column("promise", sa.String(length=300), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("test_id", sa.Integer(), nullable=True),
        sa.Column("report_no", sa.String(length=60), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=300), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["village_batch.id"],
            name=op.f("fk_village_certificate_batch_id_village_batch"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["village_entity.id"],
            name=op.f("fk_village_certificate_issuer_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["village_certificate.id"],
            name=op.f("fk_village_certificate_parent_id_village_certificate"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["test_id"],
            ["village_batch_test.id"],
            name=op.f("fk_village_certificate_test_id_village_batch_test"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_certificate")),
        sa.UniqueConstraint("number", name=op.f("uq_village_certificate_number")),
    )
    with op.batch_alter_table("village_certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_certificate_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_certificate_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_certificate_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "village_batch_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["village_batch.id"],
            name=op.f("fk_village_batch_view_batch_id_village_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_batch_view")),
        sa.UniqueConstraint("batch_id", "day", name="uq_village_batch_view_day"),
    )
    with op.batch_alter_table("village_batch_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_batch_view_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_batch_view_day"), ["day"], unique=False)


def downgrade() -> None:
    for table in ("village_batch_view", "village_certificate", "village_batch_test", "village_gtin", "village_batch"):
        op.drop_table(table)
