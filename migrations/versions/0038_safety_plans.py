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

    op.create_table(
        "safety_plan_exercise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_plan_exercise_created_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["safety_plan.id"],
            name=op.f("fk_safety_plan_exercise_plan_id_safety_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["safety_plan_version.id"],
            name=op.f("fk_safety_plan_exercise_version_id_safety_plan_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_plan_exercise")),
    )
    with op.batch_alter_table("safety_plan_exercise", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_exercise_held_on"), ["held_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_plan_exercise_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "safety_plan_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["safety_plan_exercise.id"],
            name=op.f("fk_safety_plan_attachment_exercise_id_safety_plan_exercise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["safety_plan.id"],
            name=op.f("fk_safety_plan_attachment_plan_id_safety_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_plan_attachment_uploaded_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_plan_attachment")),
    )
    with op.batch_alter_table("safety_plan_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_plan_attachment_exercise_id"), ["exercise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_plan_attachment_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "safety_res_warehouse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("keeper_department_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["keeper_department_id"],
            ["org_department.id"],
            name=op.f("fk_safety_res_warehouse_keeper_department_id_org_department"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_warehouse")),
        sa.UniqueConstraint("name", name=op.f("uq_safety_res_warehouse_name")),
    )
    op.create_table(
        "safety_res_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("material", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["safety_res_warehouse.id"],
            name=op.f("fk_safety_res_stock_warehouse_id_safety_res_warehouse"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_stock")),
    )
    with op.batch_alter_table("safety_res_stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_res_stock_warehouse_id"), ["warehouse_id"], unique=False)

    op.create_table(
        "safety_res_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("leader", sa.String(length=100), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.Column("members_count", sa.Integer(), nullable=False),
        sa.Column("equipment", sa.Text(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_team")),
        sa.UniqueConstraint("name", name=op.f("uq_safety_res_team_name")),
    )
    op.create_table(
        "safety_res_team_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["safety_res_team.id"],
            name=op.f("fk_safety_res_team_member_team_id_safety_res_team"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_team_member")),
    )
    with op.batch_alter_table("safety_res_team_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_res_team_member_team_id"), ["team_id"], unique=False)

    op.create_table(
        "safety_res_shelter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("facilities", sa.Text(), nullable=False),
        sa.Column("township", sa.String(length=100), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_shelter")),
        sa.UniqueConstraint("name", name=op.f("uq_safety_res_shelter_name")),
    )
    op.create_table(
        "safety_res_expert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_res_expert")),
    )


def downgrade() -> None:
    for table in (
        "safety_res_expert",
        "safety_res_shelter",
        "safety_res_team_member",
        "safety_res_team",
        "safety_res_stock",
        "safety_res_warehouse",
        "safety_plan_attachment",
        "safety_plan_exercise",
        "safety_plan_rule",
        "safety_plan_version",
        "safety_plan",
    ):
        op.drop_table(table)
