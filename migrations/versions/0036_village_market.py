"""village: the market tables

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 18:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_supply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("closed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["base_id"], ["village_base.id"], name=op.f("fk_village_supply_base_id_village_base"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_supply_entity_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_supply")),
    )
    with op.batch_alter_table("village_supply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_supply_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_supply_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_supply_period_to"), ["period_to"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_supply_product_code"), ["product_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_supply_state"), ["state"], unique=False)

    op.create_table(
        "village_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("max_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("place_name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("frequency", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("closed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_demand_entity_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_demand")),
    )
    with op.batch_alter_table("village_demand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_demand_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_demand_period_to"), ["period_to"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_demand_product_code"), ["product_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_demand_state"), ["state"], unique=False)

    op.create_table(
        "village_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("supply_id", sa.Integer(), nullable=True),
        sa.Column("demand_id", sa.Integer(), nullable=True),
        sa.Column("placed_by", sa.String(length=10), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("wanted_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("placed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["village_entity.id"],
            name=op.f("fk_village_order_buyer_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["village_demand.id"],
            name=op.f("fk_village_order_demand_id_village_demand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["village_entity.id"],
            name=op.f("fk_village_order_seller_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supply_id"],
            ["village_supply.id"],
            name=op.f("fk_village_order_supply_id_village_supply"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_order")),
        sa.UniqueConstraint("number", name=op.f("uq_village_order_number")),
    )
    with op.batch_alter_table("village_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_order_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_demand_id"), ["demand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_placed_at"), ["placed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_product_code"), ["product_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_seller_id"), ["seller_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_order_supply_id"), ["supply_id"], unique=False)

    op.create_table(
        "village_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["village_order.id"],
            name=op.f("fk_village_order_event_order_id_village_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["org_user.id"], name=op.f("fk_village_order_event_user_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_order_event")),
    )
    with op.batch_alter_table("village_order_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_order_event_order_id"), ["order_id"], unique=False)

    op.create_table(
        "village_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_plate", sa.String(length=12), nullable=False),
        sa.Column("departed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("thing_id", sa.Integer(), nullable=True),
        sa.Column("temp_n", sa.Integer(), nullable=True),
        sa.Column("temp_min", sa.Float(), nullable=True),
        sa.Column("temp_mean", sa.Float(), nullable=True),
        sa.Column("temp_max", sa.Float(), nullable=True),
        sa.Column("temp_limit", sa.Float(), nullable=True),
        sa.Column("excursion", sa.Boolean(), nullable=True),
        sa.Column("certificate_no", sa.String(length=60), nullable=True),
        sa.Column("check_result", sa.String(length=10), nullable=True),
        sa.Column("check_note", sa.String(length=500), nullable=False),
        sa.Column("checked_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checked_by"], ["org_user.id"], name=op.f("fk_village_delivery_checked_by_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["village_order.id"],
            name=op.f("fk_village_delivery_order_id_village_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensing_thing.id"],
            name=op.f("fk_village_delivery_thing_id_sensing_thing"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_delivery")),
        sa.UniqueConstraint("order_id", name=op.f("uq_village_delivery_order_id")),
    )
    with op.batch_alter_table("village_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_delivery_arrived_at"), ["arrived_at"], unique=False)

    op.create_table(
        "village_delivery_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["village_batch.id"],
            name=op.f("fk_village_delivery_item_batch_id_village_batch"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["village_delivery.id"],
            name=op.f("fk_village_delivery_item_delivery_id_village_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_delivery_item")),
    )
    with op.batch_alter_table("village_delivery_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_delivery_item_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_delivery_item_delivery_id"), ["delivery_id"], unique=False)


def downgrade() -> None:
    for table in (
        "village_delivery_item",
        "village_delivery",
        "village_order_event",
        "village_order",
        "village_demand",
        "village_supply",
    ):
        op.drop_table(table)
