"""Pages of the farming part of the village domain (农事):

- ``/village/records/new``: on a phone, three taps — a base (big buttons of the producer's bases), a kind
  (big buttons), then a short form prefilled with today, the base's product and the last input used; a
  harvest shows each product's interval state before saving and is refused inside an interval (the message
  beside the date, what was typed kept). After a harvest the record page offers 开具合格证.
- ``/village/records``: the records (a producer's own; the bureau's all with entity/base/kind/date filters),
  exported as CSV or XLSX; ``/village/records/{id}``: one record with its photo and the void form.
- ``/village/inputs`` (``pages/farming_inputs.py``): the county's inputs and their intervals (bureau).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import FileResponse, Response

from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from countyos.org.service import audit
from countyos.village.api.farming import farm_actor, records_out
from countyos.village.models.farming import INPUT_OF_RECORD, RecordKind
from countyos.village.models.producers import PRODUCER_KINDS, Entity, ProductionBase
from countyos.village.pages import farming_inputs as inputs_pages
from countyos.village.permissions import AGRI_MANAGE, AGRI_READ, PRODUCE
from countyos.village.schemas.farming import RecordIn, VoidIn
from countyos.village.service import farming, products, scope
from countyos.village.service import farming_inputs as inputs
from countyos.village.service import farming_records as records
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

AGRI = N_("Agriculture")
router = APIRouter(include_in_schema=False)
router.include_router(inputs_pages.router)
NAV: list[NavItem] = [
    NavItem(AGRI, N_("Record farm work"), "/village/records/new", PRODUCE, order=620),
    NavItem(AGRI, N_("Farm records"), "/village/records", PRODUCE, order=621),
    NavItem(AGRI, N_("Farm records"), "/village/records", AGRI_READ, order=621),
    *inputs_pages.NAV,
]
Someone = Annotated[Auth, Depends(authenticated)]
Short = Annotated[str, Query(max_length=40)]
FIELDS = (
    "product_code",
    "input_id",
    "dose",
    "dose_unit",
    "area_mu",
    "head_count",
    "quantity",
    "unit",
    "used_on",
    "note",
)
MAX_EXPORT = 20_000
KIND_ICONS = {
    RecordKind.SOWING: "🌱",
    RecordKind.FERTILISER: "🧴",
    RecordKind.PESTICIDE: "💧",
    RecordKind.VET_DRUG: "💉",
    RecordKind.FEED: "🌾",
    RecordKind.HARVEST: "🧺",
    RecordKind.OTHER: "📝",
}

audit.name_codes(
    actions={
        "village.farming.record": N_("Farm record kept"),
        "village.farming.void": N_("Farm record voided"),
        "village.farming.input_added": N_("Input added to the list"),
        "village.farming.input_changed": N_("Input changed"),
        "village.farming.input_retired": N_("Input retired"),
        "village.farming.inputs_loaded": N_("Starter inputs loaded"),
    },
    targets={"village_record": N_("Farm record"), "village_input": N_("Input product")},
)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "kind_labels": records.RECORD_KIND_LABELS,
            "kind_icons": KIND_ICONS,
            "product_label": products.product_label,
            "unit_label": products.unit_label,
            **context,
        },
        status_code=status,
    )


def _animal(code: str) -> bool:
    p = products.catalog().products.get(code)
    return p is not None and p.kind != "crop"


def _products_for(base: ProductionBase, kind: RecordKind) -> list[str]:
    """The base's products a record of this kind may name (a pesticide: crops; a veterinary drug: animals)."""
    codes = [c for c in (base.product_codes or []) if c in products.catalog().products]
    if kind == RecordKind.PESTICIDE:
        return [c for c in codes if not _animal(c)]
    if kind in (RecordKind.VET_DRUG, RecordKind.FEED):
        return [c for c in codes if _animal(c)]
    return codes


def _states(session: Session, base: ProductionBase, on: date) -> list[dict[str, Any]]:
    """Each product of the base: may it be harvested on ``on``, and if not, for how many more days."""
    out = []
    for code in _products_for(base, RecordKind.HARVEST):
        block = farming.interval_block(session, base_id=base.id, product_code=code, on=on)
        out.append({"code": code, "block": block, "days": block.days_remaining(on) if block else 0})
    return out


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    base: ProductionBase,
    kind: RecordKind,
    form: Refused | None,
    status: int = 200,
) -> Response:
    choices = _products_for(base, kind)
    input_kind = INPUT_OF_RECORD.get(kind)
    input_rows = inputs.list_inputs(session, kind=input_kind, active_only=True) if input_kind else []
    if form is None:
        last = records.last_input(session, base_id=base.id, kind=kind) if input_kind else None
        values: dict[str, Any] = {
            "used_on": records.today().isoformat(),
            "product_code": (last.product_code if last and last.product_code in choices else None)
            or (choices[0] if choices else ""),
            "input_id": str(last.input_id) if last else "",
            "dose_unit": (last.dose_unit or "") if last else "",
            "dose": f"{last.dose:g}" if last and last.dose else "",
        }
        if kind == RecordKind.HARVEST and values["product_code"]:
            values["unit"] = products.product(values["product_code"]).unit
        form = Refused(values, {}, None, 200)
    on = records.today()
    with contextlib.suppress(ValueError):
        on = date.fromisoformat(str(form.values.get("used_on", ""))[:10])
    return _render(
        request,
        "village/farming/new.html",
        {
            "step": 3,
            "base": base,
            "kind": kind,
            "choices": choices,
            "inputs": input_rows,
            "form": form,
            "states": _states(session, base, on) if kind == RecordKind.HARVEST else [],
            "units": products.catalog().units,
            "today": records.today().isoformat(),
            "needs_input": kind in records.NEEDS_INPUT,
            "animal": any(_animal(c) for c in choices),
        },
        status,
    )


@router.get("/village/records/new")
def new_record(request: Request, session: ReadSession, a: Someone, base: Short = "", kind: Short = "") -> Response:
    actor = farm_actor(a, write=True)
    bases = records.bases_of(session, actor)
    chosen = next((b for b in bases if str(b.id) == base), None)
    if chosen is None:
        return _render(request, "village/farming/new.html", {"step": 1, "bases": bases})
    if kind not in {k.value for k in RecordKind}:
        animals = any(_animal(c) for c in chosen.product_codes or [])
        crops = any(not _animal(c) for c in chosen.product_codes or [])
        kinds = [
            k
            for k in RecordKind
            if (k not in (RecordKind.VET_DRUG, RecordKind.FEED) or animals) and (k != RecordKind.PESTICIDE or crops)
        ]
        return _render(request, "village/farming/new.html", {"step": 2, "base": chosen, "kinds": kinds})
    return _form_page(request, session, actor, chosen, RecordKind(kind), None)


@router.post("/village/records/new")
def save_record(
    request: Request, session: WriteSession, a: Someone, form: PostedForm, base: Short = "", kind: Short = ""
) -> Response:
    actor = farm_actor(a, write=True)
    try:
        chosen = records.base_for(session, actor, int(base), write=True)
        rkind = RecordKind(kind)
    except ValueError:
        raise NotFound(N_("No such base")) from None
    typed = forms.typed(form, FIELDS)
    try:
        photo = None
        upload = form.get("photo")
        if isinstance(upload, StarletteUpload) and upload.filename:
            data = forms.read_upload(cast(UploadFile, upload), records.MAX_PHOTO_BYTES)
            photo = (data, upload.filename) if data else None
        body = forms.parse(RecordIn, {**typed, "base_id": chosen.id, "kind": rkind.value})
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            rec = records.create_record(session, actor=actor, body=body, photo=photo)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, typed)
        if isinstance(exc, farming.InsideSafetyInterval):
            with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
                message = exc.message
            refused = Refused(typed, {"used_on": message}, message, 409)
        return _form_page(request, session, actor, chosen, rkind, refused, refused.status)
    return redirect(f"/village/records/{rec.id}", flash=translate(request, "Saved"))


# --- lists and one record ------------------------------------------------------------------------


def _filter(
    request: Request, session: Session, actor: Actor, q: dict[str, str]
) -> tuple[records.RecordFilter, dict[str, Any]]:
    def num(text: str) -> int | None:
        return int(text) if text.isdigit() and len(text) < 10 else None

    def day(text: str) -> date | None:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None

    end = day(q["to"]) or records.today()
    start = day(q["from"]) or end - timedelta(days=365)
    if start > end or (end - start).days > records.MAX_RANGE_DAYS:
        start = end - timedelta(days=365)
    kind = RecordKind(q["kind"]) if q["kind"] in {k.value for k in RecordKind} else None
    f = records.RecordFilter(
        entity_id=num(q["entity"]), base_id=num(q["base"]), kind=kind, date_from=start, date_to=end
    )
    return f, {
        "entity": q["entity"] if f.entity_id else "",
        "base": q["base"] if f.base_id else "",
        "kind": kind.value if kind else "",
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


def _choices(session: Session, actor: Actor) -> tuple[list[Entity], list[ProductionBase]]:
    if scope.sees_all(actor):
        ents = list(
            session.scalars(select(Entity).where(Entity.kind.in_(PRODUCER_KINDS)).order_by(Entity.name).limit(500))
        )
    else:
        ids = scope.entity_ids_of(session, actor)
        ents = list(session.scalars(select(Entity).where(Entity.id.in_(ids)).order_by(Entity.name))) if ids else []
    ent_ids = [e.id for e in ents]
    bases = (
        list(
            session.scalars(
                select(ProductionBase)
                .where(ProductionBase.entity_id.in_(ent_ids))
                .order_by(ProductionBase.name)
                .limit(500)
            )
        )
        if ent_ids
        else []
    )
    return ents, bases


@router.get("/village/records")
def record_list(
    request: Request,
    session: ReadSession,
    a: Someone,
    entity: Short = "",
    base: Short = "",
    kind: Short = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    format: Annotated[str, Query(max_length=4)] = "",
    limit: Annotated[int, Query(ge=1, le=records.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    actor = farm_actor(a)
    f, shown = _filter(
        request, session, actor, {"entity": entity, "base": base, "kind": kind, "from": date_from, "to": date_to}
    )
    if format in ("csv", "xlsx"):
        return _export(request, session, actor, f, format)
    rows, total = records.list_records(session, actor=actor, f=f, limit=limit, offset=offset)
    ents, bases = _choices(session, actor)
    query = "&".join(f"{k}={v}" for k, v in shown.items() if v)
    return _render(
        request,
        "village/farming/list.html",
        {
            "rows": records_out(session, rows),
            "total": total,
            "limit": limit,
            "offset": offset,
            "shown": shown,
            "base_query": query,
            "entities": ents,
            "bases": bases,
            "kinds": list(RecordKind),
            "all": scope.sees_all(actor),
            "can_write": actor.can(PRODUCE),
        },
    )


def _export(request: Request, session: Session, actor: Actor, f: records.RecordFilter, fmt: str) -> Response:
    stmt = records.query(session, actor=actor, f=f).limit(MAX_EXPORT)
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        out = records_out(session, list(session.scalars(stmt)))

    headers = [
        translate(request, h)
        for h in (
            N_("Date"),
            N_("Producer"),
            N_("Base"),
            N_("Kind"),
            N_("Product"),
            N_("Input product"),
            N_("Registration number"),
            N_("Interval (days)"),
            N_("Dose"),
            N_("Dose unit"),
            N_("Area (mu)"),
            N_("Head count"),
            N_("Quantity"),
            N_("Unit"),
            N_("Note"),
            N_("Recorded by"),
            N_("Voided"),
            N_("Void reason"),
        )
    ]
    data = [
        [
            r.used_on.isoformat(),
            r.entity_name,
            r.base_name,
            r.kind_label,
            r.product_label or "",
            r.input_name or "",
            r.registration_no or "",
            r.interval_days,
            r.dose,
            r.dose_unit or "",
            r.area_mu,
            r.head_count,
            r.quantity,
            products.unit_label(r.unit) if r.unit else "",
            r.note or "",
            r.recorded_by,
            translate(request, "Yes") if r.voided else "",
            r.void_reason or "",
        ]
        for r in out
    ]
    name = f"farm-records-{f.date_from}-{f.date_to}"
    if fmt == "csv":
        return Response(
            to_csv(headers, data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        to_xlsx(headers, data, "records"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def _record_page(
    request: Request, session: Session, actor: Actor, record_id: int, form: Refused | None = None, status: int = 200
) -> Response:
    rec = records.get_record(session, actor=actor, record_id=record_id)
    out = records_out(session, [rec])[0]
    may_write = actor.can(AGRI_MANAGE) or rec.entity_id in scope.entity_ids_of(session, actor)
    return _render(
        request,
        "village/farming/record.html",
        {
            "r": out,
            "form": form or Refused.empty(),
            "may_write": may_write,
            "may_certify": may_write and actor.can(PRODUCE) and rec.kind == RecordKind.HARVEST and not rec.voided,
        },
        status,
    )


@router.get("/village/records/{record_id:int}")
def record_page(request: Request, record_id: int, session: ReadSession, a: Someone) -> Response:
    return _record_page(request, session, farm_actor(a), record_id)


@router.get("/village/records/{record_id:int}/photo")
def record_photo(record_id: int, session: ReadSession, a: Someone) -> Response:
    path, media_type = records.photo_of(session, actor=farm_actor(a), record_id=record_id)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@router.post("/village/records/{record_id:int}/void")
def void_record(request: Request, record_id: int, session: WriteSession, a: Someone, form: PostedForm) -> Response:
    actor = farm_actor(a, write=True)
    typed = forms.typed(form, ("reason",))
    try:
        body = forms.parse(VoidIn, typed)
        records.void_record(session, actor=actor, record_id=record_id, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, typed)
        return _record_page(request, session, actor, record_id, refused, refused.status)
    return redirect(f"/village/records/{record_id}", flash=translate(request, "The record is voided"))
