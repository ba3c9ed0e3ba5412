"""Roles and permissions as data, with the separation of the three administrators (三权分立)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.permissions import ADMIN_FAMILIES, PermissionSpec, RoleSpec
from countyos.org.models import Permission, Role
from countyos.org.service import audit

# Filled by sync_catalog from every domain's PERMISSIONS; used to check the separation rule.
_FAMILIES: dict[str, str] = {}


def family_of(permission_code: str) -> str:
    return _FAMILIES.get(permission_code, "ops")


def admin_families(permission_codes: Iterable[str]) -> set[str]:
    return {f for f in (family_of(c) for c in permission_codes) if f in ADMIN_FAMILIES}


def check_separation(permission_codes: Iterable[str]) -> None:
    fams = admin_families(permission_codes)
    if len(fams) > 1:
        raise ValidationFailed(
            "System, security and audit administration must stay with different people "
            "(这三类管理权限不能集中在同一角色或用户): %(families)s",
            families=", ".join(sorted(fams)),
        )


def sync_catalog(
    session: Session,
    permissions: Iterable[PermissionSpec],
    roles: Iterable[RoleSpec],
    grants: dict[str, list[str]],
) -> None:
    """Create missing permissions and built-in roles; grant defaults to roles created now, and the
    defaults of permissions new to this database to the built-in roles that exist already.

    Existing roles keep the grants the security administrator gave them.
    """
    specs = list(permissions)
    new_codes: set[str] = set()
    for spec in specs:
        _FAMILIES[spec.code] = spec.family
        perm = session.get(Permission, spec.code)
        if perm is None:
            session.add(Permission(code=spec.code, domain=spec.code.split(".")[0], description=spec.description))
            new_codes.add(spec.code)
        else:
            perm.description = spec.description
    session.flush()
    for rs in roles:
        role = get_by_code(session, code=rs.code)
        if role is None:
            role = Role(code=rs.code, name=rs.name, name_en=rs.name_en, description=rs.description, is_builtin=True)
            session.add(role)
            role.permissions = [session.get_one(Permission, c) for c in sorted(set(grants.get(rs.code, [])))]
            continue
        # A permission this database has never had (an upgrade brought its domain): the built-in role
        # gets its default grant, which nobody could have decided against yet.
        added = sorted(set(grants.get(rs.code, [])) & new_codes)
        if added and len(admin_families({p.code for p in role.permissions} | set(added))) <= 1:
            role.permissions = [*role.permissions, *(session.get_one(Permission, c) for c in added)]
            session.flush()
            audit.record(
                session,
                actor=None,
                action="role.permissions",
                target_type="role",
                target_id=role.id,
                detail={"code": role.code, "added": added, "reason": "new permissions of an upgrade"},
            )
    session.flush()


def load_families(permissions: Iterable[PermissionSpec]) -> None:
    for spec in permissions:
        _FAMILIES[spec.code] = spec.family


def get(session: Session, *, role_id: int) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise NotFound("Role %(id)s does not exist", id=role_id)
    return role


def get_by_code(session: Session, *, code: str) -> Role | None:
    return session.scalar(select(Role).where(Role.code == code))


def list_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.is_builtin.desc(), Role.id)))


def list_permissions(session: Session) -> list[Permission]:
    return list(session.scalars(select(Permission).order_by(Permission.code)))


def create(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    name_en: str | None,
    description: str | None,
    permission_codes: list[str],
) -> Role:
    if get_by_code(session, code=code) is not None:
        raise Conflict("A role with code %(code)s already exists", code=code)
    perms = _permissions(session, permission_codes)
    check_separation(permission_codes)
    role = Role(code=code, name=name, name_en=name_en, description=description, is_builtin=False, permissions=perms)
    session.add(role)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="role.create",
        target_type="role",
        target_id=role.id,
        detail={"code": code, "permissions": sorted(permission_codes)},
    )
    return role


def set_permissions(session: Session, *, actor: Actor, role_id: int, permission_codes: list[str]) -> Role:
    from countyos.org.service import users  # users imports roles; resolve at call time

    role = get(session, role_id=role_id)
    check_separation(permission_codes)
    before = sorted(p.code for p in role.permissions)
    role.permissions = _permissions(session, permission_codes)
    session.flush()
    for user in users.holders_of_role(session, role_id=role.id):
        check_separation(user.permission_codes)
    audit.record(
        session,
        actor=actor,
        action="role.permissions",
        target_type="role",
        target_id=role.id,
        detail={"code": role.code, "before": before, "after": sorted(permission_codes)},
    )
    return role


def _permissions(session: Session, codes: list[str]) -> list[Permission]:
    perms = list(session.scalars(select(Permission).where(Permission.code.in_(codes))))
    unknown = sorted(set(codes) - {p.code for p in perms})
    if unknown:
        raise ValidationFailed("Unknown permissions: %(codes)s", codes=", ".join(unknown))
    return perms
