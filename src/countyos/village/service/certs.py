"""Batches (批次), their 快检/检测 results and their 承诺达标合格证.

A producer makes a batch from a harvest record or by hand: product (its class taken from the catalogue
at creation), quantity and unit, 基地 (of the same entity), harvest date and batch number (its own or
``YYYYMMDD-NNN``). A batch inside an input's 安全间隔期/休药期 is refused (``farming.refuse_inside_interval``).
Each batch gets its trace code (``certs_codes``). A certificate is issued per batch (one current at a
time) with every element of the 2026 rules as issued; it is never edited, a wrong one is revoked with a
reason. A test-based promise (自行检测/委托检测) needs a passing test of the batch (or of the batch it was
repacked from); a failed test blocks it. A buyer who repacks makes a child batch of at most what is left
and re-issues: the new certificate's issuer is the buyer, and it points to the original.

Services take ``session`` first, never commit and audit every write (``village.certs.*``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today, county_zone, utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.geo.service import divisions
from countyos.org.service import audit
from countyos.village.models.certs import (
    Batch,
    BatchTest,
    CertBasis,
    Certificate,
    CheckMode,
    CheckResult,
    Gtin,
    TraceScheme,
)
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.models.producers import BUYER_KINDS, Entity, ProductionBase
from countyos.village.permissions import AGRI_MANAGE, BUY, PRODUCE
from countyos.village.schemas.certs import BatchIn, CertificateIn, CheckIn, RepackIn
from countyos.village.service import certs_codes as codes
from countyos.village.service import farming, products, scope

MAX_LIST = 500
MODE_OF_BASIS = {CertBasis.SELF_TEST: CheckMode.SELF, CertBasis.ENTRUSTED_TEST: CheckMode.ENTRUSTED}


@dataclass(frozen=True)
class CertRules:
    promise: str
    source: str


@lru_cache(maxsize=1)
def rules() -> CertRules:
    raw = json.loads(resources.files("countyos.village").joinpath("data/certs_promise.json").read_text("utf-8"))
    return CertRules(promise=raw["promise"], source=raw["source"])


def county_code(session: Session) -> str:
    county = divisions.the_county(session)
    return county.code[:6] if county is not None else "000000"


today = county_today


def trace_url(code: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/t/{code}"


def _field(field: str, message: str, text: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(text, errors=[{"field": field, "message": message}], **params)


# ── batches ──────────────────────────────────────────────────────────────────────────────────────────


def _acting_entity(session: Session, actor: Actor, entity_id: int | None) -> Entity:
    """The entity the person acts for: the one named (they must be a member, or the bureau), else their
    only one."""
    if entity_id is None:
        ids = scope.entity_ids_of(session, actor)
        if len(ids) != 1:
            raise _field("entity_id", "Required", N_("Choose the producer or buyer you act for"))
        entity_id = ids[0]
    entity = scope.entity_for(session, actor, entity_id, write=True)
    return entity


def _harvest_record(session: Session, entity: Entity, record_id: int) -> FarmRecord:
    rec = session.get(FarmRecord, record_id)
    if rec is None or rec.entity_id != entity.id or rec.voided:
        raise _field("record_id", "Not valid", N_("No such harvest record of this producer"))
    if rec.kind != RecordKind.HARVEST:
        raise _field("record_id", "Not valid", N_("The record is not a harvest"))
    return rec


def _next_batch_no(session: Session, entity_id: int, day: date) -> str:
    stem = f"{day:%Y%m%d}-"
    taken = set(
        session.scalars(select(Batch.batch_no).where(Batch.entity_id == entity_id, Batch.batch_no.like(stem + "%")))
    )
    n = len(taken) + 1
    while f"{stem}{n:03d}" in taken:
        n += 1
    return f"{stem}{n:03d}"


def gtin_for(session: Session, entity: Entity, product_code: str) -> str:
    """The GTIN-13 of the entity's product, its item reference given once (the next free number)."""
    row = session.scalar(select(Gtin).where(Gtin.entity_id == entity.id, Gtin.product_code == product_code))
    if row is not None:
        return row.gtin13
    prefix = entity.gs1_prefix or ""
    ref = (session.scalar(select(func.max(Gtin.item_ref)).where(Gtin.entity_id == entity.id)) or 0) + 1
    try:
        value = codes.gtin13(prefix, ref)
    except ValueError as exc:
        raise Conflict(N_("The producer's GS1 company prefix has no item reference left or is not valid")) from exc
    session.add(Gtin(entity_id=entity.id, product_code=product_code, item_ref=ref, gtin13=value))
    session.flush()
    return value


def _trace_code(
    session: Session, entity: Entity, product_code: str, day: date, batch_no: str
) -> tuple[str, str | None]:
    if entity.gs1_prefix and codes.GS1_PREFIX_RE.fullmatch(entity.gs1_prefix):
        gtin14 = "0" + gtin_for(session, entity, product_code)
        return codes.gs1_element_string(gtin14=gtin14, produced=day, batch_no=batch_no), gtin14
    prefix = codes.county_prefix(county_code=county_code(session), entity_id=entity.id, harvested=day)
    taken = set(session.scalars(select(Batch.trace_code).where(Batch.trace_code.like(prefix + "%"))))
    n = len(taken) + 1
    while (code := codes.county_code(prefix=prefix, sequence=n)) in taken:
        n += 1
    return code, None


def _new_batch(
    session: Session,
    *,
    actor: Actor,
    entity: Entity,
    product_code: str,
    product_class: str,
    quantity: float,
    unit: str,
    day: date,
    batch_no: str | None,
    base_id: int | None,
    parent_id: int | None = None,
    record_id: int | None = None,
) -> Batch:
    if batch_no is None:
        batch_no = _next_batch_no(session, entity.id, day)
    elif session.scalar(select(Batch.id).where(Batch.entity_id == entity.id, Batch.batch_no == batch_no)):
        raise _field("batch_no", "Already taken", N_("This batch number is already used: %(no)s"), no=batch_no)
    code, gtin = _trace_code(session, entity, product_code, day, batch_no)
    batch = Batch(
        entity_id=entity.id, base_id=base_id, parent_id=parent_id, product_code=product_code,
        product_class=product_class, quantity=quantity, unit=unit, harvest_date=day, batch_no=batch_no,
        trace_code=code, trace_views=0, created_at=utcnow(), created_by=actor.name,
        trace_scheme=TraceScheme.GS1 if gtin else TraceScheme.COUNTY, gtin=gtin, source_record_id=record_id,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    return batch


def create_batch(session: Session, *, actor: Actor, body: BatchIn) -> Batch:
    """A producer's batch; refused inside a safety interval (409 ``inside_safety_interval``)."""
    entity = _acting_entity(session, actor, body.entity_id)
    if entity.kind in BUYER_KINDS:
        raise _field("entity_id", "Not valid", N_("A buyer makes batches only by repacking"))
    rec = _harvest_record(session, entity, body.record_id) if body.record_id else None
    base_id = body.base_id or (rec.base_id if rec else None)
    product_code = body.product_code or (rec.product_code if rec else None)
    quantity = body.quantity or (rec.quantity if rec else None)
    day = body.harvest_date or (rec.used_on if rec else None)
    given = {"base_id": base_id, "product_code": product_code, "quantity": quantity, "harvest_date": day}
    missing = [f for f, v in given.items() if not v]
    if missing:
        raise ValidationFailed(
            N_("Please correct the marked fields"), errors=[{"field": f, "message": "Required"} for f in missing]
        )
    assert base_id and product_code and quantity and day
    product = products.product(product_code)
    unit = body.unit or (rec.unit if rec and rec.unit else None) or product.unit
    if unit not in products.catalog().units:
        raise _field("unit", "Not valid", N_("Unknown unit %(unit)s"), unit=unit)
    base = session.get(ProductionBase, base_id)
    if base is None or base.entity_id != entity.id:
        raise _field("base_id", "Not valid", N_("The base does not belong to this producer"))
    if day > today():
        raise _field("harvest_date", "Not valid", N_("The harvest date is in the future"))
    farming.refuse_inside_interval(session, base_id=base.id, product_code=product.code, on=day)
    batch = _new_batch(
        session, actor=actor, entity=entity, product_code=product.code, product_class=product.class_code,
        quantity=float(quantity), unit=unit, day=day, batch_no=body.batch_no, base_id=base.id,
        record_id=rec.id if rec else None,
    )  # fmt: skip
    audit.record(
        session, actor=actor, action="village.certs.batch_create", target_type="village_batch", target_id=batch.id,
        detail={"entity": entity.id, "product": product.code, "quantity": batch.quantity, "unit": unit,
                "batch_no": batch.batch_no, "trace_code": batch.trace_code},
    )  # fmt: skip
    return batch


def _may_see(session: Session, actor: Actor, batch: Batch) -> bool:
    if scope.sees_all(actor):
        return True
    mine = set(scope.entity_ids_of(session, actor))
    return batch.entity_id in mine


def get_batch(session: Session, *, actor: Actor, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or not _may_see(session, actor, batch):
        raise NotFound(N_("No such batch"))
    return batch


def batches_query(
    session: Session,
    *,
    actor: Actor,
    entity_id: int | None = None,
    product_code: str | None = None,
    product_class: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Select[Any]:
    stmt = select(Batch)
    if not scope.sees_all(actor):
        stmt = stmt.where(Batch.entity_id.in_(scope.entity_ids_of(session, actor) or [-1]))
    if entity_id:
        stmt = stmt.where(Batch.entity_id == entity_id)
    if product_code:
        stmt = stmt.where(Batch.product_code == product_code)
    if product_class:
        stmt = stmt.where(Batch.product_class == product_class)
    if date_from:
        stmt = stmt.where(Batch.harvest_date >= date_from)
    if date_to:
        stmt = stmt.where(Batch.harvest_date <= date_to)
    return stmt.order_by(Batch.harvest_date.desc(), Batch.id.desc())


def list_batches(session: Session, *, actor: Actor, limit: int = 100, offset: int = 0, **filters: Any) -> list[Batch]:
    stmt = batches_query(session, actor=actor, **filters)
    return list(session.scalars(stmt.limit(min(limit, MAX_LIST)).offset(offset)))


def chain(session: Session, batch: Batch) -> list[Batch]:
    """The batch and the batches it was repacked from, the producer's first (at most 10 deep)."""
    out = [batch]
    while out[-1].parent_id is not None and len(out) < 10:
        parent = session.get(Batch, out[-1].parent_id)
        if parent is None:
            break
        out.append(parent)
    return list(reversed(out))


def children(session: Session, batch_id: int) -> list[Batch]:
    return list(session.scalars(select(Batch).where(Batch.parent_id == batch_id).order_by(Batch.id).limit(MAX_LIST)))


def left_of(session: Session, batch: Batch) -> float:
    """What of the batch is not yet repacked by a buyer."""
    used = session.scalar(select(func.coalesce(func.sum(Batch.quantity), 0.0)).where(Batch.parent_id == batch.id))
    return max(0.0, round(batch.quantity - float(used or 0.0), 6))


def certificate_required(batch: Batch) -> bool:
    cls = products.catalog().classes.get(batch.product_class)
    return bool(cls and cls.mandatory)


# ── tests (快检/检测) ──────────────────────────────────────────────────────────────────────────────────


def _writer_of(session: Session, actor: Actor, batch_id: int) -> Batch:
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    if not actor.can(AGRI_MANAGE) and batch.entity_id not in scope.entity_ids_of(session, actor):
        raise PermissionDenied(N_("You do not act for this producer or buyer"))
    return batch


def add_check(session: Session, *, actor: Actor, batch_id: int, body: CheckIn) -> BatchTest:
    batch = _writer_of(session, actor, batch_id)
    if body.tested_on > today():
        raise _field("tested_on", "Not valid", N_("The test date is in the future"))
    row = BatchTest(
        batch_id=batch.id, institution=body.institution, method=body.method, mode=body.mode, standard=body.standard,
        items=[i.model_dump() for i in body.items], result=body.result, report_no=body.report_no,
        tested_on=body.tested_on, created_at=utcnow(), created_by=actor.name,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="village.certs.test_add", target_type="village_batch", target_id=batch.id,
        detail={"test": row.id, "result": str(row.result), "report_no": row.report_no},
    )  # fmt: skip
    return row


def checks_of(session: Session, batch: Batch) -> list[BatchTest]:
    """Tests of the batch and of the batches it was repacked from, newest first."""
    ids = [b.id for b in chain(session, batch)]
    stmt = (
        select(BatchTest).where(BatchTest.batch_id.in_(ids)).order_by(BatchTest.tested_on.desc(), BatchTest.id.desc())
    )
    return list(session.scalars(stmt.limit(MAX_LIST)))


# ── certificates ─────────────────────────────────────────────────────────────────────────────────────


def current_certificate(session: Session, batch_id: int) -> Certificate | None:
    return session.scalar(
        select(Certificate)
        .where(Certificate.batch_id == batch_id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.id.desc())
    )


def certificates_of(session: Session, batch_ids: list[int]) -> list[Certificate]:
    stmt = select(Certificate).where(Certificate.batch_id.in_(batch_ids)).order_by(Certificate.id)
    return list(session.scalars(stmt.limit(MAX_LIST)))


def _next_number(session: Session, year: int) -> str:
    stem = f"{county_code(session)}{year}"
    last = session.scalar(select(func.max(Certificate.number)).where(Certificate.number.like(stem + "%")))
    seq = int(last[len(stem) :]) + 1 if last and last[len(stem) :].isdigit() else 1
    return f"{stem}{seq:06d}"


def _basis_test(session: Session, batch: Batch, body: CertificateIn) -> BatchTest | None:
    mode = MODE_OF_BASIS.get(body.basis)
    if mode is None:
        return None
    candidates = [t for t in checks_of(session, batch) if t.mode == mode]
    if body.test_id is not None:
        test = next((t for t in candidates if t.id == body.test_id), None)
        if test is None:
            raise _field("test_id", "Not valid", N_("No such test of this batch with that kind of testing"))
    elif candidates:
        test = candidates[0]
    else:
        raise _field(
            "basis", "Not valid", N_("A promise based on testing needs a test of the batch; record the test first")
        )
    if test.result != CheckResult.PASS:
        raise Conflict(N_("Test %(report)s failed: it cannot be the basis of a certificate"), report=test.report_no)
    return test


def _issue(
    session: Session, *, actor: Actor, batch: Batch, issuer: Entity, basis: CertBasis, test: BatchTest | None,
    parent: Certificate | None,
) -> Certificate:  # fmt: skip
    if current_certificate(session, batch.id) is not None:
        raise Conflict(N_("This batch already has a certificate; revoke it first to issue another"))
    now = utcnow()
    product = products.catalog().products.get(batch.product_code)
    origin = issuer.village_name or issuer.address or ""
    if batch.base_id is not None:
        base = session.get(ProductionBase, batch.base_id)
        origin = (base.village_name if base else None) or origin
    if parent is not None:
        origin = parent.origin  # 产地 stays the producer's
    cert = Certificate(
        number=_next_number(session, today().year), batch_id=batch.id, issuer_id=issuer.id,
        parent_id=parent.id if parent else None, product_code=batch.product_code,
        product_name=(product.zh if product else batch.product_code)[:60], product_class=batch.product_class,
        quantity=batch.quantity, unit=batch.unit, producer_name=issuer.name, origin=origin[:200],
        contact_enc=issuer.phone_enc, contact_masked=issuer.phone_masked, promise=rules().promise, basis=basis,
        test_id=test.id if test else None, report_no=test.report_no if test else None, issued_on=today(),
        issued_at=now, issued_by=actor.name,
    )  # fmt: skip
    session.add(cert)
    session.flush()
    return cert


def issue_certificate(session: Session, *, actor: Actor, batch_id: int, body: CertificateIn) -> Certificate:
    batch = _writer_of(session, actor, batch_id)
    issuer = session.get(Entity, batch.entity_id)
    assert issuer is not None
    parent = None
    if batch.parent_id is not None:
        parent = current_certificate(session, batch.parent_id)
    test = _basis_test(session, batch, body)
    cert = _issue(session, actor=actor, batch=batch, issuer=issuer, basis=body.basis, test=test, parent=parent)
    audit.record(
        session, actor=actor, action="village.certs.certificate_issue", target_type="village_certificate",
        target_id=cert.number, detail={"batch": batch.id, "basis": str(cert.basis), "report_no": cert.report_no},
    )  # fmt: skip
    return cert


def get_certificate(session: Session, *, actor: Actor, certificate_id: int) -> Certificate:
    cert = session.get(Certificate, certificate_id)
    if cert is None:
        raise NotFound(N_("No such certificate"))
    if not scope.sees_all(actor):
        mine = set(scope.entity_ids_of(session, actor))
        batch = session.get(Batch, cert.batch_id)
        if cert.issuer_id not in mine and (batch is None or batch.entity_id not in mine):
            raise NotFound(N_("No such certificate"))
    return cert


def revoke_certificate(session: Session, *, actor: Actor, certificate_id: int, reason: str) -> Certificate:
    """作废: the trace page shows it revoked with the reason; the batch may then get a new one."""
    cert = get_certificate(session, actor=actor, certificate_id=certificate_id)
    if not actor.can(AGRI_MANAGE) and cert.issuer_id not in scope.entity_ids_of(session, actor):
        raise PermissionDenied(N_("Only the issuer or the agriculture bureau may revoke a certificate"))
    if cert.revoked_at is not None:
        raise Conflict(N_("The certificate is already revoked"))
    cert.revoked_at, cert.revoked_reason, cert.revoked_by = utcnow(), reason.strip()[:300], actor.name
    session.flush()
    audit.record(
        session, actor=actor, action="village.certs.certificate_revoke", target_type="village_certificate",
        target_id=cert.number, detail={"reason": cert.revoked_reason},
    )  # fmt: skip
    return cert


def repack(session: Session, *, actor: Actor, batch_id: int, body: RepackIn) -> tuple[Batch, Certificate]:
    """A buyer repacks part of a batch that has a current certificate: a child batch of at most what is
    left and the buyer's certificate pointing to the original (its promise basis carried over)."""
    if not (actor.can(BUY) or actor.can(PRODUCE) or actor.can(AGRI_MANAGE)):
        raise PermissionDenied(N_("You do not act for this producer or buyer"))
    source = session.get(Batch, batch_id)
    if source is None:
        raise NotFound(N_("No such batch"))
    original = current_certificate(session, source.id)
    if original is None:
        raise Conflict(N_("The batch has no valid certificate to re-issue"))
    buyer = _acting_entity(session, actor, body.entity_id)
    if buyer.id == source.entity_id:
        raise _field("entity_id", "Not valid", N_("A batch is repacked by another entity than its holder"))
    left = left_of(session, source)
    if body.quantity > left + 1e-9:
        raise _field(
            "quantity", "Not valid", N_("At most %(left)s %(unit)s of this batch are left to repack"),
            left=f"{left:g}", unit=products.unit_label(source.unit),
        )  # fmt: skip
    child = _new_batch(
        session, actor=actor, entity=buyer, product_code=source.product_code, product_class=source.product_class,
        quantity=float(body.quantity), unit=source.unit, day=source.harvest_date, batch_no=body.batch_no,
        base_id=None, parent_id=source.id,
    )  # fmt: skip
    test = session.get(BatchTest, original.test_id) if original.test_id else None
    cert = _issue(session, actor=actor, batch=child, issuer=buyer, basis=original.basis, test=test, parent=original)
    audit.record(
        session, actor=actor, action="village.certs.repack", target_type="village_batch", target_id=child.id,
        detail={"from_batch": source.id, "quantity": child.quantity, "certificate": cert.number,
                "original": original.number},
    )  # fmt: skip
    return child, cert


# ── the register ─────────────────────────────────────────────────────────────────────────────────────


def certificates_query(
    session: Session, *, actor: Actor, product_class: str | None = None, date_from: date | None = None,
    date_to: date | None = None,
) -> Select[Any]:  # fmt: skip
    stmt = select(Certificate)
    if not scope.sees_all(actor):
        stmt = stmt.where(Certificate.issuer_id.in_(scope.entity_ids_of(session, actor) or [-1]))
    if product_class:
        stmt = stmt.where(Certificate.product_class == product_class)
    if date_from:
        stmt = stmt.where(Certificate.issued_on >= date_from)
    if date_to:
        stmt = stmt.where(Certificate.issued_on <= date_to)
    return stmt.order_by(Certificate.issued_on.desc(), Certificate.id.desc())


def counts_by_class_month(session: Session, *, actor: Actor, year: int) -> dict[tuple[str, int], int]:
    """Certificates issued (revoked ones left out) by product class and month of a year."""
    stmt = certificates_query(session, actor=actor, date_from=date(year, 1, 1), date_to=date(year, 12, 31))
    out: dict[tuple[str, int], int] = {}
    for cert in session.scalars(stmt.where(Certificate.revoked_at.is_(None))):
        key = (cert.product_class, cert.issued_on.month)
        out[key] = out.get(key, 0) + 1
    return out


def missing_certificates(session: Session, *, actor: Actor, limit: int = 100) -> list[Batch]:
    """Batches of a mandatory class without a current certificate (newest first)."""
    mandatory = [c.code for c in products.catalog().classes.values() if c.mandatory]
    has = select(Certificate.batch_id).where(Certificate.revoked_at.is_(None))
    stmt = batches_query(session, actor=actor).where(Batch.product_class.in_(mandatory), Batch.id.not_in(has))
    return list(session.scalars(stmt.limit(min(limit, MAX_LIST))))


entity_names = scope.entity_names


def base_names(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(ProductionBase.id, ProductionBase.name).where(ProductionBase.id.in_(set(ids))))
    return dict(rows.all())


def issued_at_local(cert: Certificate) -> datetime:
    return cert.issued_at.astimezone(county_zone())
