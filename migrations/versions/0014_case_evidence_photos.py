"""cases: evidence photos — the stage of every attachment, where and when it was taken, photos required by category

- ``case_attachment.stage``: report (before the work), feedback or check (after it). Every existing file
  was sent with a report or a comment before this, so existing rows are backfilled as ``report``.
- ``case_attachment.taken_at``, ``lon``, ``lat``, ``accuracy_m``, ``position_source``: when and where the
  photo was taken (the camera's EXIF, or the browser's position when the photo was chosen); empty for
  existing rows.
- ``case_category.feedback_photo_required``, ``check_photo_required``: the category needs a photo with
  the handler's feedback (处置反馈) / the inspector's check (核查); false for every existing category.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=10), server_default="report", nullable=False))
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("accuracy_m", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("position_source", sa.String(length=8), nullable=True))
    # the backfill: every file written before evidence stages documents the report (before the work)
    attachment = sa.table("case_attachment", sa.column("stage", sa.String))
    op.get_bind().execute(attachment.update().where(attachment.c.stage.is_(None)).values(stage="report"))
    with op.batch_alter_table("case_category", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("feedback_photo_required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("check_photo_required", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("case_category", schema=None) as batch_op:
        batch_op.drop_column("check_photo_required")
        batch_op.drop_column("feedback_photo_required")
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.drop_column("position_source")
        batch_op.drop_column("accuracy_m")
        batch_op.drop_column("lat")
        batch_op.drop_column("lon")
        batch_op.drop_column("taken_at")
        batch_op.drop_column("stage")
