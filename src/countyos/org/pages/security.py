"""Pages for roles and permissions (security administrator), API tokens and the audit log."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.core.settings import get_settings
from countyos.org.pages import audit_names
from countyos.org.schemas import RoleIn, TokenFormIn
from countyos.org.service import audit, roles, tokens, users
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = APIRouter()

# Permission families other than everyday operations, as the roles page marks them.
FAMILY_LABELS = {
    "ops": N_("Operations"),
    "system": N_("System administration"),
    "security": N_("Security administration"),
    "audit": N_("Audit"),
}
RESULT_LABELS = {"success": N_("Succeeded"), "failure": N_("Failed"), "denied": N_("Refused")}
# What the permissions of each group are about (the part of the permission code before the dot).
GROUP_LABELS = {
    "alarm": N_("Alarms"),
    "audit": N_("Audit log"),
    "case": N_("Cases"),
    "data": N_("Data sharing and open data"),
    "portal": N_("Residents' portal"),
    "eco": N_("Ecology"),
    "village": N_("Digital village"),
    "safety": N_("Emergency, safety and traffic"),
    "programme": N_("Programme operation"),
    "department": N_("Departments"),
    "geo": N_("Spatial data"),
    "ioc": N_("Operations view"),
    "role": N_("Roles and permissions"),
    "sensing": N_("Sensing"),
    "services": N_("Government services"),
    "system": N_("System"),
    "token": N_("API tokens"),
    "usage": N_("Platform usage"),
    "user": N_("Users"),
}


@router.get("/admin/roles")
def roles_page(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("role.read"))]) -> Response:
    return _roles_page(request, session)


def _roles_page(
    request: Request, session: Session, *, role_form: dict[str, object] | None = None, status: int = 200
) -> Response:
    perms = roles.list_permissions(session)
    by_domain: dict[str, list[object]] = {}
    for p in perms:
        by_domain.setdefault(p.domain, []).append(p)
    return templates(request).render(
        request,
        "org/roles.html",
        {
            "roles": roles.list_roles(session),
            "by_domain": by_domain,
            "family_of": roles.family_of,
            "family_labels": FAMILY_LABELS,
            "group_labels": GROUP_LABELS,
            "role_form": role_form or {"values": defaultdict(str), "errors": {}, "error": None},
        },
        status_code=status,
    )


@router.post("/admin/roles/{role_id}/permissions")
def role_permissions(
    request: Request,
    role_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("role.write"))],
    permission: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        role = roles.set_permissions(session, actor=a.actor, role_id=role_id, permission_codes=permission or [])
    except CountyError as exc:
        session.rollback()
        return redirect("/admin/roles", flash=exc.message, kind="error")
    return redirect("/admin/roles", flash=translate(request, "Permissions of %(role)s saved", role=role.name))


@router.post("/admin/roles/new")
def role_create(
    request: Request, session: WriteSession, a: Annotated[Auth, Depends(require("role.write"))], form: forms.PostedForm
) -> Response:
    """A new role from the form, parsed by the API's model; on an error the page comes back with what
    was typed and each message beside its field."""
    values = forms.typed(form, ROLE_FIELDS)
    try:
        body = forms.parse(RoleIn, values)
        role = roles.create(
            session,
            actor=a.actor,
            code=body.code,
            name=body.name,
            name_en=body.name_en,
            description=body.description,
            permission_codes=[],
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _roles_page(request, session, role_form=_refused(request, exc, values), status=_status(exc))
    return redirect("/admin/roles", flash=translate(request, "Role %(role)s created", role=role.name))


ROLE_FIELDS = ("code", "name", "name_en", "description")
TOKEN_FIELDS = ("name", "user_id", "scopes", "days")


def _refused(request: Request, exc: Exception, values: dict[str, str]) -> dict[str, object]:
    errors = forms.field_errors(request, exc)
    return {
        "values": defaultdict(str, values),
        "errors": errors,
        "error": errors.pop("", None) or translate(request, "Please correct the marked fields"),
    }


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, CountyError) else 422


@router.get("/admin/tokens")
def tokens_page(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("token.manage"))]
) -> Response:
    return _tokens_page(request, session)


def _tokens_page(
    request: Request,
    session: Session,
    *,
    token_form: dict[str, object] | None = None,
    new: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    machines = list(session.scalars(users.query(users.UserFilter(active=True, machine=True))))
    return templates(request).render(
        request,
        "org/tokens.html",
        {
            "tokens": tokens.list_tokens(session),
            "accounts": machines,
            "new_token": new[1] if new else None,
            "new_name": new[0] if new else None,
            "token_form": token_form or {"values": defaultdict(str, days="365"), "errors": {}, "error": None},
        },
        status_code=status,
    )


@router.post("/admin/tokens")
def token_create(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("token.manage"))],
    form: forms.PostedForm,
) -> Response:
    """A token for a machine account from the form, parsed by the API's model (scopes space or comma
    separated, validity in days); on an error the form comes back with what was typed."""
    from countyos.core.clock import utcnow

    values = forms.typed(form, TOKEN_FIELDS)
    try:
        body = forms.parse(TokenFormIn, values)
        tok, plain = tokens.create(
            session,
            actor=a.actor,
            name=body.name,
            user_id=body.user_id,
            scopes=body.scope_list,
            expires_at=utcnow() + timedelta(days=body.days) if body.days else None,
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _tokens_page(request, session, token_form=_refused(request, exc, values), status=_status(exc))
    return _tokens_page(request, session, new=(tok.name, plain))


@router.post("/admin/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, token_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("token.manage"))]
) -> Response:
    tok = tokens.revoke(session, actor=a.actor, token_id=token_id)
    return redirect("/admin/tokens", flash=translate(request, "Token %(name)s revoked", name=tok.name))


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    local = datetime.combine(d + timedelta(days=1) if end else d, time(), ZoneInfo(get_settings().timezone))
    return local


@router.get("/admin/audit")
def audit_page(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("audit.read"))],
    actor: str | None = None,
    action: str | None = None,
    result: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    f = audit.AuditFilter(
        actor=actor or None,
        action=action or None,
        result=result if result in ("success", "failure", "denied") else None,
        since=_day(since),
        until=_day(until, end=True),
    )
    rows, total = audit.list_events(session, f, PageParams(limit, offset))
    query = {
        k: v
        for k, v in {"actor": actor, "action": action, "result": result, "since": since, "until": until}.items()
        if v
    }
    export_query = urlencode(
        {
            k: v
            for k, v in {
                "actor": f.actor,
                "action": f.action,
                "result": f.result,
                "since": f.since.isoformat() if f.since else None,
                "until": f.until.isoformat() if f.until else None,
            }.items()
            if v
        }
    )
    return templates(request).render(
        request,
        "org/audit.html",
        {
            "rows": rows,
            "total": total,
            "limit": limit,
            "offset": offset,
            "filters": defaultdict(str, query),
            "base_query": urlencode(query),
            "export_query": export_query,
            "verify": None,
            "results": RESULT_LABELS,
            "action_name": audit_names.action_name,
            "targets": audit_names.target_names(session, rows),
            "actors": audit_names.actor_names(session, rows),
        },
    )


@router.post("/admin/audit/verify")
def audit_verify(
    request: Request, session: WriteSession, a: Annotated[Auth, Depends(require("audit.read"))]
) -> Response:
    r = audit.verify(session)
    audit.record(
        session, actor=a.actor, action="audit.verify", detail={"ok": r.ok, "checked": r.checked, "bad_seq": r.bad_seq}
    )
    if r.ok:
        return redirect(
            "/admin/audit", flash=translate(request, "Audit chain intact: %(n)s rows verified", n=r.checked)
        )
    return redirect(
        "/admin/audit",
        kind="error",
        flash=translate(request, "Audit chain broken at row %(seq)s: %(reason)s", seq=r.bad_seq, reason=r.reason or ""),
    )
