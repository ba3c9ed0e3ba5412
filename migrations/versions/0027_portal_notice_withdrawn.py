"""portal: who withdrew a notice and when (村务公开 shows both)

Notices withdrawn before this revision take the time of their last change, and the person the audit
log names for the withdrawal when that person's account is still there.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 13:03:11.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portal_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_portal_notice_withdrawn_by_id_org_user"),
            "org_user",
            ["withdrawn_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        """
        UPDATE portal_notice SET withdrawn_at = updated_at,
          withdrawn_by_id = (
            SELECT e.actor_id FROM org_audit_event e JOIN org_user u ON u.id = e.actor_id
            WHERE e.action = 'portal.notice.withdraw' AND e.target_type = 'portal_notice'
              AND e.target_id = CAST(portal_notice.id AS VARCHAR(64))
            ORDER BY e.seq DESC LIMIT 1)
        WHERE state = 'withdrawn'
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("portal_notice", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_portal_notice_withdrawn_by_id_org_user"), type_="foreignkey")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("withdrawn_by_id")
