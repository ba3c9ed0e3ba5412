"""An inspection of a key place on the phone: the place's current checklist, each item pass / fail / not
applicable, a failed item with its note and photos; finishing makes the inspection record and one hazard
(隐患) per failed item, each opened as a case (category 安全隐患, channel 网格员巡查 when a grid worker
inspects, else 工作人员) through the cases service, so that it goes through the normal routing.

A hazard's level is the item's default unless the inspector chose another; its deadline is the item's
rectification days (or the file's default days for the level) from the inspection's day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import CategoryKind, Channel, Priority
from countyos.cases.service import cases, categories, location
from countyos.core.actor import Actor
from countyos.core.clock import county_day, utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.safety.models.inspections import (
    Checklist,
    Hazard,
    HazardAction,
    HazardLevel,
    HazardState,
    Inspection,
    InspectionResult,
    Outcome,
    Place,
)
from countyos.safety.schemas.inspections import InspectionIn
from countyos.safety.service import inspections as places
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards

SYSTEM = Actor(id=None, name="safety.inspections")
Photos = dict[str, list[tuple[bytes, str | None]]]  # item code → photos


def category_id(session: Session, *, actor: Actor | None = None) -> int:
    """The 安全隐患 case category, made (audited, as the system) when missing."""
    spec = places.kinds_data()["case_category"]
    kind = CategoryKind(spec["kind"])
    cat = categories.get_by_code(session, kind=kind, code=spec["code"])
    if cat is None:
        cat = categories.create(session, actor=actor or SYSTEM, kind=kind, code=spec["code"], name=spec["name"],
                                public=False)  # fmt: skip
    return cat.id


def channel_for(session: Session, actor: Actor) -> Channel:
    if actor.id is not None and location.grids_of_worker(session, user_id=actor.id):
        return Channel.GRID
    return Channel.STAFF


def _check_answers(cl: Checklist, data: InspectionIn) -> dict[str, dict[str, Any]]:
    items = {i["code"]: i for i in cl.items}
    seen: set[str] = set()
    for n, a in enumerate(data.answers):
        if a.code not in items:
            raise ValidationFailed.on_field(f"answers.{n}", N_("This item is not on the place's checklist"))
        if a.code in seen:
            raise ValidationFailed.on_field(f"item_{a.code}", N_("An item is answered twice"))
        seen.add(a.code)
        if a.outcome is Outcome.FAIL and not a.note:
            raise ValidationFailed.on_field(f"note_{a.code}", N_("Say what is wrong"))
    missing = [c for c in items if c not in seen]
    if missing:
        raise ValidationFailed(
            N_("Answer every item of the checklist (%(n)s left)"), n=len(missing),
            errors=[{"field": f"item_{c}", "message": N_("Answer this item")} for c in missing],
        )  # fmt: skip
    return items


def open_case(
    session: Session, *, actor: Actor, h: Hazard, place: Place, channel: Channel, attachment_ids: list[int]
) -> None:
    """The hazard's case (its id and number kept on the hazard, an error kept when it could not be made)."""
    level = "重大隐患" if h.level is HazardLevel.MAJOR else "一般隐患"
    try:
        with session.begin_nested():
            case, _, _ = cases.create(
                session,
                actor=actor,
                now=h.found_at,
                new=cases.NewCase(
                    channel=channel,
                    category_id=category_id(session, actor=actor),
                    title=f"{level}：{place.name} {h.item_text}"[:200],
                    description=f"{h.description}\n整改期限 {h.deadline_on.isoformat()}；责任 {h.responsible}"[:4000],
                    lon=place.lon,
                    lat=place.lat,
                    address=place.address or place.name,
                    priority=Priority.URGENT if h.level is HazardLevel.MAJOR else None,
                    attributes={"hazard_id": h.id, "place_id": place.id, "level": h.level.value},
                    external_id=f"hazard:{h.id}",
                    idempotency_key=f"safety-hazard-{h.id:06d}",
                    attachment_ids=attachment_ids,
                    context={"cause": "safety.inspections", "hazard_id": h.id},
                ),
            )
        h.case_id, h.case_number, h.case_error = case.id, case.number, None
    except CountyError as exc:
        h.case_error = str(exc.message)[:300]


def record(
    session: Session,
    *,
    actor: Actor,
    data: InspectionIn,
    photos: Photos | None = None,
    at: datetime | None = None,
    with_cases: bool = True,
) -> Inspection:
    """Finish an inspection: the record, its hazards and their cases; the place's next due day moves on."""
    at = at or utcnow()
    photos = photos or {}
    place = places.get(session, place_id=data.place_id)
    if not place.active:
        raise NotFound(N_("No such key place"))
    cl = checklists.current_for_kind(session, kind=place.kind, actor=actor)
    items = _check_answers(cl, data)
    for code, files in photos.items():
        if files and code not in items:
            raise ValidationFailed.on_field(f"photos_{code}", N_("This item is not on the place's checklist"))
    failed = [a for a in data.answers if a.outcome is Outcome.FAIL]
    stored = {
        a.code: hazards.store_photos(session, actor=actor, photos=photos.get(a.code, []))
        for a in failed
        if photos.get(a.code)
    }
    insp = Inspection(
        place_id=place.id, checklist_id=cl.id, inspector_id=actor.id,
        inspector_name=hazards.display_name(session, actor), at=at,
        result=InspectionResult.HAZARDS if failed else InspectionResult.CLEAN,
        answers=[{"code": a.code, "outcome": a.outcome.value, "note": a.note} for a in data.answers],
        hazards=len(failed), note=data.note,
    )  # fmt: skip
    session.add(insp)
    session.flush()
    day = county_day(at)
    channel = channel_for(session, actor) if failed and with_cases else Channel.STAFF
    for a in failed:
        item = items[a.code]
        level = a.level or HazardLevel(item.get("level", "general"))
        h = Hazard(
            place_id=place.id, inspection_id=insp.id, item_code=a.code, item_text=str(item["text"])[:300],
            category=str(item["category"]), level=level, description=a.note,
            responsible=a.responsible or place.responsible_name or place.name, state=HazardState.OPEN,
            found_at=at, deadline_on=day + timedelta(days=checklists.days_for(item, level)),
            township_code=place.township_code, grid_code=place.grid_code, attachment_ids=stored.get(a.code, []),
        )  # fmt: skip
        session.add(h)
        session.flush()
        hazards.add_log(session, h=h, action=HazardAction.FOUND, before=None, actor=actor, at=at, note=a.note,
                        attachment_ids=h.attachment_ids)  # fmt: skip
        if with_cases:
            open_case(session, actor=actor, h=h, place=place, channel=channel, attachment_ids=list(h.attachment_ids))
    if place.last_inspected_on is None or day >= place.last_inspected_on:
        place.last_inspected_on = day
        place.next_due_on = places.next_due(place.grade, day)
    session.flush()
    audit.record(
        session, actor=actor, action="safety.inspections.inspect", target_type="safety_inspection", target_id=insp.id,
        detail={"place": place.id, "checklist": f"{cl.code}@{cl.version}", "hazards": len(failed)},
    )  # fmt: skip
    return insp


def get(session: Session, *, inspection_id: int) -> Inspection:
    i = session.get(Inspection, inspection_id)
    if i is None:
        raise NotFound(N_("No such inspection"))
    return i


def of_place(session: Session, *, place_id: int, limit: int = 100) -> list[Inspection]:
    stmt = select(Inspection).where(Inspection.place_id == place_id).order_by(Inspection.at.desc(), Inspection.id)
    return list(session.scalars(stmt.limit(limit)))


def hazard_ids(session: Session, *, inspection_id: int) -> list[int]:
    return list(session.scalars(select(Hazard.id).where(Hazard.inspection_id == inspection_id).order_by(Hazard.id)))
