"""safety: the plans and resources tables

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("lead_department_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_department_id"],
            ["org_department.id"],
            name=op.f("fk_safety_plan_lead_department_id_org_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_safety_plan_code")),
    )
    with op.batch_alter_table("safety_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_plan_type"), ["type"], unique=False)

    op.create_table(
        "safety_plan_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_plan_version_created_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["safety_plan.id"], name=op.f("fk_safety_plan_version_plan_id_safety_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_plan_version_published_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_plan_version")),
        sa.UniqueConstraint("plan_id", "number", name="uq_safety_plan_version_number"),
    )
    with op.batch_alter_table("safety_plan_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_version_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "safety_plan_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("trigger_index", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["safety_plan.id"], name=op.f("fk_safety_plan_rule_plan_id_safety_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["sensing_rule.id"], name=op.f("fk_safety_plan_rule_rule_id_sensing_rule"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["safety_plan_version.id"],
            name=op.f("fk_safety_plan_rule_version_id_safety_plan_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_plan_rule")),
    )
    with op.batch_alter_table("safety_plan_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_rule_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_safety_plan_rule_rule", ["rule_id"], unique=False)


def downgrade() -> None:
    for table in (
        "safety_plan_rule",
        "safety_plan_version",
        "safety_plan",
    ):
        op.drop_table(table)
