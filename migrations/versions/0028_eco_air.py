"""eco: the air tables

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def _index_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("iaqi", sa.JSON(), nullable=False),
        sa.Column("aqi", sa.Integer(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("primary", sa.JSON(), nullable=False),
        sa.Column("exceeding", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("computed_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "eco_air_station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("streams", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("checked_until", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thing_id"], ["sensing_thing.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("thing_id"),
    )
    op.create_index("ix_eco_air_station_division_code", "eco_air_station", ["division_code"], unique=False)
    op.create_table(
        "eco_air_hourly",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("start", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        *[sa.Column(name, sa.Float(), nullable=True) for name in ("so2", "no2", "co", "o3", "pm10", "pm25", "o3_8h")],
        sa.Column("minutes", sa.JSON(), nullable=False),
        *_index_columns(),
        sa.ForeignKeyConstraint(["station_id"], ["eco_air_station.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id", "start"),
    )
    op.create_table(
        "eco_air_daily",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("start", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        *[
            sa.Column(name, sa.Float(), nullable=True)
            for name in ("so2", "no2", "co", "pm10", "pm25", "o3_1h", "o3_8h")
        ],
        sa.Column("hours", sa.JSON(), nullable=False),
        *_index_columns(),
        sa.ForeignKeyConstraint(["station_id"], ["eco_air_station.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id", "start"),
    )


def downgrade() -> None:
    op.drop_table("eco_air_daily")
    op.drop_table("eco_air_hourly")
    op.drop_index("ix_eco_air_station_division_code", table_name="eco_air_station")
    op.drop_table("eco_air_station")
