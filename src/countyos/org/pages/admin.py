"""Pages for people and departments (system administrator; others read)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.responses import HTMLResponse, Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.org.models import DepartmentKind
from countyos.org.schemas import UserIn, UserPatch
from countyos.org.service import departments, mfa, roles, users
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = APIRouter()

KIND_LABELS = {
    DepartmentKind.OPS_CENTRE: N_("Operations centre"),
    DepartmentKind.DEPARTMENT: N_("Department"),
    DepartmentKind.TOWNSHIP: N_("Township / street"),
    DepartmentKind.VILLAGE: N_("Village / community"),
    DepartmentKind.OPERATOR: N_("Operating company"),
}


def _opt_int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _opt_bool(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


@router.get("/admin/users")
def users_page(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("user.read"))],
    q: str | None = None,
    department_id: str | None = None,
    role: str | None = None,
    active: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    f = users.UserFilter(
        q=q or None, department_id=_opt_int(department_id), role=role or None, active=_opt_bool(active)
    )
    rows, total = users.list_users(session, f, PageParams(limit, offset))
    query = {k: v for k, v in {"q": q, "department_id": department_id, "role": role, "active": active}.items() if v}
    return templates(request).render(
        request,
        "org/users.html",
        {
            "rows": rows,
            "total": total,
            "limit": limit,
            "offset": offset,
            "filters": defaultdict(str, query),
            "base_query": urlencode(query),
            "departments": departments.all_active(session),
            "roles": roles.list_roles(session),
            "masked": users.masked_phone,
            "now": utcnow(),
        },
    )


@router.get("/admin/users/new")
def user_new(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("user.write"))]) -> Response:
    return templates(request).render(
        request, "org/user_new.html", {"departments": departments.all_active(session), "values": defaultdict(str)}
    )


PostedForm = forms.PostedForm


@router.post("/admin/users/new")
def user_create(
    request: Request, session: WriteSession, a: Annotated[Auth, Depends(require("user.write"))], form: PostedForm
) -> Response:
    """A new person from the form, parsed by the API's model; on any error the form comes back with
    what was typed (never the password) and each message beside its field."""
    values = forms.typed(form, ("username", "display_name", "password", "department_id", "phone"))
    try:
        body = forms.parse(UserIn, {**values, "department_id": values["department_id"] or None}, empty_is_none=False)
        user = users.create(
            session,
            actor=a.actor,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            department_id=body.department_id,
            phone=body.phone or None,
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        values.pop("password")
        return templates(request).render(
            request,
            "org/user_new.html",
            {
                "departments": departments.all_active(session),
                "error": errors.pop("", None) or translate(request, "Please correct the marked fields"),
                "field_errors": errors,
                "values": defaultdict(str, values),
            },
            status_code=exc.status if isinstance(exc, CountyError) else 422,
        )
    return redirect(f"/admin/users/{user.id}", flash=translate(request, "User %(name)s created", name=user.username))


def _user_page(
    request: Request,
    session: ReadSession | WriteSession,
    user_id: int,
    *,
    values: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    user = users.get(session, user_id=user_id)
    return templates(request).render(
        request,
        "org/user_detail.html",
        {
            "u": user,
            "phone": users.masked_phone(user),
            "departments": departments.all_active(session),
            "roles": roles.list_roles(session),
            "locked": bool(user.locked_until and user.locked_until > utcnow()),
            "values": values,
            "field_errors": field_errors or {},
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}")
def user_detail(
    request: Request, user_id: int, session: ReadSession, a: Annotated[Auth, Depends(require("user.read"))]
) -> Response:
    return _user_page(request, session, user_id)


@router.post("/admin/users/{user_id}")
def user_update(
    request: Request,
    user_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("user.write"))],
    form: PostedForm,
) -> Response:
    values = forms.typed(form, ("display_name", "department_id", "phone"))
    try:
        body = forms.parse(UserPatch, {**values, "department_id": values["department_id"] or None}, empty_is_none=False)
        dep = body.department_id
        users.update(
            session,
            actor=a.actor,
            user_id=user_id,
            display_name=body.display_name,
            department_id=dep,
            clear_department=dep is None,
            phone=body.phone or None,
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        return _user_page(
            request,
            session,
            user_id,
            values=values,
            field_errors=errors,
            error=errors.pop("", None) or translate(request, "Please correct the marked fields"),
            status_code=exc.status if isinstance(exc, CountyError) else 422,
        )
    return redirect(f"/admin/users/{user_id}", flash=translate(request, "Saved"))


@router.post("/admin/users/{user_id}/roles")
def user_roles(
    request: Request,
    user_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("user.assign_role"))],
    role: Annotated[list[str] | None, Form()] = None,
) -> Response:
    users.set_roles(session, actor=a.actor, user_id=user_id, role_codes=role or [])
    return redirect(f"/admin/users/{user_id}", flash=translate(request, "Roles saved"))


@router.post("/admin/users/{user_id}/action")
def user_action(
    request: Request,
    user_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("user.write"))],
    action: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if action in ("disable", "enable"):
        users.set_active(session, actor=a.actor, user_id=user_id, active=action == "enable")
    elif action == "reset_mfa":
        mfa.disable(session, actor=a.actor, user=users.get(session, user_id=user_id))
    elif action == "reset_password":
        users.reset_password(session, actor=a.actor, user_id=user_id, new_password=password)
    else:
        raise ValidationFailed("Unknown action %(action)s", action=action)
    return redirect(f"/admin/users/{user_id}", flash=translate(request, "Done"))


@router.post("/admin/users/{user_id}/unlock")
def user_unlock(
    request: Request, user_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("user.unlock"))]
) -> Response:
    users.unlock(session, actor=a.actor, user_id=user_id)
    return redirect(f"/admin/users/{user_id}", flash=translate(request, "Unlocked"))


@router.post("/admin/users/{user_id}/phone")
def user_phone(
    request: Request, user_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("user.pii"))]
) -> Response:
    """Reveal one phone number (htmx); the view is audited."""
    phone = users.reveal_phone(session, actor=a.actor, user_id=user_id)
    return HTMLResponse(f'<span class="mono">{phone}</span>' if phone else "")


@router.get("/admin/departments")
def departments_page(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("department.read"))],
    q: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    k = DepartmentKind(kind) if kind in set(DepartmentKind) else None
    rows, total = departments.list_departments(
        session, departments.DepartmentFilter(q=q or None, kind=k), PageParams(limit, offset)
    )
    query = {k2: v for k2, v in {"q": q, "kind": kind}.items() if v}
    return templates(request).render(
        request,
        "org/departments.html",
        {
            "rows": rows,
            "total": total,
            "limit": limit,
            "offset": offset,
            "filters": defaultdict(str, query),
            "base_query": urlencode(query),
            "kinds": KIND_LABELS,
        },
    )


def _dep_form(
    request: Request,
    session: ReadSession | WriteSession,
    values: dict[str, object],
    dep_id: int | None = None,
    error: str | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    return templates(request).render(
        request,
        "org/department_form.html",
        {
            "values": defaultdict(str, values),
            "dep_id": dep_id,
            "kinds": KIND_LABELS,
            "error": error,
            "errors": errors or [],
            "parents": [d for d in departments.all_active(session) if d.id != dep_id],
        },
        status_code=status,
    )


@router.get("/admin/departments/new")
def department_new(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("department.write"))]
) -> Response:
    return _dep_form(request, session, {"kind": "department"})


@router.get("/admin/departments/{department_id}")
def department_edit(
    request: Request, department_id: int, session: ReadSession, a: Annotated[Auth, Depends(require("department.read"))]
) -> Response:
    d = departments.get(session, department_id=department_id)
    return _dep_form(
        request,
        session,
        {
            "name": d.name,
            "kind": d.kind,
            "uscc": d.uscc or "",
            "parent_id": d.parent_id or "",
            "division_code": d.division_code or "",
            "phone": d.phone or "",
            "is_active": d.is_active,
        },
        dep_id=d.id,
    )


@router.post("/admin/departments/save")
def department_save(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("department.write"))],
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form()],
    dep_id: Annotated[str, Form()] = "",
    uscc: Annotated[str, Form(max_length=18)] = "",
    parent_id: Annotated[str, Form()] = "",
    division_code: Annotated[str, Form(max_length=12)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    is_active: Annotated[str, Form()] = "1",
) -> Response:
    values: dict[str, object] = {
        "name": name,
        "kind": kind,
        "uscc": uscc.strip().upper(),
        "parent_id": parent_id,
        "division_code": division_code,
        "phone": phone,
        "is_active": is_active == "1",
    }
    existing = _opt_int(dep_id)
    try:
        if kind not in set(DepartmentKind):
            raise ValidationFailed("Choose the kind of department")
        if division_code and not (division_code.isdigit() and len(division_code) in (6, 9, 12)):
            raise ValidationFailed(
                "The division code has 6, 9 or 12 digits",
                errors=[{"field": "division_code", "message": "6/9/12 digits"}],
            )
        fields: dict[str, object] = {
            "name": name,
            "kind": DepartmentKind(kind),
            "uscc": uscc.strip().upper() or None,
            "parent_id": _opt_int(parent_id),
            "division_code": division_code or None,
            "phone": phone or None,
        }
        if existing is None:
            d = departments.create(
                session,
                actor=a.actor,
                name=name,
                kind=DepartmentKind(kind),
                uscc_code=uscc.strip().upper() or None,
                parent_id=_opt_int(parent_id),
                division_code=division_code or None,
                phone=phone or None,
            )
        else:
            fields["is_active"] = is_active == "1"
            d = departments.update(session, actor=a.actor, department_id=existing, changes=fields)
    except CountyError as exc:
        session.rollback()
        return _dep_form(request, session, values, existing, exc.message, getattr(exc, "errors", []), exc.status)
    return redirect("/admin/departments", flash=translate(request, "Department %(name)s saved", name=d.name))
