"""Exchange under /api/v1/services: records in GB/T 39046 field names for a period, certificates.

``GET /exchange/applications?from=&to=`` (``services.application.supervise``; a period of at most a
quarter, paged) gives the records ``countyos services export --kind applications`` writes; the
personal fields are masked unless the caller holds ``services.application.pii``. A certificate
(结果证照) of a granted application: ``GET /applications/{id}/certificate`` (whoever may read the
application) and ``POST /applications/{id}/certificate/revoke`` (window clerks and supervisors).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from countyos.core.crypto import mask_phone
from countyos.services import schemas
from countyos.services.api.common import Page, PathId, Person
from countyos.services.service import applications, certificates, exchange
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Supervisor = Annotated[Auth, Depends(require(applications.SUPERVISE))]


class ExchangePage(BaseModel):
    数据集: str
    开始时间: str
    结束时间: str
    total: int
    limit: int
    offset: int
    records: list[dict[str, Any]]


def certificate_out(cert: Any) -> schemas.CertificateOut:
    return schemas.CertificateOut(
        application_id=cert.application_id,
        name=cert.name,
        number=cert.number,
        holder_name=cert.holder_name,
        issuer=cert.issuer,
        issued_at=cert.issued_at,
        valid_from=cert.valid_from,
        valid_until=cert.valid_until,
        revoked_at=cert.revoked_at,
        revoked_reason=cert.revoked_reason,
        status=certificates.status(cert),
        verification_url=certificates.verification_url(cert.token),
    )


def _masked(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    if out.get("申请者证件号码"):
        out["申请者证件号码"] = applications.mask_id(out["申请者证件号码"])
    if out.get("联系人手机号码"):
        out["联系人手机号码"] = mask_phone(out["联系人手机号码"])
    out["通讯地址"] = None
    return out


@router.get("/exchange/applications", response_model=ExchangePage)
def exchange_applications(
    session: ReadSession,
    a: Supervisor,
    page: Page,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> ExchangePage:
    """表5–表8 of every application with a timeline entry in the county days ``from``…``to`` (at most
    93 days), oldest first, in the standard's field names and national codes."""
    p = exchange.period(first, last, max_days=exchange.API_MAX_DAYS)
    ids = exchange.application_ids(session, start=p.start, end=p.end)
    records = exchange.records(session, ids[page.offset : page.offset + page.limit])
    if not a.actor.can(applications.PII):
        records = [_masked(r) for r in records]
    return ExchangePage(
        数据集=exchange.KINDS["applications"].title,
        开始时间=exchange.county_time(p.start) or "",
        结束时间=exchange.county_time(p.end) or "",
        total=len(ids),
        limit=page.limit,
        offset=page.offset,
        records=records,
    )


@router.get("/applications/{application_id}/certificate", response_model=schemas.CertificateOut)
def get_certificate(application_id: PathId, session: ReadSession, a: Person) -> schemas.CertificateOut:
    """The certificate of a granted application (the PDF is ``/services/applications/{id}/certificate.pdf``)."""
    _app, cert = certificates.for_application(session, actor=a.actor, application_id=application_id)
    return certificate_out(cert)


@router.post("/applications/{application_id}/certificate/revoke", response_model=schemas.CertificateOut)
def revoke_certificate(
    application_id: PathId, body: schemas.RevokeIn, session: WriteSession, a: Person
) -> schemas.CertificateOut:
    """撤销: the public verification page answers "revoked" from now on."""
    cert = certificates.revoke(session, actor=a.actor, application_id=application_id, reason=body.reason)
    return certificate_out(cert)
