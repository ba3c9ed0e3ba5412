"""eco: the rivers tables

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db
import countyos.geo.models

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "eco_river_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("township_name", sa.String(length=60), nullable=True),
        sa.Column("geom", countyos.geo.models.Geometry(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["eco_river_area.id"],
            name=op.f("fk_eco_river_area_parent_id_eco_river_area"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_river_area")),
        sa.UniqueConstraint("code", name=op.f("uq_eco_river_area_code")),
    )
    with op.batch_alter_table("eco_river_area", schema=None) as b:
        b.create_index("ix_eco_river_area_bbox", ["minx", "maxx", "miny", "maxy"], unique=False)
        b.create_index(b.f("ix_eco_river_area_kind"), ["kind"], unique=False)
        b.create_index(b.f("ix_eco_river_area_parent_id"), ["parent_id"], unique=False)
        b.create_index(b.f("ix_eco_river_area_township_code"), ["township_code"], unique=False)
    if _postgres():
        op.create_index("gix_eco_river_area_geom", "eco_river_area", ["geom"], unique=False, postgresql_using="gist")

    op.create_table(
        "eco_river_chief",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["eco_river_area.id"],
            name=op.f("fk_eco_river_chief_area_id_eco_river_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["org_user.id"], name=op.f("fk_eco_river_chief_user_id_org_user"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_river_chief")),
    )
    with op.batch_alter_table("eco_river_chief", schema=None) as b:
        b.create_index(b.f("ix_eco_river_chief_area_id"), ["area_id"], unique=False)
        b.create_index(b.f("ix_eco_river_chief_level"), ["level"], unique=False)
        b.create_index(b.f("ix_eco_river_chief_user_id"), ["user_id"], unique=False)

    op.create_table(
        "eco_river_patrol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chief_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["eco_river_area.id"],
            name=op.f("fk_eco_river_patrol_area_id_eco_river_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chief_id"],
            ["eco_river_chief.id"],
            name=op.f("fk_eco_river_patrol_chief_id_eco_river_chief"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["org_user.id"], name=op.f("fk_eco_river_patrol_user_id_org_user"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_river_patrol")),
    )
    with op.batch_alter_table("eco_river_patrol", schema=None) as b:
        b.create_index(b.f("ix_eco_river_patrol_area_id"), ["area_id"], unique=False)
        b.create_index(b.f("ix_eco_river_patrol_chief_id"), ["chief_id"], unique=False)
        b.create_index(b.f("ix_eco_river_patrol_started_at"), ["started_at"], unique=False)
        b.create_index(b.f("ix_eco_river_patrol_state"), ["state"], unique=False)
        b.create_index(b.f("ix_eco_river_patrol_user_id"), ["user_id"], unique=False)

    op.create_table(
        "eco_river_patrol_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["eco_river_patrol.id"],
            name=op.f("fk_eco_river_patrol_point_patrol_id_eco_river_patrol"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_river_patrol_point")),
        sa.UniqueConstraint("patrol_id", "seq", name="uq_eco_river_patrol_point_seq"),
    )
    with op.batch_alter_table("eco_river_patrol_point", schema=None) as b:
        b.create_index(b.f("ix_eco_river_patrol_point_patrol_id"), ["patrol_id"], unique=False)

    op.create_table(
        "eco_river_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("chief_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("found_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=24), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["eco_river_area.id"],
            name=op.f("fk_eco_river_problem_area_id_eco_river_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["case_attachment.id"],
            name=op.f("fk_eco_river_problem_attachment_id_case_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_case.id"], name=op.f("fk_eco_river_problem_case_id_case_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["chief_id"],
            ["eco_river_chief.id"],
            name=op.f("fk_eco_river_problem_chief_id_eco_river_chief"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["eco_river_patrol.id"],
            name=op.f("fk_eco_river_problem_patrol_id_eco_river_patrol"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco_river_problem")),
    )
    with op.batch_alter_table("eco_river_problem", schema=None) as b:
        b.create_index(b.f("ix_eco_river_problem_area_id"), ["area_id"], unique=False)
        b.create_index(b.f("ix_eco_river_problem_case_id"), ["case_id"], unique=False)
        b.create_index(b.f("ix_eco_river_problem_chief_id"), ["chief_id"], unique=False)
        b.create_index(b.f("ix_eco_river_problem_found_at"), ["found_at"], unique=False)
        b.create_index(b.f("ix_eco_river_problem_patrol_id"), ["patrol_id"], unique=False)


def downgrade() -> None:
    for table in ("eco_river_problem", "eco_river_patrol_point", "eco_river_patrol", "eco_river_chief"):
        op.drop_table(table)
    if _postgres():
        op.drop_index("gix_eco_river_area_geom", table_name="eco_river_area")
    op.drop_table("eco_river_area")
