"""Orchestration across org services: first start, and creating people with their roles."""

from __future__ import annotations

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.core.permissions import PermissionSpec, RoleSpec
from countyos.org.models import Role, User
from countyos.org.service import audit, roles, users


def bootstrap(
    session: Session, *, permissions: list[PermissionSpec], role_specs: list[RoleSpec], grants: dict[str, list[str]]
) -> None:
    """Make the database ready: audit chain head, permission catalog and built-in roles."""
    audit.ensure_head(session)
    roles.sync_catalog(session, permissions, role_specs, grants)


def create_person(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    role_codes: list[str],
    department_id: int | None = None,
    phone: str | None = None,
    must_change_password: bool = True,
    is_machine: bool = False,
) -> User:
    """Create a user and grant roles in one step. Used by the CLI and the demo (trusted operators);
    in the UI the system administrator creates accounts and the security administrator grants roles."""
    user = users.create(
        session,
        actor=actor,
        username=username,
        display_name=display_name,
        password=password,
        department_id=department_id,
        phone=phone,
        must_change_password=must_change_password,
        is_machine=is_machine,
    )
    wanted: list[Role] = []
    for code in role_codes:
        role = roles.get_by_code(session, code=code)
        if role is None:
            raise ValidationFailed("Unknown role %(code)s", code=code)
        wanted.append(role)
    roles.check_role_set(wanted)
    user.roles = wanted
    session.flush()
    if role_codes:
        audit.record(
            session,
            actor=actor,
            action="user.roles",
            target_type="user",
            target_id=user.id,
            detail={"before": [], "after": sorted(role_codes)},
        )
    return user
