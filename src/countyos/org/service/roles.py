"""Roles and permissions as data, with the separation of the three administrators (三权分立)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.permissions import ADMIN_FAMILIES, PermissionSpec, RoleSpec
from countyos.org.models import Permission, Role, User
from countyos.org.service import audit

# Filled by sync_catalog from every domain's PERMISSIONS; used to check the separation rule.
_FAMILIES: dict[str, str] = {}

# The built-in administrator roles and their family: they stay administrator roles whatever they hold.
ADMIN_ROLES: dict[str, str] = {"sysadmin": "system", "secadmin": "security", "auditadmin": "audit"}

# Per administrator family, the operational permissions its built-in role is granted by default (seeing
# departments, accounts, roles, platform usage): the only ones outside its family an administrator may
# hold. Filled from every domain's GRANTS by sync_catalog / load_families.
_ADMIN_OPS: dict[str, frozenset[str]] = {}


def known_permissions() -> set[str]:
    return set(_FAMILIES)


def family_of(permission_code: str) -> str:
    return _FAMILIES.get(permission_code, "ops")


def admin_families(permission_codes: Iterable[str]) -> set[str]:
    return {f for f in (family_of(c) for c in permission_codes) if f in ADMIN_FAMILIES}


def check_separation(permission_codes: Iterable[str], *, role_families: Iterable[str] = ()) -> None:
    """三权分立: at most one administrator family per role or person, and an administrator holds only
    administration (its family's permissions and the directory reads its built-in role has) — never
    business permissions such as ``case.read_all`` or ``case.pii``.

    ``role_families`` are the families of the built-in administrator roles concerned, which stay
    administrator roles even when they hold no administration permission at the moment."""
    codes = set(permission_codes)
    fams = admin_families(codes) | set(role_families)
    if len(fams) > 1:
        raise ValidationFailed(
            "System, security and audit administration must stay with different people "
            "(这三类管理权限不能集中在同一角色或用户): %(families)s",
            families=", ".join(sorted(fams)),
        )
    if not fams:
        return
    (family,) = fams
    business = sorted(c for c in codes if family_of(c) != family and c not in _ADMIN_OPS.get(family, frozenset()))
    if business:
        raise ValidationFailed(
            "Administrators hold administration only, not business permissions (管理员不能持有业务权限): %(codes)s",
            codes=", ".join(business),
        )


def families_of_roles(held: Iterable[Role]) -> set[str]:
    return {ADMIN_ROLES[r.code] for r in held if r.is_builtin and r.code in ADMIN_ROLES}


def check_role_set(held: Iterable[Role]) -> None:
    """The separation rule for what one person would hold with these roles."""
    held = list(held)
    check_separation({p.code for r in held for p in r.permissions}, role_families=families_of_roles(held))


def _set_admin_ops(grants: dict[str, list[str]]) -> None:
    for code, family in ADMIN_ROLES.items():
        _ADMIN_OPS[family] = frozenset(c for c in grants.get(code, []) if family_of(c) not in ADMIN_FAMILIES)


def check_not_own_role(session: Session, *, actor: Actor, role: Role) -> None:
    """Nobody changes the permissions of a role they hold (that would raise their own powers)."""
    if actor.id is None:
        return  # the server console
    holder = session.get(User, actor.id)
    if holder is not None and role.id in {r.id for r in holder.roles}:
        raise PermissionDenied("You cannot change the permissions of a role you hold")


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
    _set_admin_ops(grants)
    for spec in specs:
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


def load_families(permissions: Iterable[PermissionSpec], grants: dict[str, list[str]] | None = None) -> None:
    for spec in permissions:
        _FAMILIES[spec.code] = spec.family
    if grants is not None:
        _set_admin_ops(grants)


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
    check_not_own_role(session, actor=actor, role=role)
    check_separation(permission_codes, role_families=families_of_roles([role]))
    before = sorted(p.code for p in role.permissions)
    role.permissions = _permissions(session, permission_codes)
    session.flush()
    for user in users.holders_of_role(session, role_id=role.id):
        check_role_set(user.roles)
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
