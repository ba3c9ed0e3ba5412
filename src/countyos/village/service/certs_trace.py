"""The public trace of a batch (``/t/{code}`` and its JSON twin): what a buyer or an eater may know of a
batch and nothing personal — product, batch, harvest date, the producer by name (a 农户's or 种养大户's
personal name masked: 叶**), kind and village, the 基地 with its area and outline, a summary of the 农事
(kinds, inputs and dates; never who recorded), the tests, the certificates with the repack chain and the
flow to buyers. Never ID numbers, phones, legal persons or member people.

Each view counts, per batch and day (``village_batch_view``; never who looked) and in the batch's total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from countyos.core.clock import county_zone
from countyos.core.i18n import N_, gettext
from countyos.village.models.certs import Batch, BatchView, CertBasis, CheckMethod, CheckMode, CheckResult
from countyos.village.models.farming import FarmRecord
from countyos.village.models.producers import Entity, EntityKind, ProductionBase
from countyos.village.schemas.certs import (
    CheckItem,
    TraceBase,
    TraceCertificate,
    TraceCheck,
    TraceFlow,
    TraceOut,
    TraceRecord,
    TraceStep,
)
from countyos.village.service import certs, flows, products
from countyos.village.service import certs_codes as codes
from countyos.village.service.farming_records import RECORD_KIND_LABELS
from countyos.village.service.producers import FACILITY_NAMES, KIND_NAMES

PERSON_KINDS = frozenset({EntityKind.FARMER, EntityKind.LARGE_GROWER})  # their name is a person's name
RECORD_DAYS = 400  # the 农事 shown: this many days before the harvest
MAX_RECORDS = 60
SQM_PER_MU = 10_000 / 15

METHOD_LABELS = {CheckMethod.RAPID: N_("Rapid test"), CheckMethod.QUANTITATIVE: N_("Quantitative test")}
MODE_LABELS = {CheckMode.SELF: N_("Self-tested"), CheckMode.ENTRUSTED: N_("Entrusted test")}
RESULT_LABELS = {CheckResult.PASS: N_("Passed"), CheckResult.FAIL: N_("Failed")}
BASIS_LABELS = {
    CertBasis.CONTROL: N_("Quality and safety control"),
    CertBasis.SELF_TEST: N_("Self-tested"),
    CertBasis.ENTRUSTED_TEST: N_("Entrusted test"),
}
KIND_LABELS = KIND_NAMES
FACILITY_LABELS = FACILITY_NAMES


def mask_person(name: str) -> str:
    """叶建国 → 叶**: the family name only; a note in brackets after the name stays (叶**（大田村农户）)."""
    name = name.strip()
    cut = min((i for i in (name.find("（"), name.find("(")) if i > 0), default=len(name))
    person, rest = name[:cut], name[cut:]
    return (person[:1] + "*" * max(1, len(person) - 1) + rest) if person else name


def public_name(entity: Entity) -> str:
    return mask_person(entity.name) if entity.kind in PERSON_KINDS else entity.name


def _kind_label(kind: str) -> str:
    try:
        return gettext(KIND_LABELS[EntityKind(kind)])
    except (ValueError, KeyError):
        return ""


def find(session: Session, raw: str) -> Batch | None:
    """The batch of a typed or scanned code: the URL form, the human form with parentheses, any case."""
    code = codes.normalise(raw)
    if code is None:
        return None
    batch = session.scalar(select(Batch).where(Batch.trace_code == code))
    if batch is None and code.upper() != code:
        batch = session.scalar(select(Batch).where(Batch.trace_code == code.upper()))
    return batch


def count_view(session: Session, *, batch: Batch, day: date | None = None) -> None:
    """One more view of the batch's trace today (and in its total). Not audited: nothing of who looked."""
    day = day or certs.today()
    values = {"batch_id": batch.id, "day": day, "views": 1}
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        ins = (sqlite_insert if dialect == "sqlite" else pg_insert)(BatchView).values(**values)
        session.execute(
            ins.on_conflict_do_update(index_elements=["batch_id", "day"], set_={"views": BatchView.views + 1})
        )
    else:  # pragma: no cover - the two backends above are the supported ones
        row = session.scalar(select(BatchView).where(BatchView.batch_id == batch.id, BatchView.day == day))
        if row is None:
            session.add(BatchView(**values))
        else:
            row.views += 1
    session.execute(update(Batch).where(Batch.id == batch.id).values(trace_views=Batch.trace_views + 1))
    session.flush()


def views_by_day(session: Session, *, batch_id: int, days: int = 30) -> list[tuple[date, int]]:
    since = certs.today() - timedelta(days=days - 1)
    rows = session.execute(
        select(BatchView.day, BatchView.views)
        .where(BatchView.batch_id == batch_id, BatchView.day >= since)
        .order_by(BatchView.day)
    )
    return [(d, int(v)) for d, v in rows]


def views_total_by_day(session: Session, *, since: date) -> list[tuple[date, int]]:
    """Trace views of every batch per day (the bureau's trend)."""
    rows = session.execute(
        select(BatchView.day, func.sum(BatchView.views)).where(BatchView.day >= since).group_by(BatchView.day)
    )
    return sorted((d, int(v or 0)) for d, v in rows)


def _step(session: Session, batch: Batch) -> TraceStep:
    entity = session.get(Entity, batch.entity_id)
    assert entity is not None
    return TraceStep(
        batch_no=batch.batch_no,
        trace_code=batch.trace_code,
        holder_name=public_name(entity),
        holder_kind=str(entity.kind),
        holder_kind_label=gettext(KIND_LABELS.get(entity.kind, entity.kind)),
        village=entity.village_name,
        quantity=batch.quantity,
        unit_label=products.unit_label(batch.unit),
        date=batch.harvest_date if batch.parent_id is None else batch.created_at.astimezone(county_zone()).date(),
    )


def _records(session: Session, base_id: int, product_code: str, harvest: date) -> list[TraceRecord]:
    rows = session.scalars(
        select(FarmRecord)
        .where(
            FarmRecord.base_id == base_id,
            FarmRecord.voided.is_(False),
            FarmRecord.used_on <= harvest,
            FarmRecord.used_on > harvest - timedelta(days=RECORD_DAYS),
            (FarmRecord.product_code == product_code) | FarmRecord.product_code.is_(None),
        )
        .order_by(FarmRecord.used_on.desc(), FarmRecord.id.desc())
        .limit(MAX_RECORDS)
    )
    return [
        TraceRecord(
            kind=str(r.kind),
            kind_label=gettext(RECORD_KIND_LABELS.get(r.kind, r.kind)),
            used_on=r.used_on,
            input_name=r.input_name,
            registration_no=r.registration_no,
            interval_days=r.interval_days,
        )
        for r in rows
    ]


def trace(session: Session, batch: Batch) -> TraceOut:
    """The public content of the batch's trace (call ``count_view`` for a view)."""
    line = certs.chain(session, batch)
    root = line[0]
    steps = [_step(session, b) for b in line]
    base = session.get(ProductionBase, root.base_id) if root.base_id else None
    tests = certs.checks_of(session, batch)
    cert_rows = certs.certificates_of(session, [b.id for b in line])
    numbers = {c.id: c.number for c in cert_rows}
    issuers = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_({c.issuer_id for c in cert_rows})))}
    today_views = session.scalar(
        select(BatchView.views).where(BatchView.batch_id == batch.id, BatchView.day == certs.today())
    )
    product = products.catalog().products.get(batch.product_code)
    cls = products.catalog().classes.get(batch.product_class)
    return TraceOut(
        code=batch.trace_code,
        code_human=codes.human(batch.trace_code),
        product_name=product.label() if product else batch.product_code,
        class_label=cls.label() if cls else batch.product_class,
        batch_no=batch.batch_no,
        harvest_date=root.harvest_date,
        quantity=batch.quantity,
        unit_label=products.unit_label(batch.unit),
        producer=steps[0],
        chain=steps,
        base=TraceBase(
            name=base.name,
            village=base.village_name,
            facility_label=gettext(FACILITY_LABELS.get(base.facility, "")),
            area_m2=round(base.area_m2, 1),
            area_mu=round(base.area_m2 / SQM_PER_MU, 2),
        )
        if base
        else None,
        records=_records(session, base.id, root.product_code, root.harvest_date) if base else [],
        checks=[
            TraceCheck(
                institution=t.institution,
                method_label=gettext(METHOD_LABELS[t.method]),
                mode_label=gettext(MODE_LABELS[t.mode]),
                standard=t.standard,
                items=[CheckItem.model_validate(i) for i in t.items or []],
                result=t.result,
                result_label=gettext(RESULT_LABELS[t.result]),
                report_no=t.report_no,
                tested_on=t.tested_on,
            )
            for t in tests
        ],
        certificates=[
            TraceCertificate(
                number=c.number,
                issuer_name=public_name(issuers[c.issuer_id]) if c.issuer_id in issuers else "",
                issued_on=c.issued_on,
                basis_label=gettext(BASIS_LABELS[c.basis]),
                report_no=c.report_no,
                promise=c.promise,
                revoked=c.revoked_at is not None,
                revoked_reason=c.revoked_reason,
                repack_of=numbers.get(c.parent_id) if c.parent_id else None,
            )
            for c in cert_rows
        ],
        flows=[
            TraceFlow(
                buyer_name=f.buyer_name,
                buyer_kind_label=_kind_label(f.buyer_kind),
                delivered_on=f.delivered_on,
                quantity=f.quantity,
                unit_label=products.unit_label(f.unit),
                checked=f.checked,
            )
            for b in line
            for f in flows.batch_flows(session, batch_id=b.id)
        ],
        views=batch.trace_views,
        views_today=int(today_views or 0),
    )


@dataclass(frozen=True)
class Outline:
    """The 基地's polygon as an SVG path in a WIDTH × HEIGHT frame (equirectangular, cos of the latitude)."""

    d: str
    width: int
    height: int
    lon: float
    lat: float


def outline(session: Session, batch: Batch) -> Outline | None:
    root = certs.chain(session, batch)[0]
    base = session.get(ProductionBase, root.base_id) if root.base_id else None
    if base is None or base.geom is None:
        return None
    return outline_of(base.geom)


def outline_of(geom: BaseGeometry, width: int = 320, height: int = 200, pad: int = 16) -> Outline | None:
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    k = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    ox = (width - span_x * scale) / 2
    oy = (height - span_y * scale) / 2
    parts: list[str] = []
    for poly in getattr(geom, "geoms", [geom]):
        rings = [poly.exterior, *poly.interiors] if hasattr(poly, "exterior") else []
        for ring in rings:
            pts = [f"{ox + (x - x0) * k * scale:.1f},{oy + (y1 - y) * scale:.1f}" for x, y in list(ring.coords)[:2000]]
            if pts:
                parts.append("M" + "L".join(pts) + "Z")
    c = geom.representative_point()
    return Outline("".join(parts), width, height, round(c.x, 5), round(c.y, 5))
