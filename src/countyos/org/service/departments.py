"""Departments: the units that own cases, grids and users."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.paging import PageParams, fetch_page
from countyos.org.models import Department, DepartmentKind
from countyos.org.service import audit, uscc

_FIELDS = ("name", "uscc", "kind", "parent_id", "division_code", "phone", "is_active")


@dataclass(frozen=True)
class DepartmentFilter:
    q: str | None = None
    kind: DepartmentKind | None = None
    parent_id: int | None = None
    active: bool | None = None


def get(session: Session, *, department_id: int) -> Department:
    dep = session.get(Department, department_id)
    if dep is None:
        raise NotFound("Department %(id)s does not exist", id=department_id)
    return dep


def get_by_name(session: Session, *, name: str) -> Department | None:
    return session.scalar(select(Department).where(Department.name == name))


def query(f: DepartmentFilter) -> Select[Department]:
    stmt = select(Department).order_by(Department.kind, Department.name)
    if f.q:
        stmt = stmt.where(or_(Department.name.contains(f.q), Department.uscc.contains(f.q)))
    if f.kind:
        stmt = stmt.where(Department.kind == f.kind)
    if f.parent_id is not None:
        stmt = stmt.where(Department.parent_id == f.parent_id)
    if f.active is not None:
        stmt = stmt.where(Department.is_active == f.active)
    return stmt


def list_departments(session: Session, f: DepartmentFilter, page: PageParams) -> tuple[list[Department], int]:
    return fetch_page(session, query(f), page)


def all_active(session: Session) -> list[Department]:
    return list(session.scalars(query(DepartmentFilter(active=True))))


def _validate(session: Session, values: dict[str, object], current: Department | None) -> None:
    errors = []
    code = values.get("uscc")
    if code and not uscc.is_valid(str(code)):
        errors.append({"field": "uscc", "message": "not a valid 统一社会信用代码 (check character wrong)"})
    name = values.get("name")
    if name is not None and not str(name).strip():
        errors.append({"field": "name", "message": "required"})
    if errors:
        raise ValidationFailed("Please correct the department fields", errors=errors)
    if name:
        other = get_by_name(session, name=str(name))
        if other is not None and other is not current:
            raise Conflict("A department named %(name)s already exists", name=name)
    if code:
        other = session.scalar(select(Department).where(Department.uscc == code))
        if other is not None and other is not current:
            raise Conflict("Another department already has credit code %(code)s", code=code)
    parent_id = values.get("parent_id")
    if parent_id is not None:
        parent = get(session, department_id=int(str(parent_id)))
        node: Department | None = parent
        while node is not None:
            if current is not None and node.id == current.id:
                raise ValidationFailed("A department cannot be placed under itself")
            node = node.parent


def create(
    session: Session,
    *,
    actor: Actor,
    name: str,
    kind: DepartmentKind,
    uscc_code: str | None = None,
    parent_id: int | None = None,
    division_code: str | None = None,
    phone: str | None = None,
) -> Department:
    values: dict[str, object] = {
        "name": name.strip(),
        "uscc": uscc_code or None,
        "kind": kind,
        "parent_id": parent_id,
        "division_code": division_code,
        "phone": phone,
    }
    _validate(session, values, None)
    dep = Department(**values)
    session.add(dep)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="department.create",
        target_type="department",
        target_id=dep.id,
        detail={k: (str(v) if v is not None else None) for k, v in values.items()},
    )
    return dep


def update(session: Session, *, actor: Actor, department_id: int, changes: dict[str, object]) -> Department:
    dep = get(session, department_id=department_id)
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields: %(fields)s", fields=", ".join(sorted(unknown)))
    if "uscc" in changes and not changes["uscc"]:
        changes["uscc"] = None
    _validate(session, changes, dep)
    diff = {}
    for k, v in changes.items():
        old = getattr(dep, k)
        if old != v:
            diff[k] = {"from": None if old is None else str(old), "to": None if v is None else str(v)}
            setattr(dep, k, v)
    session.flush()
    if diff:
        audit.record(
            session, actor=actor, action="department.update", target_type="department", target_id=dep.id, detail=diff
        )
    return dep
