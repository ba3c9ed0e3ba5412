"""Output models and input readers of the hidden-danger inspections API (shared with its pages): records as
their output models, JSON bodies and the phone's multipart form (``item_<code>``, ``note_<code>``,
``level_<code>``, ``responsible_<code>``, files ``photos_<code>``) read with bounds."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.safety.models.inspections import (
    Checklist,
    Hazard,
    Inspection,
    Outcome,
    Place,
)
from countyos.safety.schemas.inspections import (
    AnswerOut,
    ChecklistOut,
    HazardLogOut,
    HazardOut,
    InspectionOut,
    ItemIn,
    PlaceOut,
)
from countyos.safety.service import inspections as svc
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs
from countyos.web import forms

MAX_JSON = 200_000
MAX_FORM_FILES = 60
Photos = dict[str, list[tuple[bytes, str | None]]]


# --- output ----------------------------------------------------------------------------------------


def place_out(p: Place, distance_m: float | None = None) -> PlaceOut:
    return PlaceOut(
        id=p.id, name=p.name, kind=p.kind, kind_label=svc.kind_label(p.kind), address=p.address, lon=p.lon,
        lat=p.lat, township_code=p.township_code, township_name=p.township_name, village_name=p.village_name,
        grid_code=p.grid_code, responsible_name=p.responsible_name,
        responsible_phone_masked=p.responsible_phone_masked, safety_manager=p.safety_manager, grade=p.grade,
        last_inspected_on=p.last_inspected_on, next_due_on=p.next_due_on, active=p.active,
        distance_m=round(distance_m, 1) if distance_m is not None else None, url=f"/safety/places/{p.id}",
    )  # fmt: skip


def checklist_out(c: Checklist) -> ChecklistOut:
    return ChecklistOut(
        id=c.id, code=c.code, version=c.version, name=c.name, current=c.current,
        items=[ItemIn.model_validate(i) for i in c.items],
    )  # fmt: skip


def inspection_out(session: Session, i: Inspection) -> InspectionOut:
    cl = checklists.get(session, checklist_id=i.checklist_id)
    items = {x["code"]: x for x in cl.items}
    place = svc.get(session, place_id=i.place_id)
    answers = [
        AnswerOut(code=a["code"], text=str(items.get(a["code"], {}).get("text", "")),
                  category=str(items.get(a["code"], {}).get("category", "")), outcome=Outcome(a["outcome"]),
                  note=a.get("note", ""))
        for a in i.answers
    ]  # fmt: skip
    return InspectionOut(
        id=i.id, place_id=i.place_id, place_name=place.name, checklist_code=cl.code, checklist_version=cl.version,
        inspector_id=i.inspector_id, inspector_name=i.inspector_name, at=i.at, result=i.result, hazards=i.hazards,
        hazard_ids=runs.hazard_ids(session, inspection_id=i.id), answers=answers, url=f"/safety/inspections/{i.id}",
    )  # fmt: skip


def hazard_out(h: Hazard, place_name: str, *, with_log: list[Any] | None = None) -> HazardOut:
    log = None
    if with_log is not None:
        log = [
            HazardLogOut(at=x.at, action=x.action, from_state=x.from_state, to_state=x.to_state,
                         actor_name=x.actor_name, note=x.note, deadline_on=x.deadline_on,
                         attachment_ids=list(x.attachment_ids or []))
            for x in with_log
        ]  # fmt: skip
    return HazardOut(
        id=h.id, place_id=h.place_id, place_name=place_name, inspection_id=h.inspection_id, item_code=h.item_code,
        item_text=h.item_text, category=h.category, level=h.level, description=h.description,
        responsible=h.responsible, state=h.state, found_at=h.found_at, deadline_on=h.deadline_on,
        overdue=hazards.is_overdue(h), rectified_at=h.rectified_at, closed_at=h.closed_at,
        reinspections=h.reinspections, township_code=h.township_code, grid_code=h.grid_code, case_id=h.case_id,
        case_number=h.case_number, attachment_ids=list(h.attachment_ids or []), log=log, url=f"/safety/hazards/{h.id}",
    )  # fmt: skip


def hazards_out(session: Session, rows: list[Hazard]) -> list[HazardOut]:
    names = hazards.place_names(session, [h.place_id for h in rows])
    return [hazard_out(h, names.get(h.place_id, "")) for h in rows]


# --- input: JSON or the phone's multipart form -----------------------------------------------------


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise PayloadTooLarge(N_("The request is too large"))
    try:
        values = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ValidationFailed(N_("The body is not JSON")) from exc
    if not isinstance(values, dict):
        raise ValidationFailed(N_("The body is not a JSON object"))
    return values


def read_photos(form: FormData, prefix: str) -> Photos:
    """The files under names starting with PREFIX (``photos`` or ``photos_<code>``), each bounded."""
    out: Photos = {}
    for name, value in form.multi_items():
        if not (isinstance(value, StarletteUpload) and name.startswith(prefix) and value.filename):
            continue
        data = value.file.read(hazards.MAX_PHOTO_BYTES + 1)
        if len(data) > hazards.MAX_PHOTO_BYTES:
            raise PayloadTooLarge(N_("The file is too large"))
        if data:
            out.setdefault(name[len(prefix) :].lstrip("_"), []).append((data, value.filename))
    return out


def inspection_values(form: FormData) -> dict[str, Any]:
    """InspectionIn's values from the phone form: ``item_<code>`` (pass/fail/na), ``note_<code>``,
    ``level_<code>``, ``responsible_<code>``, ``place_id``, ``note``."""
    answers = []
    for name, value in form.multi_items():
        if isinstance(value, str) and name.startswith("item_"):
            code = name[5:]
            answer: dict[str, Any] = {"code": code, "outcome": value}
            for field in ("note", "level", "responsible"):
                v = form.get(f"{field}_{code}")
                if isinstance(v, str) and v.strip():
                    answer[field] = v
            answers.append(answer)
    values: dict[str, Any] = {"answers": answers}
    for field in ("place_id", "note"):
        v = form.get(field)
        if isinstance(v, str) and v.strip():
            values[field] = v
    return values


async def inspection_input(request: Request) -> tuple[dict[str, Any], Photos]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return await _json(request), {}
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=600)
    return inspection_values(form), read_photos(form, "photos_")


async def note_input(request: Request) -> tuple[dict[str, Any], Photos]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return await _json(request), {}
    form = await request.form(max_files=hazards.MAX_PHOTOS + 1, max_fields=20)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in ("note", "passed", "days") and v.strip()}
    return values, read_photos(form, "photos")


InspectionInput = Annotated[tuple[dict[str, Any], Photos], Depends(inspection_input)]
NoteInput = Annotated[tuple[dict[str, Any], Photos], Depends(note_input)]


def parsed(model: type[forms.M], values: dict[str, Any]) -> forms.M:
    try:
        return forms.parse(model, values)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            N_("Please correct the marked fields"),
            errors=[{"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()],
        ) from exc


def all_photos(photos: Photos) -> list[tuple[bytes, str | None]]:
    return [p for files in photos.values() for p in files]
