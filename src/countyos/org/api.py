"""JSON API of the org domain: departments, users, roles, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.paging import MAX_LIMIT, Paged, PageParams
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from countyos.org import schemas
from countyos.org.models import Department, DepartmentKind, User
from countyos.org.service import audit, departments, mfa, roles, tokens, users
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter(tags=["org"])


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50, offset: Annotated[int, Query(ge=0)] = 0
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


def user_out(u: User) -> schemas.UserOut:
    return schemas.UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        department_id=u.department_id,
        department_name=u.department.name if u.department else None,
        phone_masked=users.masked_phone(u),
        roles=sorted(u.role_codes),
        is_active=u.is_active,
        is_machine=u.is_machine,
        locked=bool(u.locked_until and u.locked_until > utcnow()),
        mfa_enabled=u.totp_enabled,
        last_login_at=u.last_login_at,
        created_at=u.created_at,
    )


def dep_out(d: Department) -> schemas.DepartmentOut:
    return schemas.DepartmentOut.model_validate(d)


@router.get("/me", response_model=schemas.MeOut)
def me(a: Annotated[Auth, Depends(authenticated)]) -> schemas.MeOut:
    return schemas.MeOut(
        id=a.user.id,
        username=a.user.username,
        display_name=a.user.display_name,
        roles=sorted(a.user.role_codes),
        permissions=sorted(a.actor.permissions),
        locale=a.user.locale,
    )


@router.get("/departments", response_model=Paged[schemas.DepartmentOut])
def list_departments(
    session: ReadSession,
    page: Page,
    _: Annotated[Auth, Depends(require("department.read"))],
    q: str | None = None,
    kind: DepartmentKind | None = None,
    parent_id: int | None = None,
    active: bool | None = None,
) -> Paged[schemas.DepartmentOut]:
    rows, total = departments.list_departments(
        session, departments.DepartmentFilter(q=q, kind=kind, parent_id=parent_id, active=active), page
    )
    return Paged(items=[dep_out(d) for d in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/departments", response_model=schemas.DepartmentOut, status_code=201)
def create_department(
    body: schemas.DepartmentIn, session: WriteSession, a: Annotated[Auth, Depends(require("department.write"))]
) -> schemas.DepartmentOut:
    d = departments.create(
        session,
        actor=a.actor,
        name=body.name,
        kind=body.kind,
        uscc_code=body.uscc,
        parent_id=body.parent_id,
        division_code=body.division_code,
        phone=body.phone,
    )
    return dep_out(d)


@router.get("/departments/{department_id}", response_model=schemas.DepartmentOut)
def get_department(
    department_id: int, session: ReadSession, _: Annotated[Auth, Depends(require("department.read"))]
) -> schemas.DepartmentOut:
    return dep_out(departments.get(session, department_id=department_id))


@router.patch("/departments/{department_id}", response_model=schemas.DepartmentOut)
def update_department(
    department_id: int,
    body: schemas.DepartmentPatch,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("department.write"))],
) -> schemas.DepartmentOut:
    d = departments.update(
        session, actor=a.actor, department_id=department_id, changes=body.model_dump(exclude_unset=True)
    )
    return dep_out(d)


@router.get("/users", response_model=Paged[schemas.UserOut])
def list_users(
    session: ReadSession,
    page: Page,
    _: Annotated[Auth, Depends(require("user.read"))],
    q: str | None = None,
    department_id: int | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> Paged[schemas.UserOut]:
    rows, total = users.list_users(
        session, users.UserFilter(q=q, department_id=department_id, role=role, active=active), page
    )
    return Paged(items=[user_out(u) for u in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/people", response_model=list[schemas.PersonNameOut])
def list_people(
    session: ReadSession,
    _: Annotated[Auth, Depends(authenticated)],
    permission: Annotated[str, Query(max_length=60, description="an operational permission, e.g. case.handle")],
    department_id: int | None = None,
) -> list[schemas.PersonNameOut]:
    """Names for pickers: the active people holding an operational permission (optionally in one
    department), id and name only. The account list with roles and status is ``/users`` (user.read)."""
    return [
        schemas.PersonNameOut(id=p.id, display_name=p.display_name)
        for p in users.names_of_holders(session, permission=permission, department_id=department_id)
    ]


@router.post("/users", response_model=schemas.UserOut, status_code=201)
def create_user(
    body: schemas.UserIn, session: WriteSession, a: Annotated[Auth, Depends(require("user.write"))]
) -> schemas.UserOut:
    u = users.create(
        session,
        actor=a.actor,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        department_id=body.department_id,
        phone=body.phone,
        locale=body.locale,
        is_machine=body.is_machine,
    )
    return user_out(u)


@router.get("/users/{user_id}", response_model=schemas.UserOut)
def get_user(user_id: int, session: ReadSession, _: Annotated[Auth, Depends(require("user.read"))]) -> schemas.UserOut:
    return user_out(users.get(session, user_id=user_id))


@router.patch("/users/{user_id}", response_model=schemas.UserOut)
def update_user(
    user_id: int, body: schemas.UserPatch, session: WriteSession, a: Annotated[Auth, Depends(require("user.write"))]
) -> schemas.UserOut:
    fields = body.model_dump(exclude_unset=True)
    u = users.update(
        session,
        actor=a.actor,
        user_id=user_id,
        display_name=fields.get("display_name"),
        department_id=fields.get("department_id"),
        phone=fields.get("phone"),
        clear_department="department_id" in fields and fields["department_id"] is None,
    )
    if "is_active" in fields and fields["is_active"] is not None and fields["is_active"] != u.is_active:
        u = users.set_active(session, actor=a.actor, user_id=user_id, active=fields["is_active"])
    return user_out(u)


@router.get("/users/{user_id}/phone")
def reveal_phone(
    user_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("user.pii"))]
) -> dict[str, str]:
    """The unmasked phone number; every call is recorded in the audit log."""
    return {"phone": users.reveal_phone(session, actor=a.actor, user_id=user_id)}


@router.put("/users/{user_id}/roles", response_model=schemas.UserOut)
def set_user_roles(
    user_id: int, body: schemas.RolesIn, session: WriteSession, a: Annotated[Auth, Depends(require("user.assign_role"))]
) -> schemas.UserOut:
    return user_out(users.set_roles(session, actor=a.actor, user_id=user_id, role_codes=body.roles))


@router.post("/users/{user_id}/unlock", response_model=schemas.UserOut)
def unlock_user(
    user_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("user.unlock"))]
) -> schemas.UserOut:
    """Lift a lockout. Another administrator family's account only the security administrator unlocks."""
    return user_out(users.unlock(session, actor=a.actor, user_id=user_id))


@router.post("/users/{user_id}/password", response_model=schemas.UserOut)
def reset_user_password(
    user_id: int,
    body: schemas.PasswordResetIn,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("user.write"))],
) -> schemas.UserOut:
    return user_out(users.reset_password(session, actor=a.actor, user_id=user_id, new_password=body.password))


@router.post("/users/{user_id}/mfa/reset", response_model=schemas.UserOut)
def reset_user_mfa(
    user_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("user.write"))]
) -> schemas.UserOut:
    user = users.get(session, user_id=user_id)
    mfa.disable(session, actor=a.actor, user=user)
    return user_out(user)


def role_out(r: roles.Role) -> schemas.RoleOut:  # type: ignore[name-defined]
    return schemas.RoleOut(
        id=r.id,
        code=r.code,
        name=r.name,
        name_en=r.name_en,
        description=r.description,
        is_builtin=r.is_builtin,
        permissions=sorted(p.code for p in r.permissions),
    )


@router.get("/roles", response_model=list[schemas.RoleOut])
def list_roles(session: ReadSession, _: Annotated[Auth, Depends(require("role.read"))]) -> list[schemas.RoleOut]:
    return [role_out(r) for r in roles.list_roles(session)]


@router.post("/roles", response_model=schemas.RoleOut, status_code=201)
def create_role(
    body: schemas.RoleIn, session: WriteSession, a: Annotated[Auth, Depends(require("role.write"))]
) -> schemas.RoleOut:
    return role_out(
        roles.create(
            session,
            actor=a.actor,
            code=body.code,
            name=body.name,
            name_en=body.name_en,
            description=body.description,
            permission_codes=body.permissions,
        )
    )


@router.put("/roles/{role_id}/permissions", response_model=schemas.RoleOut)
def set_role_permissions(
    role_id: int,
    body: schemas.RolePermissionsIn,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("role.write"))],
) -> schemas.RoleOut:
    return role_out(roles.set_permissions(session, actor=a.actor, role_id=role_id, permission_codes=body.permissions))


@router.get("/permissions", response_model=list[schemas.PermissionOut])
def list_permissions(
    session: ReadSession, _: Annotated[Auth, Depends(require("role.read"))]
) -> list[schemas.PermissionOut]:
    return [schemas.PermissionOut.model_validate(p) for p in roles.list_permissions(session)]


@router.get("/tokens", response_model=list[schemas.TokenOut])
def list_tokens(
    session: ReadSession, _: Annotated[Auth, Depends(require("token.manage"))], user_id: int | None = None
) -> list[schemas.TokenOut]:
    return [schemas.TokenOut.model_validate(t) for t in tokens.list_tokens(session, user_id=user_id)]


@router.post("/tokens", response_model=schemas.TokenCreated, status_code=201)
def create_token(
    body: schemas.TokenIn, session: WriteSession, a: Annotated[Auth, Depends(require("token.manage"))]
) -> schemas.TokenCreated:
    tok, plain = tokens.create(
        session, actor=a.actor, name=body.name, user_id=body.user_id, scopes=body.scopes, expires_at=body.expires_at
    )
    return schemas.TokenCreated(**schemas.TokenOut.model_validate(tok).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", response_model=schemas.TokenOut)
def revoke_token(
    token_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("token.manage"))]
) -> schemas.TokenOut:
    return schemas.TokenOut.model_validate(tokens.revoke(session, actor=a.actor, token_id=token_id))


def audit_filter(
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    result: Literal["success", "failure", "denied"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> audit.AuditFilter:
    return audit.AuditFilter(
        actor=actor, action=action, target_type=target_type, result=result, since=since, until=until
    )


AuditFilterDep = Annotated[audit.AuditFilter, Depends(audit_filter)]


@router.get("/audit", response_model=Paged[schemas.AuditEventOut])
def list_audit(
    session: ReadSession, page: Page, f: AuditFilterDep, _: Annotated[Auth, Depends(require("audit.read"))]
) -> Paged[schemas.AuditEventOut]:
    rows, total = audit.list_events(session, f, page)
    return Paged(
        items=[schemas.AuditEventOut.model_validate(e) for e in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/audit/verify", response_model=schemas.AuditVerifyOut)
def verify_audit(session: ReadSession, _: Annotated[Auth, Depends(require("audit.read"))]) -> schemas.AuditVerifyOut:
    r = audit.verify(session)
    return schemas.AuditVerifyOut(ok=r.ok, checked=r.checked, bad_seq=r.bad_seq, reason=r.reason)


AUDIT_HEADERS = ["seq", "at", "actor", "action", "target_type", "target_id", "result", "ip", "detail"]
EXPORT_LIMIT = 100_000


def export_audit_rows(session: ReadSession | WriteSession, f: audit.AuditFilter) -> list[list[object]]:
    return [
        [e.seq, e.at, e.actor_name, e.action, e.target_type, e.target_id, str(e.result), e.ip, e.detail]
        for e in session.scalars(audit.query(f).limit(EXPORT_LIMIT))
    ]


@router.get("/audit/export")
def export_audit(
    request: Request,
    session: WriteSession,
    f: AuditFilterDep,
    a: Annotated[Auth, Depends(require("audit.export"))],
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    """Export the filtered audit log (at most 100,000 rows); the export itself is audited."""
    rows = export_audit_rows(session, f)
    audit.record(
        session,
        actor=a.actor,
        action="audit.export",
        detail={"rows": len(rows), "format": format, "filter": f.__dict__},
    )
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    if format == "xlsx":
        return Response(
            to_xlsx(AUDIT_HEADERS, rows, "audit"),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.xlsx"'},
        )
    return Response(
        to_csv(AUDIT_HEADERS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
