"""safety: the information reports and reviews tables

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_event_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("to", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deaths", sa.Integer(), nullable=True),
        sa.Column("injured", sa.Integer(), nullable=True),
        sa.Column("missing", sa.Integer(), nullable=True),
        sa.Column("evacuated", sa.Integer(), nullable=True),
        sa.Column("loss_wan", sa.Float(), nullable=True),
        sa.Column("reminded_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_noted", sa.Boolean(), nullable=False),
        sa.Column("drafted_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_report_drafted_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["safety_event.id"],
            name=op.f("fk_safety_event_report_event_id_safety_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_report_sent_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_report")),
        sa.UniqueConstraint("event_id", "kind", "number", name="uq_safety_event_report_slot"),
    )
    with op.batch_alter_table("safety_event_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_event_report_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_safety_event_report_state", ["state", "due_at"], unique=False)

    op.create_table(
        "safety_event_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["safety_event.id"],
            name=op.f("fk_safety_event_review_event_id_safety_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_review_updated_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_review")),
        sa.UniqueConstraint("event_id", name=op.f("uq_safety_event_review_event_id")),
    )


def downgrade() -> None:
    op.drop_table("safety_event_review")
    with op.batch_alter_table("safety_event_report", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_event_report_state")
        batch_op.drop_index(batch_op.f("ix_safety_event_report_event_id"))
    op.drop_table("safety_event_report")
