"""Pages of the organisations: ``/programme/orgs`` (by kind), ``/programme/orgs/new`` and
``/programme/orgs/{id}`` (the form, its projects and contracts; the contact's phone masked, shown in full
on request — every such view audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.programme.models.projects import Organisation, OrgKind
from countyos.programme.pages.projects_common import department_choices, labels
from countyos.programme.permissions import MANAGE, READ
from countyos.programme.schemas.projects import OrgIn
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(READ))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
FIELDS = ("name", "kind", "uscc", "contact_name", "contact_phone", "address", "description", "department_id")


@router.get("/programme/orgs")
def orgs_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    kind: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    k = OrgKind(kind) if kind in {x.value for x in OrgKind} else None
    rows, total = svc.list_orgs(session, kind=k, q=q.strip())
    return templates(request).render(
        request,
        "programme/projects/orgs.html",
        {"rows": rows, "total": total, "kind": kind, "q": q, "kinds": list(OrgKind), "masked": svc.masked_phone,
         **labels()},
    )  # fmt: skip


def _values(o: Organisation | None) -> dict[str, str]:
    if o is None:
        return {"kind": OrgKind.VENDOR.value}
    return {
        "name": o.name, "kind": o.kind.value, "uscc": o.uscc or "", "contact_name": o.contact_name,
        "contact_phone": "", "address": o.address, "description": o.description,
        "department_id": str(o.department_id or ""),
    }  # fmt: skip


def _form_page(
    request: Request,
    session: Session,
    org: Organisation | None,
    *,
    form: Refused | None = None,
    phone: str | None = None,
) -> Response:
    ctx: dict[str, object] = {
        "org": org,
        "form": form or Refused(_values(org), {}, None, 200),
        "kinds": list(OrgKind),
        "departments": department_choices(session),
        "phone_masked": svc.masked_phone(org) if org else "",
        "phone": phone,
        "projects": [],
        "contracts": [],
        **labels(),
    }
    if org is not None:
        ctx["projects"], _ = svc.list_projects(session, filters=svc.ProjectFilter(operator_id=org.id), limit=100)
        ctx["contracts"], _ = contracts.list_contracts(session, party_id=org.id, limit=100)
        ctx["project_names"] = {p.id: p.name for p in svc.list_projects(session, limit=500)[0]}
    status = form.status if form is not None else 200
    return templates(request).render(request, "programme/projects/org.html", ctx, status_code=status)


@router.get("/programme/orgs/new")
def org_new(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, None)


@router.post("/programme/orgs/new")
def org_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        org = svc.create_org(session, actor=a.actor, data=forms.parse(OrgIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _form_page(request, session, None, form=Refused.of(request, exc, values))
    return redirect(f"/programme/orgs/{org.id}", flash=translate(request, "Organisation saved"))


@router.get("/programme/orgs/{org_id:int}")
def org_page(request: Request, org_id: int, session: ReadSession, a: Reader) -> Response:
    return _form_page(request, session, svc.get_org(session, org_id=org_id))


@router.post("/programme/orgs/{org_id:int}")
def org_update(request: Request, org_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        svc.update_org(session, actor=a.actor, org_id=org_id, data=forms.parse(OrgIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "contact_phone": ""})
        return _form_page(request, session, svc.get_org(session, org_id=org_id), form=refused)
    return redirect(f"/programme/orgs/{org_id}", flash=translate(request, "Organisation saved"))


@router.post("/programme/orgs/{org_id:int}/phone")
def org_phone(request: Request, org_id: int, session: WriteSession, a: Keeper) -> Response:
    """The contact's phone in full, once, on this page; the view is recorded in the audit log."""
    phone = svc.reveal_phone(session, actor=a.actor, org_id=org_id)
    return _form_page(request, session, svc.get_org(session, org_id=org_id), phone=phone)


@router.post("/programme/orgs/{org_id:int}/delete")
def org_delete(request: Request, org_id: int, session: WriteSession, a: Keeper) -> Response:
    try:
        svc.delete_org(session, actor=a.actor, org_id=org_id)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, _values(svc.get_org(session, org_id=org_id)))
        return _form_page(request, session, svc.get_org(session, org_id=org_id), form=refused)
    return redirect("/programme/orgs", flash=translate(request, "Organisation deleted"))
