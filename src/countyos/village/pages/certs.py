"""Pages of the certs part: ``/village/batches/new`` (phone first: from a harvest record or by hand, then
one tap issues the 合格证), ``/village/batches`` (own batches; the bureau all, with filters and an export),
``/village/batches/{id}`` (tests, certificates, trace views, the QR code), ``/village/certificates/{id}``
(a big print button to the PDF label, revoke), ``/village/certificates`` (the bureau's register by class
and month), ``/village/repack`` (a buyer re-issues from a trace code) and the public ``/t/{code}``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from countyos.org.service import audit
from countyos.services.service.certificates import qr_png
from countyos.village.api.certs import batch_detail, batch_out, certificate_out
from countyos.village.models.certs import Batch, CertBasis, CheckMethod, CheckMode, CheckResult
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.models.producers import ProductionBase
from countyos.village.permissions import AGRI_READ, BUY, PRODUCE
from countyos.village.schemas.certs import BatchIn, CertificateIn, CheckIn, RepackIn, RevokeIn
from countyos.village.service import certs, certs_trace, products, scope
from countyos.village.service.farming import InsideSafetyInterval
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
AGRICULTURE = N_("Agriculture")
NAV = [
    NavItem(AGRICULTURE, N_("New batch"), "/village/batches/new", PRODUCE, order=640),
    NavItem(AGRICULTURE, N_("Batches and certificates"), "/village/batches", PRODUCE, order=641),
    NavItem(AGRICULTURE, N_("Batches and certificates"), "/village/batches", BUY, order=641),
    NavItem(AGRICULTURE, N_("Batches and certificates"), "/village/batches", AGRI_READ, order=641),
    NavItem(AGRICULTURE, N_("Repack and re-issue"), "/village/repack", BUY, order=642),
    NavItem(AGRICULTURE, N_("Certificate register"), "/village/certificates", AGRI_READ, order=643),
]
Signed = Annotated[Auth, Depends(authenticated)]
Producer = Annotated[Auth, Depends(require(PRODUCE))]
Buyer = Annotated[Auth, Depends(require(BUY))]
Reader = Annotated[Auth, Depends(require(AGRI_READ))]
Anyone = Annotated[Auth | None, Depends(public)]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BATCH_FIELDS = ("entity_id", "record_id", "base_id", "product_code", "quantity", "unit", "harvest_date", "batch_no")
CHECK_FIELDS = ("institution", "method", "mode", "standard", "items", "result", "report_no", "tested_on")
REPACK_FIELDS = ("code", "entity_id", "quantity", "batch_no")
MAX_EXPORT = 10_000
MONTHS = range(1, 13)

audit.name_codes(
    actions={
        "village.certs.batch_create": N_("Batch made"),
        "village.certs.test_add": N_("Batch test recorded"),
        "village.certs.certificate_issue": N_("Certificate of commitment issued"),
        "village.certs.certificate_revoke": N_("Certificate of commitment revoked"),
        "village.certs.repack": N_("Batch repacked and certificate re-issued"),
    },
    targets={"village_batch": N_("Batch"), "village_certificate": N_("Certificate of commitment")},
)


def _labels() -> dict[str, Any]:
    cat = products.catalog()
    return {
        "method_labels": certs_trace.METHOD_LABELS,
        "mode_labels": certs_trace.MODE_LABELS,
        "result_labels": certs_trace.RESULT_LABELS,
        "basis_labels": certs_trace.BASIS_LABELS,
        "methods": list(CheckMethod),
        "modes": list(CheckMode),
        "results": list(CheckResult),
        "basis_options": list(CertBasis),
        "products": sorted(cat.products.values(), key=lambda p: (p.class_code, p.code)),
        "classes": list(cat.classes.values()),
        "units": list(cat.units.values()),
        "today": certs.today(),
    }


# ── a new batch ──────────────────────────────────────────────────────────────────────────────────────


def _my_bases(session: Session, entity_ids: list[int]) -> list[ProductionBase]:
    from sqlalchemy import select

    if not entity_ids:
        return []
    stmt = select(ProductionBase).where(ProductionBase.entity_id.in_(entity_ids), ProductionBase.active.is_(True))
    return list(session.scalars(stmt.order_by(ProductionBase.name).limit(200)))


def _harvests(session: Session, entity_ids: list[int]) -> list[FarmRecord]:
    from sqlalchemy import select

    if not entity_ids:
        return []
    stmt = (
        select(FarmRecord)
        .where(
            FarmRecord.entity_id.in_(entity_ids),
            FarmRecord.kind == RecordKind.HARVEST,
            FarmRecord.voided.is_(False),
            FarmRecord.used_on >= certs.today() - timedelta(days=60),
        )
        .order_by(FarmRecord.used_on.desc(), FarmRecord.id.desc())
        .limit(30)
    )
    return list(session.scalars(stmt))


def _new_form(request: Request, session: Session, a: Auth, form: Refused, status: int = 200) -> Response:
    mine = scope.entity_ids_of(session, a.actor)
    return templates(request).render(
        request,
        "village/certs/new.html",
        {
            "form": form,
            "entities": certs.entity_names(session, mine),
            "bases": _my_bases(session, mine),
            "harvests": _harvests(session, mine),
            "product_label": products.product_label,
            "unit_label": products.unit_label,
            **_labels(),
        },
        status_code=status,
    )


@router.get("/village/batches/new")
def new_batch(
    request: Request, session: ReadSession, a: Producer, record: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> Response:
    values: dict[str, Any] = {}
    if record is not None:
        rec = session.get(FarmRecord, record)
        if rec is not None and rec.entity_id in scope.entity_ids_of(session, a.actor):
            values = {
                "record_id": str(rec.id), "entity_id": str(rec.entity_id), "base_id": str(rec.base_id),
                "product_code": rec.product_code or "", "quantity": f"{rec.quantity:g}" if rec.quantity else "",
                "unit": rec.unit or "", "harvest_date": rec.used_on.isoformat(),
            }  # fmt: skip
    return _new_form(request, session, a, Refused(values, {}, None, 200))


@router.post("/village/batches/new")
def create_batch(request: Request, session: WriteSession, a: Producer, form: PostedForm) -> Response:
    values = forms.typed(form, BATCH_FIELDS)
    try:
        body = forms.parse(BatchIn, values)
        batch = certs.create_batch(session, actor=a.actor, body=body)
    except InsideSafetyInterval as exc:
        session.rollback()
        message = exc.message
        refused = Refused(values, {"harvest_date": message}, message, 409)
        return _new_form(request, session, a, refused, refused.status)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _new_form(request, session, a, refused, refused.status)
    return redirect(
        f"/village/batches/{batch.id}", flash=translate(request, N_("Batch %(no)s made"), no=batch.batch_no)
    )


# ── lists ────────────────────────────────────────────────────────────────────────────────────────────


def _filters(
    entity_id: int | None, product_code: str | None, product_class: str | None, date_from: date | None,
    date_to: date | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "entity_id": entity_id, "product_code": product_code or None, "product_class": product_class or None,
        "date_from": date_from, "date_to": date_to,
    }  # fmt: skip


EntityQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
ProductQ = Annotated[str | None, Query(max_length=40)]
ClassQ = Annotated[str | None, Query(max_length=20)]


@router.get("/village/batches")
def batches(
    request: Request,
    session: ReadSession,
    a: Signed,
    entity_id: EntityQ = None,
    product_code: ProductQ = None,
    product_class: ClassQ = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    f = _filters(entity_id, product_code, product_class, date_from, date_to)
    rows = certs.list_batches(session, actor=a.actor, limit=51, offset=(page - 1) * 50, **f)
    names = certs.entity_names(session, [b.entity_id for b in rows])
    from sqlalchemy import func, select

    total = session.scalar(
        select(func.count()).select_from(certs.batches_query(session, actor=a.actor, **f).subquery())
    )
    return templates(request).render(
        request,
        "village/certs/batches.html",
        {
            "rows": [batch_out(session, b, names) for b in rows[:50]],
            "more": len(rows) > 50,
            "page": page,
            "total": total or 0,
            "f": f,
            "sees_all": scope.sees_all(a.actor),
            "entities": certs.entity_names(session, scope.entity_ids_of(session, a.actor))
            if not scope.sees_all(a.actor)
            else {},
            "missing": certs.missing_certificates(session, actor=a.actor, limit=20),
            "product_label": products.product_label,
            "query": urlencode({k: v for k, v in f.items() if v}),
            **_labels(),
        },
    )


@router.get("/village/batches/export")
def export_batches(
    request: Request,
    session: ReadSession,
    a: Signed,
    entity_id: EntityQ = None,
    product_code: ProductQ = None,
    product_class: ClassQ = None,
    date_from: date | None = None,
    date_to: date | None = None,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
) -> Response:
    f = _filters(entity_id, product_code, product_class, date_from, date_to)
    rows = certs.list_batches(session, actor=a.actor, limit=MAX_EXPORT, **f)
    names = certs.entity_names(session, [b.entity_id for b in rows])
    headers = [
        gettext(h)
        for h in (
            N_("Batch number"), N_("Producer or buyer"), N_("Product"), N_("Product class"), N_("Quantity"),
            N_("Unit"), N_("Harvest date"), N_("Trace code"), N_("Certificate"), N_("Trace views"),
        )
    ]  # fmt: skip
    out = []
    for b in rows:
        current = certs.current_certificate(session, b.id)
        cls = products.catalog().classes.get(b.product_class)
        out.append([
            b.batch_no, names.get(b.entity_id, ""), products.product_label(b.product_code),
            cls.label() if cls else b.product_class, b.quantity, products.unit_label(b.unit), b.harvest_date,
            b.trace_code, current.number if current else "", b.trace_views,
        ])  # fmt: skip
    if format == "csv":
        return Response(to_csv(headers, out), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="batches.csv"'})  # fmt: skip
    return Response(to_xlsx(headers, out, "batches"), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="batches.xlsx"'})  # fmt: skip


# ── one batch ────────────────────────────────────────────────────────────────────────────────────────


def _batch_page(
    request: Request, session: Session, a: Auth, batch: Batch, form: Refused | None = None, status: int = 200
) -> Response:
    with use_locale(request.state.locale):  # the labels the service words in the reader's language
        detail = batch_detail(session, batch)
        chain = [batch_out(session, x) for x in certs.chain(session, batch)[:-1]]
    writer = batch.entity_id in scope.entity_ids_of(session, a.actor)
    return templates(request).render(
        request,
        "village/certs/batch.html",
        {
            "b": detail,
            "chain": chain,
            "views": certs_trace.views_by_day(session, batch_id=batch.id),
            "writer": writer,
            "may_test": writer or a.actor.can("village.agri.manage"),
            "form": form or Refused.empty(),
            **_labels(),
        },
        status_code=status,
    )


@router.get("/village/batches/{batch_id}")
def batch_page(request: Request, session: ReadSession, a: Signed, batch_id: PathId) -> Response:
    return _batch_page(request, session, a, certs.get_batch(session, actor=a.actor, batch_id=batch_id))


@router.get("/village/batches/{batch_id}/qr.png")
def batch_qr(session: ReadSession, a: Signed, batch_id: PathId) -> Response:
    batch = certs.get_batch(session, actor=a.actor, batch_id=batch_id)
    return Response(qr_png(certs.trace_url(batch.trace_code)), media_type="image/png")


def _items(text: str) -> list[dict[str, str]]:
    """Lines of ``项目|结果|限量`` (or tab-separated) → test items."""
    out = []
    for line in text.splitlines()[:30]:
        parts = [p.strip() for p in line.replace("\t", "|").replace("｜", "|").split("|")]
        if parts and parts[0]:
            out.append({"item": parts[0], "result": parts[1] if len(parts) > 1 else "",
                        "limit": parts[2] if len(parts) > 2 else ""})  # fmt: skip
    return out


@router.post("/village/batches/{batch_id}/tests")
def add_test(request: Request, session: WriteSession, a: Signed, batch_id: PathId, form: PostedForm) -> Response:
    values = forms.typed(form, CHECK_FIELDS)
    try:
        body = forms.parse(CheckIn, {**values, "items": _items(values["items"])})
        certs.add_check(session, actor=a.actor, batch_id=batch_id, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="test")
        batch = certs.get_batch(session, actor=a.actor, batch_id=batch_id)
        return _batch_page(request, session, a, batch, refused, refused.status)
    return redirect(f"/village/batches/{batch_id}", flash=translate(request, N_("Test recorded")))


@router.post("/village/batches/{batch_id}/certificates")
def issue(request: Request, session: WriteSession, a: Signed, batch_id: PathId, form: PostedForm) -> Response:
    values = forms.typed(form, ("basis", "test_id"))
    try:
        body = forms.parse(CertificateIn, values)
        cert = certs.issue_certificate(session, actor=a.actor, batch_id=batch_id, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="certificate")
        batch = certs.get_batch(session, actor=a.actor, batch_id=batch_id)
        return _batch_page(request, session, a, batch, refused, refused.status)
    return redirect(f"/village/certificates/{cert.id}", flash=translate(request, N_("Certificate issued")))


# ── certificates ─────────────────────────────────────────────────────────────────────────────────────


def _cert_page(request: Request, session: Session, a: Auth, cert_id: int, form: Refused | None = None) -> Response:
    cert = certs.get_certificate(session, actor=a.actor, certificate_id=cert_id)
    with use_locale(request.state.locale):
        c = certificate_out(session, cert)
        p = session.get(type(cert), cert.parent_id) if cert.parent_id else None
        parent = certificate_out(session, p) if p is not None else None
    return templates(request).render(
        request,
        "village/certs/certificate.html",
        {
            "c": c,
            "parent": parent,
            "may_revoke": not c.revoked
            and (cert.issuer_id in scope.entity_ids_of(session, a.actor) or a.actor.can("village.agri.manage")),
            "form": form or Refused.empty(),
        },
        status_code=form.status if form else 200,
    )


@router.get("/village/certificates/{certificate_id}")
def certificate_page(request: Request, session: ReadSession, a: Signed, certificate_id: PathId) -> Response:
    return _cert_page(request, session, a, certificate_id)


@router.post("/village/certificates/{certificate_id}/revoke")
def revoke(request: Request, session: WriteSession, a: Signed, certificate_id: PathId, form: PostedForm) -> Response:
    values = forms.typed(form, ("reason",))
    try:
        body = forms.parse(RevokeIn, values)
        certs.revoke_certificate(session, actor=a.actor, certificate_id=certificate_id, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _cert_page(request, session, a, certificate_id, Refused.of(request, exc, values))
    return redirect(f"/village/certificates/{certificate_id}", flash=translate(request, N_("Certificate revoked")))


@router.get("/village/certificates")
def register(
    request: Request,
    session: ReadSession,
    a: Reader,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    product_class: ClassQ = None,
) -> Response:
    year = year or certs.today().year
    counts = certs.counts_by_class_month(session, actor=a.actor, year=year)
    stmt = certs.certificates_query(
        session, actor=a.actor, product_class=product_class or None, date_from=date(year, 1, 1),
        date_to=date(year, 12, 31),
    )  # fmt: skip
    with use_locale(request.state.locale):
        rows = [certificate_out(session, c) for c in session.scalars(stmt.limit(200))]
    since = certs.today() - timedelta(days=29)
    return templates(request).render(
        request,
        "village/certs/register.html",
        {
            "year": year,
            "counts": counts,
            "months": MONTHS,
            "rows": rows,
            "product_class": product_class or "",
            "trend": certs_trace.views_total_by_day(session, since=since),
            "missing": len(certs.missing_certificates(session, actor=a.actor, limit=500)),
            **_labels(),
        },
    )


# ── a buyer repacks ──────────────────────────────────────────────────────────────────────────────────


def _repack_form(request: Request, session: Session, a: Auth, form: Refused, status: int = 200) -> Response:
    return templates(request).render(
        request,
        "village/certs/repack.html",
        {"form": form, "entities": certs.entity_names(session, scope.entity_ids_of(session, a.actor))},
        status_code=status,
    )


@router.get("/village/repack")
def repack_form(
    request: Request, session: ReadSession, a: Buyer, code: Annotated[str, Query(max_length=120)] = ""
) -> Response:
    return _repack_form(request, session, a, Refused({"code": code}, {}, None, 200))


@router.post("/village/repack")
def repack(request: Request, session: WriteSession, a: Buyer, form: PostedForm) -> Response:
    values = forms.typed(form, REPACK_FIELDS)
    try:
        source = certs_trace.find(session, values["code"])
        if source is None:
            raise NotFound(N_("No batch has this trace code"))
        body = forms.parse(RepackIn, {k: v for k, v in values.items() if k != "code"})
        _, cert = certs.repack(session, actor=a.actor, batch_id=source.id, body=body)
    except NotFound as exc:
        session.rollback()
        refused = Refused(values, {"code": exc.message}, exc.message, 404)
        return _repack_form(request, session, a, refused, 404)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _repack_form(request, session, a, refused, refused.status)
    return redirect(f"/village/certificates/{cert.id}", flash=translate(request, N_("Certificate re-issued")))


# ── the public trace ─────────────────────────────────────────────────────────────────────────────────


@router.api_route("/t/{code}", methods=["GET", "HEAD"])
def trace_page(
    request: Request, session: WriteSession, a: Anyone, code: Annotated[str, Path(max_length=120)]
) -> Response:
    batch = certs_trace.find(session, code)
    if batch is None:
        return templates(request).render(request, "village/certs/trace_missing.html", {"code": code[:40]}, 404)
    certs_trace.count_view(session, batch=batch)
    session.refresh(batch)
    with use_locale(request.state.locale):
        t = certs_trace.trace(session, batch)
    return templates(request).render(
        request, "village/certs/trace.html", {"t": t, "outline": certs_trace.outline(session, batch)}
    )
