"""programme: the partners part's tables — members, sandbox keys and their use, partner services

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-05 01:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programme_partner_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_partner_member_added_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["programme_org.id"],
            name=op.f("fk_programme_partner_member_org_id_programme_org"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["org_user.id"], name=op.f("fk_programme_partner_member_user_id_org_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_partner_member")),
        sa.UniqueConstraint("user_id", name=op.f("uq_programme_partner_member_user_id")),
    )
    op.create_index(op.f("ix_programme_partner_member_org_id"), "programme_partner_member", ["org_id"], unique=False)

    op.create_table(
        "programme_partner_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("review_note", sa.String(length=500), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["programme_org.id"],
            name=op.f("fk_programme_partner_service_org_id_programme_org"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_partner_service_reviewed_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_partner_service_submitted_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_partner_service")),
    )
    op.create_index(op.f("ix_programme_partner_service_org_id"), "programme_partner_service", ["org_id"], unique=False)
    op.create_index(op.f("ix_programme_partner_service_state"), "programme_partner_service", ["state"], unique=False)

    op.create_table(
        "programme_partner_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("api_token_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=False),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_token_id"],
            ["org_api_token.id"],
            name=op.f("fk_programme_partner_key_api_token_id_org_api_token"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["org_user.id"],
            name=op.f("fk_programme_partner_key_created_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["programme_org.id"],
            name=op.f("fk_programme_partner_key_org_id_programme_org"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_partner_key")),
        sa.UniqueConstraint("api_token_id", name=op.f("uq_programme_partner_key_api_token_id")),
    )
    op.create_index(op.f("ix_programme_partner_key_org_id"), "programme_partner_key", ["org_id"], unique=False)

    op.create_table(
        "programme_partner_key_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["programme_partner_key.id"],
            name=op.f("fk_programme_partner_key_usage_key_id_programme_partner_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_partner_key_usage")),
        sa.UniqueConstraint("key_id", "day", name=op.f("uq_programme_partner_key_usage_key_id")),
    )


def downgrade() -> None:
    op.drop_table("programme_partner_key_usage")
    op.drop_table("programme_partner_key")
    op.drop_index(op.f("ix_programme_partner_service_state"), table_name="programme_partner_service")
    op.drop_index(op.f("ix_programme_partner_service_org_id"), table_name="programme_partner_service")
    op.drop_table("programme_partner_service")
    op.drop_index(op.f("ix_programme_partner_member_org_id"), table_name="programme_partner_member")
    op.drop_table("programme_partner_member")
