"""Who is who for cases: people by permission and department, reporters' contacts (encrypted)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.crypto import FieldCipher, mask_phone, new_token
from countyos.core.settings import get_settings
from countyos.org.models import Role, User, role_permission, user_role


def cipher() -> FieldCipher:
    return _cipher(get_settings().secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _cipher(secret: str) -> FieldCipher:
    return FieldCipher(secret)  # derives its keys (HKDF-SM3) once per secret


def holders(
    session: Session, *, permission: str, department_id: int | None = None, role: str | None = None
) -> list[User]:
    """Active people holding ``permission`` (optionally in one department, optionally by role code)."""
    holding = (
        select(user_role.c.user_id)
        .join(Role, Role.id == user_role.c.role_id)
        .join(role_permission, role_permission.c.role_id == Role.id)
        .where(role_permission.c.permission_code == permission)
    )
    if role is not None:
        holding = holding.where(Role.code == role)
    stmt = select(User).where(User.is_active.is_(True), User.id.in_(holding)).order_by(User.id)
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return list(session.scalars(stmt))


def by_role(session: Session, *, role: str, department_id: int | None = None) -> list[User]:
    stmt = (
        select(User)
        .join(user_role, user_role.c.user_id == User.id)
        .join(Role, Role.id == user_role.c.role_id)
        .where(User.is_active.is_(True), Role.code == role)
        .order_by(User.id)
    )
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return list(session.scalars(stmt))


def encrypt(value: str | None) -> str | None:
    return cipher().encrypt(value) if value else None


def decrypt(value: str | None) -> str | None:
    return cipher().decrypt(value) if value else None


def blind_index(value: str | None) -> str | None:
    return cipher().blind_index(value) if value else None


def masked(value_enc: str | None) -> str:
    return mask_phone(decrypt(value_enc)) if value_enc else ""


def mask_email(value_enc: str | None) -> str:
    email = decrypt(value_enc)
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if local else "***@" + domain


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def public_token() -> str:
    return new_token(18)
