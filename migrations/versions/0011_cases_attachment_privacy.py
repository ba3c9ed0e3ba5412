"""cases: attachments private by default, published under a random token

- ``case_attachment.public_token``: the random part of a published attachment's URL
  (``/open311/v2/media/{public_token}``); the sequential id no longer opens anything publicly.
- ``public`` is recomputed: only the photos a reporter sent with a public report (web form, Open311)
  stay public; every other file (staff uploads, files of internal comments) becomes private. Staff
  publish a file explicitly (an audited action).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 10:00:00
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PUBLIC_CHANNELS = ('web', 'open311')


def upgrade() -> None:
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_token', sa.String(length=43), nullable=True))
    conn = op.get_bind()
    attachment = sa.table(
        'case_attachment', sa.column('id', sa.Integer), sa.column('public', sa.Boolean), sa.column('public_token')
    )
    case = sa.table('case_case', sa.column('id', sa.Integer), sa.column('channel'), sa.column('public_report'))
    event = sa.table(
        'case_event', sa.column('case_id', sa.Integer), sa.column('action'), sa.column('attachment_ids', sa.JSON)
    )
    reporters_files: set[int] = set()
    rows = conn.execute(
        sa.select(event.c.attachment_ids)
        .join(case, case.c.id == event.c.case_id)
        .where(event.c.action == 'report', case.c.public_report.is_(True), case.c.channel.in_(PUBLIC_CHANNELS))
    )
    for (ids,) in rows:
        reporters_files.update(int(i) for i in ids or [])
    for (att_id,) in conn.execute(sa.select(attachment.c.id)).all():
        conn.execute(
            attachment.update()
            .where(attachment.c.id == att_id)
            .values(public=att_id in reporters_files, public_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.alter_column('public_token', existing_type=sa.String(length=43), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_case_attachment_public_token'), ['public_token'])


def downgrade() -> None:
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_case_attachment_public_token'), type_='unique')
        batch_op.drop_column('public_token')
