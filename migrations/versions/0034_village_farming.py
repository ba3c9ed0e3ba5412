"""village: the farming tables

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 18:40:00.000000
"""



revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
