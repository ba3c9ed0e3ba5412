"""农事 records: what a producer did on a 基地 and when — sowing, fertiliser, pesticide, veterinary drug, feed,
harvest, other. A harvest is refused inside an input's 安全间隔期/休药期 (``service/farming.py``).

Records are kept at least two years and never deleted: a wrong record is voided with a reason (kept,
shown struck through, audited); a voided record no longer counts for the interval rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from countyos.cases.service import attachments
from countyos.core.actor import Actor
from countyos.core.clock import county_today, utcnow
from countyos.core.errors import Conflict, CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import count
from countyos.org.service import audit, users
from countyos.village.models.farming import INPUT_OF_RECORD, FarmInput, FarmRecord, RecordKind
from countyos.village.models.producers import Entity, ProductionBase
from countyos.village.schemas.farming import RecordIn
from countyos.village.service import farming, farming_inputs, products, scope

MAX_PAGE = 200
MAX_RANGE_DAYS = 731  # two years per query
KEEP_YEARS = 2
MAX_PHOTO_BYTES = 10_000_000

RECORD_KIND_LABELS: dict[RecordKind, str] = {
    RecordKind.SOWING: N_("Sowing or planting"),
    RecordKind.FERTILISER: N_("Fertiliser"),
    RecordKind.PESTICIDE: N_("Pesticide"),
    RecordKind.VET_DRUG: N_("Veterinary drug"),
    RecordKind.FEED: N_("Feed"),
    RecordKind.HARVEST: N_("Harvest"),
    RecordKind.OTHER: N_("Other"),
}
NEEDS_INPUT = frozenset({RecordKind.PESTICIDE, RecordKind.VET_DRUG})


today = county_today


class FieldRefused(ValidationFailed):
    """A refused field of a record: its message, in the reader's language, beside the field (422)."""

    def __init__(self, message: str, /, *, field: str, **params: object) -> None:
        CountyError.__init__(self, message, **params)
        self.field = field

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [{"field": self.field, "message": self.message}]

    @errors.setter
    def errors(self, value: list[dict[str, Any]]) -> None:
        """Kept from the message (read at render time, in the reader's language)."""


def _invalid(field: str, message: str, **params: object) -> ValidationFailed:
    return FieldRefused(message, field=field, **params)


def base_for(session: Session, actor: Actor, base_id: int, *, write: bool = False) -> ProductionBase:
    """The base if this person may see it (``write``: act for its entity); NotFound otherwise."""
    base = session.get(ProductionBase, base_id)
    if base is None:
        raise NotFound(N_("No such base"))
    try:
        scope.entity_for(session, actor, base.entity_id, write=write)
    except NotFound:
        raise NotFound(N_("No such base")) from None
    return base


def bases_of(session: Session, actor: Actor) -> list[ProductionBase]:
    """The active bases of the entities this person acts for (the record page's big buttons)."""
    ids = scope.entity_ids_of(session, actor)
    if not ids:
        return []
    stmt = select(ProductionBase).where(ProductionBase.entity_id.in_(ids), ProductionBase.active.is_(True))
    return list(session.scalars(stmt.order_by(ProductionBase.name).limit(MAX_PAGE)))


def _interval_of(inp: FarmInput, kind: RecordKind, product_code: str | None, base: ProductionBase) -> int | None:
    """The interval that applies to this use (a snapshot kept with the record); refuses an input not registered
    for the product, or a pesticide on livestock / a veterinary drug on a crop."""
    if kind not in NEEDS_INPUT:
        return None
    wanted = "crop" if kind == RecordKind.PESTICIDE else "animal"
    codes = [product_code] if product_code else list(base.product_codes or [])
    days: list[int] = []
    for code in codes:
        p = products.catalog().products.get(code)
        if p is None or ("crop" if p.kind == "crop" else "animal") != wanted:
            continue
        n = farming_inputs.interval_for(inp, code)
        if n is not None:
            days.append(n)
    if not days:
        raise _invalid("input_id", N_("%(input)s is not registered for this product; see its label"), input=inp.name)
    return max(days)


def create_record(
    session: Session, *, actor: Actor, body: RecordIn, photo: tuple[bytes, str | None] | None = None
) -> FarmRecord:
    """Keep a 农事 record (the input's name, registration number and interval copied in). A harvest inside an
    interval raises :class:`farming.InsideSafetyInterval` (409) and writes nothing."""
    base = base_for(session, actor, body.base_id, write=True)
    now = today()
    if body.used_on > now:
        raise _invalid("used_on", N_("The date cannot be in the future"))
    if body.used_on < now - timedelta(days=365 * KEEP_YEARS):
        raise _invalid("used_on", N_("The date is more than two years ago"))
    product_code = body.product_code
    if product_code:
        products.product(product_code)
        if base.product_codes and product_code not in base.product_codes:
            label = products.product_label(product_code)
            raise _invalid("product_code", N_("This base does not grow or raise %(product)s"), product=label)
    inp: FarmInput | None = None
    if body.input_id is not None:
        if body.kind not in INPUT_OF_RECORD:
            raise _invalid("input_id", N_("This kind of record takes no input"))
        inp = session.get(FarmInput, body.input_id)
        if inp is None or inp.kind != INPUT_OF_RECORD[body.kind]:
            raise _invalid("input_id", N_("Choose an input of this kind from the list"))
        if not inp.active:
            raise _invalid("input_id", N_("%(input)s is retired from the county's list"), input=inp.name)
    elif body.kind in NEEDS_INPUT:
        raise _invalid("input_id", N_("Choose the input used"))
    interval = _interval_of(inp, body.kind, product_code, base) if inp is not None else None
    unit = body.unit
    if body.kind == RecordKind.HARVEST:
        assert product_code is not None  # the model requires it
        farming.refuse_inside_interval(session, base_id=base.id, product_code=product_code, on=body.used_on)
        unit = unit or products.product(product_code).unit
        if unit not in products.catalog().units:
            raise _invalid("unit", N_("Unknown unit"))
    photo_id = None
    if photo is not None:
        if attachments.sniff(photo[0]) not in attachments.EVIDENCE_TYPES:
            raise _invalid("photo", N_("Only photos (JPEG, PNG, WebP) can be kept with a record"))
        att = attachments.store(session, actor=actor, data=photo[0], name=photo[1], audited=False)
        photo_id = att.id
    rec = FarmRecord(
        entity_id=base.entity_id, base_id=base.id, kind=body.kind, product_code=product_code,
        input_id=inp.id if inp else None, input_name=inp.name if inp else None,
        registration_no=inp.registration_no if inp else None, interval_days=interval, dose=body.dose,
        dose_unit=body.dose_unit or (inp.dose_unit if inp else None), area_mu=body.area_mu,
        head_count=body.head_count, quantity=body.quantity if body.kind == RecordKind.HARVEST else None,
        unit=unit if body.kind == RecordKind.HARVEST else None, used_on=body.used_on, note=body.note,
        photo_id=photo_id, recorded_by_id=actor.id, created_by=actor.name,
    )  # fmt: skip
    session.add(rec)
    session.flush()
    audit.record(session, actor=actor, action="village.farming.record", target_type="village_record",
                 target_id=rec.id, detail={"kind": str(rec.kind), "base_id": base.id, "product": product_code,
                                           "input": rec.input_name, "used_on": rec.used_on.isoformat(),
                                           "photo": photo_id})  # fmt: skip
    return rec


def get_record(session: Session, *, actor: Actor, record_id: int) -> FarmRecord:
    rec = session.get(FarmRecord, record_id)
    if rec is None:
        raise NotFound(N_("No such record"))
    try:
        scope.entity_for(session, actor, rec.entity_id)
    except NotFound:
        raise NotFound(N_("No such record")) from None
    return rec


def photo_of(session: Session, *, actor: Actor, record_id: int) -> tuple[Path, str]:
    """The record's photo (private: only those who see the record) and its media type."""
    rec = get_record(session, actor=actor, record_id=record_id)
    if rec.photo_id is None:
        raise NotFound(N_("This record has no photo"))
    att = attachments.get(session, attachment_id=rec.photo_id)
    return attachments.path_for(att.sha256), att.media_type


def void_record(session: Session, *, actor: Actor, record_id: int, reason: str) -> FarmRecord:
    """Void a wrong record (kept, shown struck through); it no longer counts for the interval rule."""
    rec = get_record(session, actor=actor, record_id=record_id)
    scope.entity_for(session, actor, rec.entity_id, write=True)
    if rec.voided:
        raise Conflict(N_("This record is already voided"))
    rec.voided, rec.void_reason, rec.voided_at, rec.voided_by = True, reason.strip(), utcnow(), actor.name
    session.flush()
    audit.record(session, actor=actor, action="village.farming.void", target_type="village_record",
                 target_id=rec.id, detail={"reason": rec.void_reason})  # fmt: skip
    return rec


@dataclass(frozen=True)
class RecordFilter:
    entity_id: int | None = None
    base_id: int | None = None
    kind: RecordKind | None = None
    date_from: date | None = None
    date_to: date | None = None


def _range(f: RecordFilter) -> tuple[date, date]:
    end = f.date_to or today()
    start = f.date_from or end - timedelta(days=365)
    if start > end:
        raise _invalid("from", N_("The start is after the end"))
    if (end - start).days > MAX_RANGE_DAYS:
        raise _invalid("from", N_("At most two years per query"))
    return start, end


def query(session: Session, *, actor: Actor, f: RecordFilter) -> Select[Any]:
    """The records this person may see matching the filter, newest first (dates bounded to two years)."""
    start, end = _range(f)
    stmt = select(FarmRecord).where(FarmRecord.used_on >= start, FarmRecord.used_on <= end)
    if not scope.sees_all(actor):
        stmt = stmt.where(FarmRecord.entity_id.in_(scope.entity_ids_of(session, actor)))
    if f.entity_id is not None:
        stmt = stmt.where(FarmRecord.entity_id == f.entity_id)
    if f.base_id is not None:
        stmt = stmt.where(FarmRecord.base_id == f.base_id)
    if f.kind is not None:
        stmt = stmt.where(FarmRecord.kind == f.kind)
    return stmt.order_by(FarmRecord.used_on.desc(), FarmRecord.id.desc())


def list_records(
    session: Session, *, actor: Actor, f: RecordFilter, limit: int = 50, offset: int = 0
) -> tuple[list[FarmRecord], int]:
    stmt = query(session, actor=actor, f=f)
    total = count(session, stmt)
    rows = list(session.scalars(stmt.limit(min(limit, MAX_PAGE)).offset(offset)))
    return rows, total


def last_input(session: Session, *, base_id: int, kind: RecordKind) -> FarmRecord | None:
    """The base's last record of this kind with an input (to prefill the form)."""
    stmt = (
        select(FarmRecord)
        .where(FarmRecord.base_id == base_id, FarmRecord.kind == kind, FarmRecord.input_id.is_not(None))
        .where(FarmRecord.voided.is_(False))
        .order_by(FarmRecord.used_on.desc(), FarmRecord.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


@dataclass(frozen=True)
class Names:
    entities: dict[int, str]
    bases: dict[int, str]
    people: dict[int, str]


def names(session: Session, rows: list[FarmRecord]) -> Names:
    """Entity, base and recorder names of these records."""
    ent_ids = sorted({r.entity_id for r in rows})
    base_ids = sorted({r.base_id for r in rows})
    ents: dict[int, str] = {}
    bases: dict[int, str] = {}
    if ent_ids:
        ents = {i: n for i, n in session.execute(select(Entity.id, Entity.name).where(Entity.id.in_(ent_ids)))}
    if base_ids:
        stmt = select(ProductionBase.id, ProductionBase.name).where(ProductionBase.id.in_(base_ids))
        bases = {i: n for i, n in session.execute(stmt)}
    people = {
        k: v.display_name for k, v in users.colleagues(session, user_ids=[r.recorded_by_id for r in rows]).items()
    }
    return Names(ents, bases, people)


def allowed_from(rec: FarmRecord) -> date | None:
    if rec.interval_days is None or rec.kind not in NEEDS_INPUT:
        return None
    return rec.used_on + timedelta(days=rec.interval_days)
