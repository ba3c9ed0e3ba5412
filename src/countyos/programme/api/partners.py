"""API of the partners part, under /api/v1/programme.

The registry (``programme.partners`` writes; ``programme.read`` may read):

- ``GET /partners``, ``GET /partners/{org_id}``: partner organisations with members, keys (calls today and
  quota) and services by state.
- ``POST /partners/{org_id}/members``, ``DELETE /partners/{org_id}/members/{user_id}``.
- ``POST /partners/{org_id}/keys`` (the plain token once), ``POST /partners/keys/{id}/revoke``,
  ``GET /partners/keys/{id}/usage`` (30 days).
- ``GET /partners/services?state=``, ``POST /partners/services/{id}/review`` (approve, reject, suspend).

The developer's own (``programme.developer``; only their organisation's):

- ``GET|POST /developer/keys``, ``POST /developer/keys/{id}/revoke``, ``GET /developer/keys/{id}/usage``.
- ``GET|POST /developer/services``, ``PUT /developer/services/{id}`` (while submitted or rejected).

Public: ``GET /developer/catalogue`` — the approved partner services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from countyos.programme.models.partners import ServiceState
from countyos.programme.permissions import DEVELOPER, PARTNERS, READ
from countyos.programme.schemas.partners import (
    MAX_ID,
    CatalogueEntryOut,
    DayUseOut,
    KeyIn,
    KeyIssuedOut,
    KeyOut,
    KeyRequestIn,
    MemberIn,
    MemberOut,
    PartnerOut,
    ReviewIn,
    ServiceIn,
    ServiceOut,
)
from countyos.programme.service import partners, partners_services
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require, require_any

router = APIRouter(tags=["programme"])
Viewer = Annotated[Auth, Depends(require_any(READ, PARTNERS))]
Keeper = Annotated[Auth, Depends(require(PARTNERS))]
Developer = Annotated[Auth, Depends(require(DEVELOPER))]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _partner_out(session: Session, org_id: int, name: str, counts: dict[int, dict[str, int]]) -> PartnerOut:
    key_list = partners.keys(session, org_id=org_id)
    return PartnerOut(
        id=org_id,
        name=name,
        members=[MemberOut.model_validate(m) for m in partners.members(session, org_id=org_id)],
        keys=[KeyOut.model_validate(k) for k in key_list],
        calls_today=partners.calls_today(session, key_ids=[k.id for k in key_list]),
        services=counts.get(org_id, {}),
    )


@router.get("/partners")
def list_partners(session: ReadSession, a: Viewer) -> list[PartnerOut]:
    counts = partners_services.counts_by_state(session)
    return [_partner_out(session, o.id, o.name, counts) for o in partners.partner_orgs(session)]


@router.get("/partners/services")
def list_services(session: ReadSession, a: Viewer, state: ServiceState | None = None) -> list[ServiceOut]:
    return [ServiceOut.model_validate(s) for s in partners_services.services(session, state=state)]


@router.post("/partners/services/{service_id}/review")
def review_service(service_id: Id, body: ReviewIn, session: WriteSession, a: Keeper) -> ServiceOut:
    svc = partners_services.review(session, actor=a.actor, service_id=service_id, data=body)
    return ServiceOut.model_validate(svc)


@router.post("/partners/keys/{key_id}/revoke")
def revoke_key(key_id: Id, session: WriteSession, a: Keeper) -> KeyOut:
    return KeyOut.model_validate(partners.revoke_key(session, actor=a.actor, key_id=key_id))


@router.get("/partners/keys/{key_id}/usage")
def key_usage(key_id: Id, session: ReadSession, a: Viewer) -> list[DayUseOut]:
    partners.get_key(session, key_id=key_id)
    return [DayUseOut.model_validate(d) for d in partners.usage(session, key_id=key_id)]


@router.get("/partners/{org_id}")
def get_partner(org_id: Id, session: ReadSession, a: Viewer) -> PartnerOut:
    org = partners.get_partner(session, org_id=org_id)
    return _partner_out(session, org.id, org.name, partners_services.counts_by_state(session))


@router.post("/partners/{org_id}/members", status_code=201)
def add_member(org_id: Id, body: MemberIn, session: WriteSession, a: Keeper) -> MemberOut:
    m = partners.add_member(session, actor=a.actor, org_id=org_id, data=body)
    return next(MemberOut.model_validate(x) for x in partners.members(session, org_id=org_id) if x.id == m.id)


@router.delete("/partners/{org_id}/members/{user_id}", status_code=204, response_class=Response)
def remove_member(org_id: Id, user_id: Id, session: WriteSession, a: Keeper) -> Response:
    partners.remove_member(session, actor=a.actor, org_id=org_id, user_id=user_id)
    return Response(status_code=204)


@router.post("/partners/{org_id}/keys", status_code=201)
def issue_key(org_id: Id, body: KeyIn, session: WriteSession, a: Keeper) -> KeyIssuedOut:
    key, plain = partners.issue_key(session, actor=a.actor, org_id=org_id, data=body)
    return KeyIssuedOut.model_validate({**KeyOut.model_validate(key).model_dump(), "token": plain})


# --- the developer's own ------------------------------------------------------------------------------------


@router.get("/developer/keys")
def my_keys(session: ReadSession, a: Developer) -> list[KeyOut]:
    org_id = partners.org_of_user(session, user_id=a.actor.id)
    if org_id is None:
        return []
    return [KeyOut.model_validate(k) for k in partners.keys(session, org_id=org_id)]


@router.post("/developer/keys", status_code=201)
def request_key(body: KeyRequestIn, session: WriteSession, a: Developer) -> KeyIssuedOut:
    org_id = partners.developer_org(session, actor=a.actor)
    key, plain = partners.issue_key(
        session, actor=a.actor, org_id=org_id, data=KeyIn(name=body.name, scopes=body.scopes)
    )
    return KeyIssuedOut.model_validate({**KeyOut.model_validate(key).model_dump(), "token": plain})


@router.post("/developer/keys/{key_id}/revoke")
def revoke_my_key(key_id: Id, session: WriteSession, a: Developer) -> KeyOut:
    org_id = partners.developer_org(session, actor=a.actor)
    return KeyOut.model_validate(partners.revoke_key(session, actor=a.actor, key_id=key_id, org_id=org_id))


@router.get("/developer/keys/{key_id}/usage")
def my_key_usage(key_id: Id, session: ReadSession, a: Developer) -> list[DayUseOut]:
    org_id = partners.developer_org(session, actor=a.actor)
    partners.get_key(session, key_id=key_id, org_id=org_id)
    return [DayUseOut.model_validate(d) for d in partners.usage(session, key_id=key_id)]


@router.get("/developer/services")
def my_services(session: ReadSession, a: Developer) -> list[ServiceOut]:
    org_id = partners.org_of_user(session, user_id=a.actor.id)
    if org_id is None:
        return []
    return [ServiceOut.model_validate(s) for s in partners_services.services(session, org_id=org_id)]


@router.post("/developer/services", status_code=201)
def submit_service(body: ServiceIn, session: WriteSession, a: Developer) -> ServiceOut:
    org_id = partners.developer_org(session, actor=a.actor)
    return ServiceOut.model_validate(partners_services.submit(session, actor=a.actor, org_id=org_id, data=body))


@router.put("/developer/services/{service_id}")
def edit_service(service_id: Id, body: ServiceIn, session: WriteSession, a: Developer) -> ServiceOut:
    org_id = partners.developer_org(session, actor=a.actor)
    svc = partners_services.edit(session, actor=a.actor, service_id=service_id, org_id=org_id, data=body)
    return ServiceOut.model_validate(svc)


@router.get("/developer/catalogue", dependencies=[Depends(public)])
def catalogue(session: ReadSession) -> list[CatalogueEntryOut]:
    return [
        CatalogueEntryOut(name=s.name, partner=name, summary=s.summary, url=s.url, category=s.category)
        for s, name in partners_services.catalogue(session)
    ]
