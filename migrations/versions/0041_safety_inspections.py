"""safety: the hidden-danger inspection tables

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("township_name", sa.String(length=100), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("village_name", sa.String(length=100), nullable=True),
        sa.Column("grid_code", sa.String(length=20), nullable=True),
        sa.Column("responsible_name", sa.String(length=60), nullable=False),
        sa.Column("responsible_phone_enc", sa.String(length=200), nullable=True),
        sa.Column("responsible_phone_masked", sa.String(length=20), nullable=True),
        sa.Column("safety_manager", sa.String(length=60), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=False),
        sa.Column("last_inspected_on", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_place")),
    )
    with op.batch_alter_table("safety_place", schema=None) as batch_op:
        batch_op.create_index("ix_safety_place_due", ["active", "next_due_on"], unique=False)
        batch_op.create_index("ix_safety_place_kind", ["kind", "active"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_place_township_code"), ["township_code"], unique=False)

    op.create_table(
        "safety_checklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_checklist")),
        sa.UniqueConstraint("code", "version", name="uq_safety_checklist_version"),
    )
    op.create_table(
        "safety_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("inspector_name", sa.String(length=100), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("hazards", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["safety_checklist.id"],
            name=op.f("fk_safety_inspection_checklist_id_safety_checklist"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["org_user.id"],
            name=op.f("fk_safety_inspection_inspector_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["safety_place.id"],
            name=op.f("fk_safety_inspection_place_id_safety_place"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_inspection")),
    )
    with op.batch_alter_table("safety_inspection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_inspection_at"), ["at"], unique=False)
        batch_op.create_index("ix_safety_inspection_place", ["place_id", "at"], unique=False)

    op.create_table(
        "safety_hazard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=20), nullable=False),
        sa.Column("item_text", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("found_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("rectified_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reinspections", sa.Integer(), nullable=False),
        sa.Column("overdue_noted_on", sa.Date(), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("grid_code", sa.String(length=20), nullable=True),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=30), nullable=True),
        sa.Column("case_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_case.id"], name=op.f("fk_safety_hazard_case_id_case_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["safety_inspection.id"],
            name=op.f("fk_safety_hazard_inspection_id_safety_inspection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["safety_place.id"], name=op.f("fk_safety_hazard_place_id_safety_place"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_hazard")),
    )
    with op.batch_alter_table("safety_hazard", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_hazard_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_safety_hazard_place", ["place_id", "found_at"], unique=False)
        batch_op.create_index("ix_safety_hazard_state", ["state", "deadline_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_hazard_township_code"), ["township_code"], unique=False)

    op.create_table(
        "safety_hazard_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=True),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["org_user.id"], name=op.f("fk_safety_hazard_log_actor_id_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["safety_hazard.id"],
            name=op.f("fk_safety_hazard_log_hazard_id_safety_hazard"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_hazard_log")),
    )
    with op.batch_alter_table("safety_hazard_log", schema=None) as batch_op:
        batch_op.create_index("ix_safety_hazard_log_hazard", ["hazard_id", "at"], unique=False)


def downgrade() -> None:
    for table in ("safety_hazard_log", "safety_hazard", "safety_inspection", "safety_checklist", "safety_place"):
        op.drop_table(table)
