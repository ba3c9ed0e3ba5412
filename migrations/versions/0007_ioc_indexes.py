"""ioc: composite indexes on the cases tables for the operations view's indicators

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:20:00
"""
from alembic import op
import sqlalchemy as sa
import countyos.core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
