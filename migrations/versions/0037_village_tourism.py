"""village: the tourism tables

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04 18:40:00.000000
"""



revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
