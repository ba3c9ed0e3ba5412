"""org: second-factor failures counted apart, a sealed audit chain head, the account list for admins

- ``org_user.failed_mfa`` counts wrong second-factor codes on their own: a right password no longer
  resets the count, so guessing the code locks the account like guessing the password.
- ``org_audit_head.mac`` seals the chain head and the pruning marker (HMAC-SM3 with a key derived
  from the secret key): removing the newest or the oldest rows and moving the head or the marker to
  a surviving row is detected by ``countyos audit verify``. The existing head is sealed here, with
  the secret key of the settings the upgrade runs with.
- The built-in operational roles lose ``user.read`` (the list of every account with its roles and
  status): it stays with the three administrators. Pickers use the names-only ``/api/v1/people``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OPERATIONAL_ROLES = ("intake", "shift_leader", "dispatcher", "handler", "inspector", "leader", "data_admin")


def _seal(seq: int, hash_: str, pruned_before_seq: int, pruned_anchor_hash: str | None) -> str:
    """The seal as ``countyos.org.service.audit.head_mac`` computes it (kept here as of this revision)."""
    from countyos.core.crypto import derive_key, sm3_hmac
    from countyos.core.settings import get_settings

    key = derive_key(get_settings().secret_key.get_secret_value(), "audit-head")
    body = f"head|{seq}|{hash_}|{pruned_before_seq}|{pruned_anchor_hash or ''}"
    return sm3_hmac(key, body.encode())


def upgrade() -> None:
    with op.batch_alter_table("org_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_mfa", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("org_audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    head = conn.execute(
        sa.text("SELECT seq, hash, pruned_before_seq, pruned_anchor_hash FROM org_audit_head WHERE id = 1")
    ).first()
    if head is not None:
        conn.execute(
            sa.text("UPDATE org_audit_head SET mac = :mac WHERE id = 1"),
            {"mac": _seal(int(head[0]), head[1], int(head[2] or 0), head[3])},
        )
    conn.execute(
        sa.text(
            "DELETE FROM org_role_permission WHERE permission_code = :p AND role_id IN "
            "(SELECT id FROM org_role WHERE is_builtin AND code IN :codes)"
        ).bindparams(sa.bindparam("codes", expanding=True)),
        {"p": "user.read", "codes": list(OPERATIONAL_ROLES)},
    )


def downgrade() -> None:
    conn = op.get_bind()
    exists = conn.execute(sa.text("SELECT 1 FROM org_permission WHERE code = 'user.read'")).first()
    if exists is not None:
        conn.execute(
            sa.text(
                "INSERT INTO org_role_permission (role_id, permission_code) "
                "SELECT id, 'user.read' FROM org_role r WHERE r.is_builtin AND r.code IN :codes AND NOT EXISTS "
                "(SELECT 1 FROM org_role_permission x WHERE x.role_id = r.id AND x.permission_code = 'user.read')"
            ).bindparams(sa.bindparam("codes", expanding=True)),
            {"codes": list(OPERATIONAL_ROLES)},
        )
    with op.batch_alter_table("org_audit_head", schema=None) as batch_op:
        batch_op.drop_column("mac")
    with op.batch_alter_table("org_user", schema=None) as batch_op:
        batch_op.drop_column("failed_mfa")
