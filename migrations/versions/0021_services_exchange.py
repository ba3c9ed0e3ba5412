"""services: result certificates (verification tokens) and the state-change webhook outbox

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 10:30:00
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("issued_at", countyos.core.db.UTCDateTime(), nullable=False),
        sa.Column("valid_from", countyos.core.db.UTCDateTime(), nullable=False),
        sa.Column("valid_until", countyos.core.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", countyos.core.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_certificate_application_id_services_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["org_user.id"], name=op.f("fk_services_certificate_revoked_by_id_org_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_certificate")),
        sa.UniqueConstraint("application_id", name=op.f("uq_services_certificate_application_id")),
        sa.UniqueConstraint("token", name=op.f("uq_services_certificate_token")),
    )
    op.create_table(
        "services_webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", countyos.core.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", countyos.core.db.UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_webhook_delivery_application_id_services_application"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_webhook_delivery")),
    )
    with op.batch_alter_table("services_webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_webhook_delivery_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_services_webhook_delivery_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_services_webhook_delivery_pending", ["sent_at", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("services_webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_services_webhook_delivery_pending")
        batch_op.drop_index(batch_op.f("ix_services_webhook_delivery_event_id"))
        batch_op.drop_index(batch_op.f("ix_services_webhook_delivery_application_id"))
    op.drop_table("services_webhook_delivery")
    op.drop_table("services_certificate")
