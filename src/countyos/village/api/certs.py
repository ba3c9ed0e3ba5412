"""API of the certs part under /api/v1/village: batches, their tests (快检/检测), 承诺达标合格证 (issue, read,
PDF label, revoke), a buyer's repack and the public trace.

Producers act for their own entities (``service/scope.py``), buyers for theirs, the 农业农村局 reads all and
may record tests and revoke. ``GET /trace/{code}`` is public (no personal data) and counts a view.
Errors are problem+json; a batch inside a safety interval is a 409 ``inside_safety_interval`` naming the
input, its date and the days remaining.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import NotFound
from countyos.core.i18n import N_, gettext
from countyos.village.models.certs import Batch, BatchTest, Certificate
from countyos.village.permissions import BUY, PRODUCE
from countyos.village.schemas.certs import (
    BatchDetailOut,
    BatchIn,
    BatchOut,
    CertificateIn,
    CertificateOut,
    CheckIn,
    CheckItem,
    CheckOut,
    RepackIn,
    RevokeIn,
    TraceOut,
)
from countyos.village.service import certs, certs_pdf, certs_trace, products
from countyos.village.service import certs_codes as codes
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, public, require

router = APIRouter()
Signed = Annotated[Auth, Depends(authenticated)]
Producer = Annotated[Auth, Depends(require(PRODUCE))]
Buyer = Annotated[Auth, Depends(require(BUY))]
Anyone = Annotated[Auth | None, Depends(public)]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_LIMIT = 500


def check_out(t: BatchTest) -> CheckOut:
    return CheckOut(
        id=t.id, batch_id=t.batch_id, institution=t.institution, method=t.method,
        method_label=gettext(certs_trace.METHOD_LABELS[t.method]), mode=t.mode,
        mode_label=gettext(certs_trace.MODE_LABELS[t.mode]), standard=t.standard,
        items=[CheckItem.model_validate(i) for i in t.items or []], result=t.result,
        result_label=gettext(certs_trace.RESULT_LABELS[t.result]), report_no=t.report_no, tested_on=t.tested_on,
    )  # fmt: skip


def certificate_out(session: Session, c: Certificate) -> CertificateOut:
    batch = session.get(Batch, c.batch_id)
    assert batch is not None
    cls = products.catalog().classes.get(c.product_class)
    return CertificateOut(
        id=c.id, number=c.number, batch_id=c.batch_id, issuer_id=c.issuer_id, parent_id=c.parent_id,
        product_code=c.product_code, product_name=c.product_name, product_class=c.product_class,
        class_label=cls.label() if cls else c.product_class, quantity=c.quantity, unit=c.unit,
        unit_label=products.unit_label(c.unit), producer_name=c.producer_name, origin=c.origin,
        contact=c.contact_masked, promise=c.promise, basis=c.basis,
        basis_label=gettext(certs_trace.BASIS_LABELS[c.basis]), report_no=c.report_no, issued_on=c.issued_on,
        issued_at=c.issued_at, revoked=c.revoked_at is not None, revoked_at=c.revoked_at,
        revoked_reason=c.revoked_reason, trace_code=batch.trace_code, trace_url=certs.trace_url(batch.trace_code),
        url=f"/village/certificates/{c.id}", pdf_url=f"/api/v1/village/certificates/{c.id}.pdf",
    )  # fmt: skip


def batch_out(session: Session, b: Batch, names: dict[int, str] | None = None) -> BatchOut:
    names = names if names is not None else certs.entity_names(session, [b.entity_id])
    cls = products.catalog().classes.get(b.product_class)
    current = certs.current_certificate(session, b.id)
    return BatchOut(
        id=b.id, entity_id=b.entity_id, entity_name=names.get(b.entity_id, ""), base_id=b.base_id,
        base_name=certs.base_names(session, [b.base_id]).get(b.base_id) if b.base_id else None,
        parent_id=b.parent_id, product_code=b.product_code, product_name=products.product_label(b.product_code),
        product_class=b.product_class, class_label=cls.label() if cls else b.product_class,
        certificate_required=certs.certificate_required(b), quantity=b.quantity, left=certs.left_of(session, b),
        unit=b.unit, unit_label=products.unit_label(b.unit), harvest_date=b.harvest_date, batch_no=b.batch_no,
        trace_code=b.trace_code, trace_code_human=codes.human(b.trace_code), trace_scheme=str(b.trace_scheme),
        trace_url=certs.trace_url(b.trace_code), trace_views=b.trace_views, source_record_id=b.source_record_id,
        certificate_id=current.id if current else None, url=f"/village/batches/{b.id}",
    )  # fmt: skip


def batch_detail(session: Session, b: Batch) -> BatchDetailOut:
    base = batch_out(session, b)
    return BatchDetailOut(
        **base.model_dump(),
        checks=[check_out(t) for t in certs.checks_of(session, b)],
        certificates=[certificate_out(session, c) for c in certs.certificates_of(session, [b.id])],
        children=[batch_out(session, c) for c in certs.children(session, b.id)],
    )


@router.get("/batches")
def list_batches(
    session: ReadSession,
    a: Signed,
    entity_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    product_code: Annotated[str | None, Query(max_length=40)] = None,
    product_class: Annotated[str | None, Query(max_length=20)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[BatchOut]:
    """Batches the caller may see (a producer or buyer: its own; the bureau: all), newest harvest first."""
    rows = certs.list_batches(
        session, actor=a.actor, limit=limit, offset=offset, entity_id=entity_id, product_code=product_code,
        product_class=product_class, date_from=date_from, date_to=date_to,
    )  # fmt: skip
    names = certs.entity_names(session, [b.entity_id for b in rows])
    return [batch_out(session, b, names) for b in rows]


@router.post("/batches", status_code=201)
def create_batch(body: BatchIn, session: WriteSession, a: Producer) -> BatchDetailOut:
    return batch_detail(session, certs.create_batch(session, actor=a.actor, body=body))


@router.get("/batches/{batch_id}")
def get_batch(batch_id: PathId, session: ReadSession, a: Signed) -> BatchDetailOut:
    return batch_detail(session, certs.get_batch(session, actor=a.actor, batch_id=batch_id))


@router.post("/batches/{batch_id}/tests", status_code=201)
def add_test(batch_id: PathId, body: CheckIn, session: WriteSession, a: Signed) -> CheckOut:
    return check_out(certs.add_check(session, actor=a.actor, batch_id=batch_id, body=body))


@router.post("/batches/{batch_id}/certificates", status_code=201)
def issue_certificate(batch_id: PathId, body: CertificateIn, session: WriteSession, a: Signed) -> CertificateOut:
    return certificate_out(session, certs.issue_certificate(session, actor=a.actor, batch_id=batch_id, body=body))


@router.post("/batches/{batch_id}/repack", status_code=201)
def repack(batch_id: PathId, body: RepackIn, session: WriteSession, a: Buyer) -> BatchDetailOut:
    """A buyer repacks part of a batch with a valid certificate: a child batch and the re-issued certificate."""
    child, _ = certs.repack(session, actor=a.actor, batch_id=batch_id, body=body)
    return batch_detail(session, child)


@router.get("/certificates/{certificate_id}.pdf", response_class=Response)
def certificate_pdf(certificate_id: PathId, session: ReadSession, a: Signed) -> Response:
    cert = certs.get_certificate(session, actor=a.actor, certificate_id=certificate_id)
    return Response(
        certs_pdf.render(session, cert),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{cert.number}.pdf"'},
    )


@router.get("/certificates/{certificate_id}")
def get_certificate(certificate_id: PathId, session: ReadSession, a: Signed) -> CertificateOut:
    return certificate_out(session, certs.get_certificate(session, actor=a.actor, certificate_id=certificate_id))


@router.post("/certificates/{certificate_id}/revoke")
def revoke_certificate(certificate_id: PathId, body: RevokeIn, session: WriteSession, a: Signed) -> CertificateOut:
    cert = certs.revoke_certificate(session, actor=a.actor, certificate_id=certificate_id, reason=body.reason)
    return certificate_out(session, cert)


@router.get("/trace/{code}")
def trace(code: Annotated[str, Path(max_length=120)], session: WriteSession, a: Anyone) -> TraceOut:
    """The public trace of a batch by its code (URL form or with parentheses); counts a view."""
    batch = certs_trace.find(session, code)
    if batch is None:
        raise NotFound(N_("No batch has this trace code"))
    certs_trace.count_view(session, batch=batch)
    session.refresh(batch)
    return certs_trace.trace(session, batch)
