"""safety: the events and command tables

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("started_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("level_changed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["sensing_alarm.id"], name=op.f("fk_safety_event_alarm_id_sensing_alarm"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_case.id"], name=op.f("fk_safety_event_case_id_case_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["org_user.id"], name=op.f("fk_safety_event_closed_by_id_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["safety_plan.id"], name=op.f("fk_safety_event_plan_id_safety_plan"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["safety_plan_version.id"],
            name=op.f("fk_safety_event_plan_version_id_safety_plan_version"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["org_user.id"], name=op.f("fk_safety_event_started_by_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event")),
        sa.UniqueConstraint("number", name=op.f("uq_safety_event_number")),
    )
    with op.batch_alter_table("safety_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_event_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_safety_event_state", ["state", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_safety_event_type"), ["type"], unique=False)

    op.create_table(
        "safety_event_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["org_user.id"], name=op.f("fk_safety_event_log_actor_id_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["safety_event.id"],
            name=op.f("fk_safety_event_log_event_id_safety_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_log")),
    )
    with op.batch_alter_table("safety_event_log", schema=None) as batch_op:
        batch_op.create_index("ix_safety_event_log_event", ["event_id", "at"], unique=False)

    op.create_table(
        "safety_event_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        sa.Column("issued_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("closed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=200), nullable=False),
        sa.Column("overdue_noted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_task_acknowledged_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["org_department.id"],
            name=op.f("fk_safety_event_task_department_id_org_department"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["org_user.id"], name=op.f("fk_safety_event_task_done_by_id_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["safety_event.id"],
            name=op.f("fk_safety_event_task_event_id_safety_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_task")),
    )
    with op.batch_alter_table("safety_event_task", schema=None) as batch_op:
        batch_op.create_index("ix_safety_event_task_dept", ["department_id", "state", "deadline_at"], unique=False)
        batch_op.create_index("ix_safety_event_task_event", ["event_id", "state"], unique=False)

    op.create_table(
        "safety_event_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_by_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["safety_event.id"],
            name=op.f("fk_safety_event_command_event_id_safety_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_command_issued_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_command")),
    )
    with op.batch_alter_table("safety_event_command", schema=None) as batch_op:
        batch_op.create_index("ix_safety_event_command_event", ["event_id", "at"], unique=False)

    op.create_table(
        "safety_event_command_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["org_user.id"],
            name=op.f("fk_safety_event_command_target_acknowledged_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["safety_event_command.id"],
            name=op.f("fk_safety_event_command_target_command_id_safety_event_command"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["org_department.id"],
            name=op.f("fk_safety_event_command_target_department_id_org_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_command_target")),
        sa.UniqueConstraint("command_id", "department_id", name="uq_safety_event_command_target"),
    )
    with op.batch_alter_table("safety_event_command_target", schema=None) as batch_op:
        batch_op.create_index("ix_safety_event_command_target_dept", ["department_id", "acknowledged_at"], unique=False)

    op.create_table(
        "safety_event_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["org_user.id"], name=op.f("fk_safety_event_feedback_actor_id_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["safety_event_task.id"],
            name=op.f("fk_safety_event_feedback_task_id_safety_event_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_event_feedback")),
    )
    with op.batch_alter_table("safety_event_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_safety_event_feedback_task", ["task_id", "at"], unique=False)


def downgrade() -> None:
    for table in (
        "safety_event_feedback",
        "safety_event_command_target",
        "safety_event_command",
        "safety_event_log",
        "safety_event_task",
        "safety_event",
    ):
        op.drop_table(table)
