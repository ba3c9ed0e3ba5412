"""services: the matter catalogue (事项, GB/T 39046 表4) with versions, steps and materials

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("basic_code", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_matter")),
        sa.UniqueConstraint("code", name=op.f("uq_services_matter_code")),
    )
    op.create_index(op.f("ix_services_matter_basic_code"), "services_matter", ["basic_code"], unique=False)
    op.create_index(op.f("ix_services_matter_status"), "services_matter", ["status"], unique=False)
    op.create_table(
        "services_matter_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("matter_type", sa.String(length=24), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("body_name", sa.String(length=200), nullable=False),
        sa.Column("body_uscc", sa.String(length=18), nullable=True),
        sa.Column("body_nature", sa.String(length=12), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("legal_limit", sa.Integer(), nullable=True),
        sa.Column("legal_limit_unit", sa.String(length=16), nullable=False),
        sa.Column("legal_limit_note", sa.Text(), nullable=True),
        sa.Column("promised_limit", sa.Integer(), nullable=False),
        sa.Column("promised_limit_unit", sa.String(length=16), nullable=False),
        sa.Column("promised_limit_note", sa.Text(), nullable=True),
        sa.Column("accept_conditions", sa.Text(), nullable=True),
        sa.Column("application_kind", sa.String(length=12), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("handling_forms", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("hours", sa.Text(), nullable=True),
        sa.Column("consult_phone", sa.String(length=40), nullable=True),
        sa.Column("supervise_phone", sa.String(length=40), nullable=True),
        sa.Column("charged", sa.Boolean(), nullable=False),
        sa.Column("fee_basis", sa.Text(), nullable=True),
        sa.Column("result_name", sa.String(length=200), nullable=True),
        sa.Column("theme", sa.String(length=100), nullable=True),
        sa.Column("faq", sa.Text(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("special_procedure", sa.Text(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["org_user.id"], name=op.f("fk_services_matter_version_created_by_id_org_user")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["org_department.id"], name=op.f("fk_services_matter_version_department_id_org_department")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"],
            ["services_matter.id"],
            name=op.f("fk_services_matter_version_matter_id_services_matter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_matter_version")),
        sa.UniqueConstraint("matter_id", "number", name="uq_services_matter_version_number"),
    )
    op.create_index(
        op.f("ix_services_matter_version_department_id"), "services_matter_version", ["department_id"], unique=False
    )
    op.create_index(op.f("ix_services_matter_version_matter_id"), "services_matter_version", ["matter_id"], unique=False)
    op.create_index(op.f("ix_services_matter_version_name"), "services_matter_version", ["name"], unique=False)
    op.create_index(op.f("ix_services_matter_version_theme"), "services_matter_version", ["theme"], unique=False)
    with op.batch_alter_table("services_matter") as batch:
        batch.create_foreign_key(
            "fk_services_matter_current_version", "services_matter_version", ["current_version_id"], ["id"]
        )
    op.create_table(
        "services_matter_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("time_share", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["org_department.id"], name=op.f("fk_services_matter_step_department_id_org_department")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["services_matter_version.id"],
            name=op.f("fk_services_matter_step_version_id_services_matter_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_matter_step")),
    )
    op.create_index("ix_services_matter_step_version", "services_matter_step", ["version_id", "position"], unique=False)
    op.create_table(
        "services_matter_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("originals", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sample_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["services_matter_version.id"],
            name=op.f("fk_services_matter_material_version_id_services_matter_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_matter_material")),
    )
    op.create_index(
        "ix_services_matter_material_version", "services_matter_material", ["version_id", "position"], unique=False
    )


def downgrade() -> None:
    op.drop_table("services_matter_material")
    op.drop_table("services_matter_step")
    with op.batch_alter_table("services_matter") as batch:
        batch.drop_constraint("fk_services_matter_current_version", type_="foreignkey")
    op.drop_table("services_matter_version")
    op.drop_table("services_matter")
