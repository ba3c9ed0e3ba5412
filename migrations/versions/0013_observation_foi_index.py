"""sensing: an index on the observations that name their own feature of interest

``FeaturesOfInterest(id)/Observations`` finds the observations whose ``foi_id`` is the feature, and
those without one whose datastream's default feature it is. The second part is planned from the
(stream, time) indexes; ``ix_sensing_observation_foi`` plans the first (before, every observation was
read). Partial: most observations have no feature of their own, and ingest of those pays nothing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 23:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INDEX = 'ix_sensing_observation_foi'


def upgrade() -> None:
    with op.batch_alter_table('sensing_observation', schema=None) as batch_op:
        batch_op.create_index(INDEX, ['foi_id'], unique=False, sqlite_where=sa.text('foi_id IS NOT NULL'), postgresql_where=sa.text('foi_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('sensing_observation', schema=None) as batch_op:
        batch_op.drop_index(INDEX, sqlite_where=sa.text('foi_id IS NOT NULL'), postgresql_where=sa.text('foi_id IS NOT NULL'))
