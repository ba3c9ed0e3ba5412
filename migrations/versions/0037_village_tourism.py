"""village: the tourism tables

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04 18:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_spot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("a_level", sa.String(length=8), nullable=False),
        sa.Column("outline", sa.JSON(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("capacity_instant", sa.Integer(), nullable=False),
        sa.Column("capacity_daily", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=False),
        sa.Column("closes", sa.String(length=5), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("crowding", sa.String(length=8), nullable=False),
        sa.Column("crowding_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_park", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["org_user.id"], name=op.f("fk_village_spot_manager_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_spot")),
        sa.UniqueConstraint("name", name=op.f("uq_village_spot_name")),
    )
    with op.batch_alter_table("village_spot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_spot_manager_id"), ["manager_id"], unique=False)

    op.create_table(
        "village_spot_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spot_id", sa.Integer(), nullable=False),
        sa.Column("entry_datastream_id", sa.Integer(), nullable=False),
        sa.Column("exit_datastream_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_datastream_id"],
            ["sensing_datastream.id"],
            name=op.f("fk_village_spot_counter_entry_datastream_id_sensing_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["exit_datastream_id"],
            ["sensing_datastream.id"],
            name=op.f("fk_village_spot_counter_exit_datastream_id_sensing_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["spot_id"],
            ["village_spot.id"],
            name=op.f("fk_village_spot_counter_spot_id_village_spot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_spot_counter")),
        sa.UniqueConstraint("entry_datastream_id", name="uq_village_spot_counter_entry"),
    )
    with op.batch_alter_table("village_spot_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_spot_counter_spot_id"), ["spot_id"], unique=False)

    op.create_table(
        "village_spot_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spot_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("exits", sa.Integer(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("peak_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("clipped", sa.Boolean(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("revenue_by_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["revenue_by_id"],
            ["org_user.id"],
            name=op.f("fk_village_spot_daily_revenue_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["spot_id"],
            ["village_spot.id"],
            name=op.f("fk_village_spot_daily_spot_id_village_spot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_spot_daily")),
        sa.UniqueConstraint("spot_id", "day", name="uq_village_spot_daily"),
    )
    with op.batch_alter_table("village_spot_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_spot_daily_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_spot_daily_spot_id"), ["spot_id"], unique=False)

    # GiST indexes (postgresql_using='gist') must go under `if op.get_bind().dialect.name == 'postgresql':`
    op.create_table(
        "village_homestay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("village_name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("rooms", sa.Integer(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("keeper_id", sa.Integer(), nullable=True),
        sa.Column("license_no", sa.String(length=40), nullable=True),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["keeper_id"], ["org_user.id"], name=op.f("fk_village_homestay_keeper_id_org_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_homestay")),
    )
    with op.batch_alter_table("village_homestay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_homestay_keeper_id"), ["keeper_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_homestay_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_homestay_village_code"), ["village_code"], unique=False)

    op.create_table(
        "village_homestay_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("homestay_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rooms_occupied", sa.Integer(), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["homestay_id"],
            ["village_homestay.id"],
            name=op.f("fk_village_homestay_report_homestay_id_village_homestay"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["org_user.id"],
            name=op.f("fk_village_homestay_report_reported_by_id_org_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_homestay_report")),
        sa.UniqueConstraint("homestay_id", "day", name="uq_village_homestay_report"),
    )
    with op.batch_alter_table("village_homestay_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_homestay_report_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_homestay_report_homestay_id"), ["homestay_id"], unique=False)

    # GiST indexes (postgresql_using='gist') must go under `if op.get_bind().dialect.name == 'postgresql':`
    op.create_table(
        "village_tourism_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("starts_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("spot_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["spot_id"],
            ["village_spot.id"],
            name=op.f("fk_village_tourism_event_spot_id_village_spot"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_tourism_event")),
    )
    with op.batch_alter_table("village_tourism_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_tourism_event_spot_id"), ["spot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_tourism_event_starts_at"), ["starts_at"], unique=False)

    # GiST indexes (postgresql_using='gist') must go under `if op.get_bind().dialect.name == 'postgresql':`
    op.create_table(
        "village_heritage_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("listed_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_heritage_item")),
        sa.UniqueConstraint("name", name=op.f("uq_village_heritage_item_name")),
    )
    op.create_table(
        "village_heritage_inheritor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["village_heritage_item.id"],
            name=op.f("fk_village_heritage_inheritor_item_id_village_heritage_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_heritage_inheritor")),
    )
    with op.batch_alter_table("village_heritage_inheritor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_heritage_inheritor_item_id"), ["item_id"], unique=False)

    # GiST indexes (postgresql_using='gist') must go under `if op.get_bind().dialect.name == 'postgresql':`
    op.create_table(
        "village_traditional_village",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("town", sa.String(length=60), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("listed_year", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_traditional_village")),
        sa.UniqueConstraint("name", name=op.f("uq_village_traditional_village_name")),
    )


# GiST indexes (postgresql_using='gist') must go under `if op.get_bind().dialect.name == 'postgresql':`


def downgrade() -> None:
    op.drop_table("village_traditional_village")
    op.drop_table("village_heritage_inheritor")
    op.drop_table("village_heritage_item")
    op.drop_table("village_tourism_event")
    op.drop_table("village_homestay_report")
    op.drop_table("village_homestay")
    op.drop_table("village_spot_daily")
    op.drop_table("village_spot_counter")
    op.drop_table("village_spot")
