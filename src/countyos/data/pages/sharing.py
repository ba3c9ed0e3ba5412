"""The sharing pages: ``/data/sharing`` lists the requests to decide (for one's department's resources),
one's department's own requests, the grants both ways and their usage; a request is filed from a
published resource's page, and decided (approve, narrow, refuse) on its own page. A new grant's key is
shown once, on the page that issued it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.data.models import RequestState, ShareRequest
from countyos.data.pages.common import DATA, PAGE_LABELS
from countyos.data.schemas import MAX_ID, DecisionIn, ShareRequestIn
from countyos.data.service import catalogue, sharing
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Requester = Annotated[Auth, Depends(require(sharing.REQUEST))]
Provider = Annotated[Auth, Depends(require(catalogue.MANAGE))]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

NAV = [NavItem(DATA, N_("Data sharing"), "/data/sharing", sharing.REQUEST, order=141)]


@router.get("/data/sharing")
def sharing_page(request: Request, session: ReadSession, a: Requester) -> Response:
    dept = a.actor.department_id
    requests = sharing.requests_for(session, actor=a.actor)
    grants = sharing.grants_for(session, actor=a.actor)
    return templates(request).render(
        request,
        "data/sharing.html",
        {
            "to_decide": [
                r
                for r in requests
                if (r.state == RequestState.PENDING and r.resource.provider_id == dept)
                or (r.state == RequestState.PENDING and a.actor.can(catalogue.REVIEW))
            ],
            "mine": [r for r in requests if r.consumer_id == dept],
            "granted_out": [g for g in grants if g.resource.provider_id == dept or a.actor.can(catalogue.REVIEW)],
            "granted_in": [g for g in grants if g.consumer_id == dept],
            "usage": sharing.usage(session, actor=a.actor),
            **PAGE_LABELS,
        },
    )


def _request_page(
    request: Request,
    session: Session,
    a: Auth,
    resource_id: int,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    res = catalogue.get(session, resource_id)
    if res.state != "published":
        raise NotFound(N_("No such data resource."))
    return templates(request).render(
        request,
        "data/share_request.html",
        {
            "res": res,
            "items": list(sharing.shared_items(res).values()),
            "v": values or {"until": (date.today() + timedelta(days=365)).isoformat(), "fields": []},
            "errors": errors or {},
            **PAGE_LABELS,
        },
        status_code=status,
    )


@router.get("/data/resources/{resource_id}/request")
def request_form(request: Request, resource_id: PathId, session: ReadSession, a: Requester) -> Response:
    return _request_page(request, session, a, resource_id)


@router.post("/data/resources/{resource_id}/request")
def file_request(
    request: Request, resource_id: PathId, session: WriteSession, a: Requester, form: PostedForm
) -> Response:
    values: dict[str, object] = {**forms.typed(form, ("purpose", "until"))}
    values["fields"] = [f for f in form.getlist("fields") if isinstance(f, str)][:500]
    try:
        req, key = sharing.request(session, actor=a.actor, resource_id=resource_id,
                                   data=forms.parse(ShareRequestIn, values))  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        return _request_page(request, session, a, resource_id, values=values, errors=errors, status=422)
    if key is not None:
        return _key_page(request, req, key)
    return redirect("/data/sharing", flash=translate(request, "Requested"))


def _key_page(request: Request, req: ShareRequest, key: str) -> Response:
    response = templates(request).render(request, "data/share_key.html", {"req": req, "key": key, **PAGE_LABELS})
    response.headers["Cache-Control"] = "no-store"
    return response


def _decision_page(request: Request, session: Session, req: ShareRequest, *, values: dict[str, object] | None = None,
                   errors: dict[str, str] | None = None, status: int = 200) -> Response:  # fmt: skip
    res = catalogue.get(session, req.resource_id)
    return templates(request).render(
        request,
        "data/share_decide.html",
        {
            "req": req,
            "res": res,
            "items": list(sharing.shared_items(res).values()),
            "v": values
            or {
                "fields": req.fields,
                "until": req.until.isoformat(),
                "quota_per_day": "1000",
                "filter_column": "",
                "filter_values": "",
                "reason": "",
            },
            "errors": errors or {},
            **PAGE_LABELS,
        },
        status_code=status,
    )


def _request_of(session: Session, a: Auth, request_id: int) -> ShareRequest:
    req = session.get(ShareRequest, request_id)
    if req is None or not (catalogue.roles_of(a.actor, catalogue.get(session, req.resource_id))
                           or req.consumer_id == a.actor.department_id):  # fmt: skip
        raise NotFound(N_("No such request."))
    return req


@router.get("/data/requests/{request_id}")
def decision_form(request: Request, request_id: PathId, session: ReadSession, a: Requester) -> Response:
    return _decision_page(request, session, _request_of(session, a, request_id))


@router.post("/data/requests/{request_id}")
def decide(request: Request, request_id: PathId, session: WriteSession, a: Provider, form: PostedForm) -> Response:
    values: dict[str, object] = {**forms.typed(form, ("decision", "version", "until", "quota_per_day", "reason",
                                                      "filter_column", "filter_values"))}  # fmt: skip
    values["fields"] = [f for f in form.getlist("fields") if isinstance(f, str)][:500]
    column, wanted = str(values["filter_column"]).strip(), str(values["filter_values"])
    body = {k: v for k, v in values.items() if k not in ("filter_column", "filter_values")}
    if column:
        body["row_filter"] = {column: [w for w in wanted.replace("，", ",").split(",") if w.strip()]}
    try:
        req, _grant, key = sharing.decide(
            session, actor=a.actor, request_id=request_id, data=forms.parse(DecisionIn, body)
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        req = _request_of(session, a, request_id)
        return _decision_page(request, session, req, values=values, errors=errors, status=422)
    if key is not None:
        return _key_page(request, req, key)
    return redirect("/data/sharing", flash=translate(request, "Done"))


@router.post("/data/grants/{grant_id}/revoke")
def revoke(request: Request, grant_id: PathId, session: WriteSession, a: Provider) -> Response:
    sharing.revoke(session, actor=a.actor, grant_id=grant_id)
    return redirect("/data/sharing", flash=translate(request, "Grant revoked"))
