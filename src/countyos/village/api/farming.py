"""API of the farming part of the village domain under /api/v1/village.

农事 records: a producer lists and writes the records of the 经营主体 it acts for; the bureau
(``village.agri.read``) lists all. A harvest inside an input's 安全间隔期/休药期 is refused (409
``inside_safety_interval`` naming the input, its date and the days remaining). Records are never deleted:
``POST /records/{id}/void`` with a reason. ``GET /bases/{id}/interval`` answers whether a harvest is allowed.
Routes other than the bureau's need only a signed-in caller: ``service/scope.py`` decides (someone acting
for no producer sees no record and finds no base). The inputs list is read by anyone signed in; the bureau
(``village.agri.manage``) adds and changes inputs. Errors are problem+json.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.i18n import gettext
from countyos.core.paging import Paged
from countyos.village.models.farming import FarmInput, FarmRecord, InputKind, RecordKind
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.farming import (
    BlockOut,
    InputChangeIn,
    InputIn,
    InputOut,
    IntervalOut,
    RecordIn,
    RecordOut,
    VoidIn,
)
from countyos.village.service import farming, products
from countyos.village.service import farming_inputs as inputs
from countyos.village.service import farming_records as records
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter()
Keeper = Annotated[Auth, Depends(require(AGRI_MANAGE))]
Someone = Annotated[Auth, Depends(authenticated)]


def farm_actor(a: Auth, *, write: bool = False) -> Actor:
    """The caller; what they see and write is decided by ``service/scope.py`` (a producer its own entities, the
    bureau all): someone acting for no entity sees no record and finds no base (404), never a 403 by role."""
    return a.actor


def input_out(i: FarmInput) -> InputOut:
    return InputOut(
        id=i.id, code=i.code, kind=i.kind, kind_label=gettext(inputs.INPUT_KIND_LABELS[i.kind]), name=i.name,
        registration_no=i.registration_no, active_ingredient=i.active_ingredient, formulation=i.formulation,
        organic_allowed=i.organic_allowed, intervals=dict(i.intervals or {}), dose_unit=i.dose_unit, note=i.note,
        active=i.active, version=i.version,
    )  # fmt: skip


def records_out(session: Session, rows: list[FarmRecord]) -> list[RecordOut]:
    n = records.names(session, rows)
    return [
        RecordOut(
            id=r.id,
            entity_id=r.entity_id,
            entity_name=n.entities.get(r.entity_id, ""),
            base_id=r.base_id,
            base_name=n.bases.get(r.base_id, ""),
            kind=r.kind,
            kind_label=gettext(records.RECORD_KIND_LABELS[r.kind]),
            product_code=r.product_code,
            product_label=products.product_label(r.product_code) if r.product_code else None,
            input_id=r.input_id,
            input_name=r.input_name,
            registration_no=r.registration_no,
            interval_days=r.interval_days,
            allowed_from=records.allowed_from(r),
            dose=r.dose,
            dose_unit=r.dose_unit,
            area_mu=r.area_mu,
            head_count=r.head_count,
            quantity=r.quantity,
            unit=r.unit,
            used_on=r.used_on,
            note=r.note,
            has_photo=r.photo_id is not None,
            voided=r.voided,
            void_reason=r.void_reason,
            voided_at=r.voided_at,
            recorded_by=n.people.get(r.recorded_by_id or 0, r.created_by),
            created_at=r.created_at,
            url=f"/village/records/{r.id}",
        )
        for r in rows
    ]


def interval_out(session: Session, *, base_id: int, product_code: str, on: date) -> IntervalOut:
    block = farming.interval_block(session, base_id=base_id, product_code=product_code, on=on)
    return IntervalOut(
        base_id=base_id, product_code=product_code, on=on, allowed=block is None,
        block=None if block is None else BlockOut(
            record_id=block.record_id, input=block.input_name, registration_no=block.registration_no,
            used_on=block.used_on, interval_days=block.interval_days, allowed_from=block.allowed_from,
            days_remaining=block.days_remaining(on),
        ),
    )  # fmt: skip


# --- records -------------------------------------------------------------------------------------


@router.get("/records")
def list_records(
    session: ReadSession,
    a: Someone,
    entity: Annotated[int | None, Query(ge=1)] = None,
    base: Annotated[int | None, Query(ge=1)] = None,
    kind: RecordKind | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=records.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Paged[RecordOut]:
    """农事 records, newest first: a producer's own, the bureau's all; ``from``/``to`` at most two years apart
    (default the last year)."""
    actor = farm_actor(a)
    f = records.RecordFilter(entity_id=entity, base_id=base, kind=kind, date_from=date_from, date_to=date_to)
    rows, total = records.list_records(session, actor=actor, f=f, limit=limit, offset=offset)
    return Paged(items=records_out(session, rows), total=total, limit=limit, offset=offset)


@router.post("/records", status_code=201)
def create_record(body: RecordIn, session: WriteSession, a: Someone) -> RecordOut:
    """Keep a record; a harvest inside an interval is refused with 409 ``inside_safety_interval``."""
    rec = records.create_record(session, actor=farm_actor(a, write=True), body=body)
    return records_out(session, [rec])[0]


@router.get("/records/{record_id}")
def get_record(record_id: int, session: ReadSession, a: Someone) -> RecordOut:
    return records_out(session, [records.get_record(session, actor=farm_actor(a), record_id=record_id)])[0]


@router.post("/records/{record_id}/void")
def void_record(record_id: int, body: VoidIn, session: WriteSession, a: Someone) -> RecordOut:
    """Void a wrong record with a reason (it is kept and no longer counts for the intervals)."""
    rec = records.void_record(session, actor=farm_actor(a, write=True), record_id=record_id, reason=body.reason)
    return records_out(session, [rec])[0]


@router.get("/bases/{base_id}/interval")
def base_interval(
    base_id: int,
    session: ReadSession,
    a: Someone,
    product: Annotated[str, Query(min_length=1, max_length=40)],
    on: date | None = None,
) -> IntervalOut:
    """Whether a harvest of ``product`` from this base on ``on`` (default today) is allowed, and if not, why."""
    base = records.base_for(session, farm_actor(a), base_id)
    products.product(product)
    return interval_out(session, base_id=base.id, product_code=product, on=on or records.today())


# --- inputs --------------------------------------------------------------------------------------


@router.get("/inputs")
def list_inputs(
    session: ReadSession, a: Someone, kind: InputKind | None = None, active: bool = False
) -> list[InputOut]:
    """The county's inputs (``active``: only those not retired)."""
    farm_actor(a)
    return [input_out(i) for i in inputs.list_inputs(session, kind=kind, active_only=active)]


@router.post("/inputs", status_code=201)
def create_input(body: InputIn, session: WriteSession, a: Keeper) -> InputOut:
    return input_out(inputs.create_input(session, actor=a.actor, body=body))


@router.patch("/inputs/{input_id}")
def change_input(input_id: int, body: InputChangeIn, session: WriteSession, a: Keeper) -> InputOut:
    """Change an input's intervals, registration number or note, or retire it (``active``: false)."""
    return input_out(inputs.change_input(session, actor=a.actor, input_id=input_id, body=body))
