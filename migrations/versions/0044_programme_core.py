"""programme: modules, phases, organisations, projects, contracts, KPIs and assessments

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programme_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_phase")),
        sa.UniqueConstraint("number", name=op.f("uq_programme_phase_number")),
    )
    op.create_table(
        "programme_org",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("contact_name", sa.String(length=60), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["org_department.id"],
            name=op.f("fk_programme_org_department_id_org_department"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_org")),
        sa.UniqueConstraint("name", name=op.f("uq_programme_org_name")),
        sa.UniqueConstraint("uscc", name=op.f("uq_programme_org_uscc")),
    )
    op.create_table(
        "programme_module",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("phase_id", sa.Integer(), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("switched_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("switched_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["programme_phase.id"],
            name=op.f("fk_programme_module_phase_id_programme_phase"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["switched_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_module_switched_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_programme_module")),
    )
    op.create_table(
        "programme_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("phase_id", sa.Integer(), nullable=True),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("device_classes", sa.JSON(), nullable=False),
        sa.Column("data_resources", sa.JSON(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("funding_model", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["org_department.id"],
            name=op.f("fk_programme_project_department_id_org_department"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["programme_org.id"],
            name=op.f("fk_programme_project_operator_id_programme_org"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["programme_phase.id"],
            name=op.f("fk_programme_project_phase_id_programme_phase"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_project")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_project_code")),
    )
    op.create_table(
        "programme_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("formula", sa.JSON(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["programme_org.id"],
            name=op.f("fk_programme_contract_party_id_programme_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["programme_project.id"],
            name=op.f("fk_programme_contract_project_id_programme_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_contract")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_contract_code")),
    )
    with op.batch_alter_table("programme_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_contract_party_id"), ["party_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programme_contract_project_id"), ["project_id"], unique=False)
    op.create_table(
        "programme_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=True),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("deduction_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("computed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by_id", sa.Integer(), nullable=True),
        sa.Column("locked_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_assessment_approved_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["programme_contract.id"],
            name=op.f("fk_programme_assessment_contract_id_programme_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["locked_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_assessment_locked_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_assessment")),
        sa.UniqueConstraint("contract_id", "period_start", name="uq_programme_assessment_period"),
    )
    with op.batch_alter_table("programme_assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_assessment_contract_id"), ["contract_id"], unique=False)
    op.create_table(
        "programme_instalment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["programme_contract.id"],
            name=op.f("fk_programme_instalment_contract_id_programme_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_instalment")),
    )
    with op.batch_alter_table("programme_instalment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_instalment_contract_id"), ["contract_id"], unique=False)
    op.create_table(
        "programme_kpi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=40), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("scoring", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["programme_contract.id"],
            name=op.f("fk_programme_kpi_contract_id_programme_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_kpi")),
    )
    with op.batch_alter_table("programme_kpi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_kpi_contract_id"), ["contract_id"], unique=False)
    op.create_table(
        "programme_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["programme_contract.id"],
            name=op.f("fk_programme_spend_contract_id_programme_contract"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["programme_project.id"],
            name=op.f("fk_programme_spend_project_id_programme_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_spend")),
    )
    with op.batch_alter_table("programme_spend", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_spend_project_id"), ["project_id"], unique=False)
    op.create_table(
        "programme_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["programme_assessment.id"],
            name=op.f("fk_programme_amendment_assessment_id_programme_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["org_user.id"], name=op.f("fk_programme_amendment_by_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_amendment")),
    )
    with op.batch_alter_table("programme_amendment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_amendment_assessment_id"), ["assessment_id"], unique=False)
    op.create_table(
        "programme_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("whole", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("records_url", sa.String(length=500), nullable=False),
        sa.Column("whole_url", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["programme_assessment.id"],
            name=op.f("fk_programme_score_assessment_id_programme_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["programme_kpi.id"], name=op.f("fk_programme_score_kpi_id_programme_kpi"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_score")),
        sa.UniqueConstraint("assessment_id", "kpi_id", name="uq_programme_score_kpi"),
    )
    with op.batch_alter_table("programme_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_score_assessment_id"), ["assessment_id"], unique=False)


def downgrade() -> None:
    op.drop_table("programme_amendment")
    op.drop_table("programme_score")
    op.drop_table("programme_assessment")
    op.drop_table("programme_kpi")
    op.drop_table("programme_instalment")
    op.drop_table("programme_spend")
    op.drop_table("programme_contract")
    op.drop_table("programme_project")
    op.drop_table("programme_org")
    op.drop_table("programme_module")
    op.drop_table("programme_phase")
