"""live feed: the writing transaction of every case and alarm timeline row, to read them in commit order

The live feed read ``case_event`` and ``sensing_alarm_event`` by increasing id. On PostgreSQL with
several workers a row whose (lower) id was taken by a transaction that committed later than the row
after it was skipped for good. Each row now records its transaction (``xact xid8 DEFAULT
pg_current_xact_id()``) and the feed reads in ``(xact, id)`` order below the oldest transaction in
progress (see ``countyos.core.commitorder``). Existing rows get 0: they come first, in id order, so a
browser's cursor from before the upgrade still resumes where it was.

On SQLite (one writer at a time: ids are already in commit order) the column exists and stays empty.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TABLES = ('case_event', 'sensing_alarm_event')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            # a constant default fills the existing rows without rewriting the table; then the real one
            op.execute(f"ALTER TABLE {table} ADD COLUMN xact xid8 DEFAULT '0'")
            op.execute(f'ALTER TABLE {table} ALTER COLUMN xact SET DEFAULT pg_current_xact_id()')
            op.create_index(f'ix_{table}_xact_id', table, ['xact', 'id'], unique=False)
        return
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('xact', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == 'postgresql':
            op.drop_index(f'ix_{table}_xact_id', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('xact')
