"""village: the producers tables

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 18:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import countyos.core.db

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("subject_code_type", sa.String(length=10), nullable=False),
        sa.Column("subject_code", sa.String(length=40), nullable=True),
        sa.Column("id_kind", sa.String(length=10), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("id_number_enc", sa.String(length=200), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=24), nullable=True),
        sa.Column("legal_person", sa.String(length=60), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("village_name", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("contact_name", sa.String(length=60), nullable=True),
        sa.Column("phone_enc", sa.String(length=200), nullable=True),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("gs1_prefix", sa.String(length=12), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_entity")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_village_entity_id_number_index")),
        sa.UniqueConstraint("subject_code", name=op.f("uq_village_entity_subject_code")),
        sa.UniqueConstraint("uscc", name=op.f("uq_village_entity_uscc")),
    )
    with op.batch_alter_table("village_entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_entity_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_entity_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_entity_village_code"), ["village_code"], unique=False)

    op.create_table(
        "village_entity_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_entity_member_entity_id_village_entity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["org_user.id"], name=op.f("fk_village_entity_member_user_id_org_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_entity_member")),
        sa.UniqueConstraint("entity_id", "user_id", name="uq_village_entity_member"),
    )
    with op.batch_alter_table("village_entity_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_entity_member_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_entity_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "village_base",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("facility", sa.String(length=16), nullable=False),
        sa.Column("product_codes", sa.JSON(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("village_name", sa.String(length=100), nullable=True),
        sa.Column("geom", countyos.geo.models.Geometry(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_base_entity_id_village_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_base")),
        sa.UniqueConstraint("code", name=op.f("uq_village_base_code")),
    )
    with op.batch_alter_table("village_base", schema=None) as batch_op:
        batch_op.create_index("ix_village_base_bbox", ["minx", "maxx", "miny", "maxy"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_base_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_base_village_code"), ["village_code"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("gix_village_base_geom", "village_base", ["geom"], unique=False, postgresql_using="gist")

    op.create_table(
        "village_certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issuer", sa.String(length=120), nullable=False),
        sa.Column("product_codes", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_certification_entity_id_village_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_certification")),
        sa.UniqueConstraint("kind", "number", name="uq_village_certification_kind_number"),
    )
    with op.batch_alter_table("village_certification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_certification_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_certification_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_certification_valid_to"), ["valid_to"], unique=False)

    op.create_table(
        "village_base_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attached_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["village_base.id"],
            name=op.f("fk_village_base_device_base_id_village_base"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sensing_thing.id"],
            name=op.f("fk_village_base_device_thing_id_sensing_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_base_device")),
        sa.UniqueConstraint("thing_id", name=op.f("uq_village_base_device_thing_id")),
    )
    with op.batch_alter_table("village_base_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_base_device_base_id"), ["base_id"], unique=False)

    op.create_table(
        "village_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", countyos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", countyos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["sensing_alarm.id"], name=op.f("fk_village_task_alarm_id_sensing_alarm"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["base_id"], ["village_base.id"], name=op.f("fk_village_task_base_id_village_base"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["done_by"], ["org_user.id"], name=op.f("fk_village_task_done_by_org_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["village_entity.id"],
            name=op.f("fk_village_task_entity_id_village_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_task")),
        sa.UniqueConstraint("alarm_id", name=op.f("uq_village_task_alarm_id")),
    )
    with op.batch_alter_table("village_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_task_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_task_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_village_task_state"), ["state"], unique=False)


def downgrade() -> None:
    for table in (
        "village_task",
        "village_base_device",
        "village_certification",
        "village_base",
        "village_entity_member",
        "village_entity",
    ):
        op.drop_table(table)
