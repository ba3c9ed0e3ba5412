"""The intake desk (受理台): a call taken by a clerk becomes an accepted case with its 12345 work-order
facts; a message that came in by the web or Open311 is accepted (categorised, placed) with the same
form; the caller's past cases are found by the phone number's keyed index; stock phrases are data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Case, CaseEvent, Channel, Reporter, StockPhrase, WorkOrder
from countyos.cases.schemas import ActionIn, IntakeIn
from countyos.cases.service import cases, categories, location, people, routing, transitions
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import mask_phone
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit

MESSAGE_CHANNELS = (Channel.WEB, Channel.OPEN311)  # messages waiting at the desk to be accepted
MAX_PAST_CASES = 20
MAX_QUEUE = 50
MAX_PHRASES = 200
MAX_PLACES = 10
MAX_PLACE_QUERY = 40


def normalise_phone(text: str | None) -> str | None:
    """The number as stored: without spaces and dashes ("138 1234-1234" → "13812341234")."""
    if not text:
        return None
    digits = "".join(ch for ch in text.strip() if ch not in " -")
    return digits or None


def _indexes(phone: str) -> list[str]:
    """The keyed indexes a number may have been stored under (as typed, and without separators)."""
    forms = {phone.strip(), normalise_phone(phone) or ""}
    return [i for i in (people.blind_index(f) for f in sorted(forms) if f) if i]


# -- past cases of a caller --------------------------------------------------------------------------


@dataclass(frozen=True)
class PastCase:
    id: int
    number: str | None
    title: str
    state: str
    category_name: str
    reported_at: datetime
    is_open: bool


def past_cases(session: Session, *, actor: Actor, phone: str, limit: int = 10) -> list[PastCase]:
    """The cases a caller reported before, found by the phone number's keyed index (never by reading
    numbers), newest first, within what the actor may see. Every look-up is audited as a personal-data
    read (the number itself is recorded masked)."""
    phone = (phone or "").strip()
    if not cases.PHONE_RE.match(phone):
        raise ValidationFailed(
            "Please correct the report",
            errors=[
                {
                    "field": "caller_phone",
                    "message": N_("Enter a mobile number or a landline number with its area code"),
                }
            ],
        )
    limit = max(1, min(limit, MAX_PAST_CASES))
    stmt = (
        select(Case)
        .where(
            Case.id.in_(select(Reporter.case_id).where(Reporter.phone_index.in_(_indexes(phone)))),
            Case.merged_into_id.is_(None),
        )
        .order_by(Case.reported_at.desc(), Case.id.desc())
        .limit(limit)
    )
    vis = cases.visibility(session, actor)
    if vis is not None:
        stmt = stmt.where(vis)
    found = [
        PastCase(
            id=c.id,
            number=c.number,
            title=c.title,
            state=c.state,
            category_name=c.category.name,
            reported_at=c.reported_at,
            is_open=c.is_open,
        )
        for c in session.scalars(stmt)
    ]
    audit.record(
        session,
        actor=actor,
        action="case.caller.lookup",
        target_type="caller",
        target_id=mask_phone(normalise_phone(phone) or phone),
        detail={"found": len(found)},
    )
    return found


def shown_phone(value_enc: str | None, *, unmasked: bool) -> str:
    """A stored number as a person with (or without) the personal-data permission sees it."""
    if not value_enc:
        return ""
    return (people.decrypt(value_enc) or "") if unmasked else people.masked(value_enc)


# -- taking a call, accepting a message ---------------------------------------------------------------


def _check(session: Session, data: IntakeIn) -> tuple[list[dict[str, str]], tuple[float, float, str | None] | None]:
    """Problems of the form, each at its field; and the position (lon, lat, place named by the address)."""
    errors: list[dict[str, str]] = []
    if data.category_id is None:
        errors.append({"field": "category_id", "message": N_("Choose the category")})
    else:
        try:
            cat = categories.info(session, category_id=data.category_id)
            if cat.is_group or not cat.is_active:
                errors.append({"field": "category_id", "message": N_("Choose one of its sub-categories")})
        except NotFound:
            errors.append({"field": "category_id", "message": N_("Choose the category")})
    if not (data.description or "").strip():
        errors.append({"field": "description", "message": N_("Describe the problem")})
    phone = (data.caller_phone or "").strip()
    shown_masked = data.message_case_id is not None and "*" in phone  # a message's number as shown, unchanged
    if phone and not shown_masked and not cases.PHONE_RE.match(phone):
        errors.append(
            {"field": "caller_phone", "message": N_("Enter a mobile number or a landline number with its area code")}
        )
    if data.callback_needed and not phone and data.message_case_id is None:
        errors.append({"field": "caller_phone", "message": N_("A callback needs the caller's phone number")})
    if data.order_no and data.message_case_id is None:
        taken = session.scalar(select(WorkOrder.case_id).where(WorkOrder.order_no == data.order_no.strip()).limit(1))
        if taken is not None:
            errors.append({"field": "order_no", "message": N_("This work order number is already a case")})
    position: tuple[float, float, str | None] | None = None
    if (data.lon is None) != (data.lat is None):
        errors.append({"field": "address", "message": N_("Pick the position on the map, or clear it")})
    elif data.lon is not None and data.lat is not None:
        position = (data.lon, data.lat, None)
    elif (data.address or "").strip():
        spot = location.place_address(session, text=data.address or "")
        if spot is None:
            errors.append(
                {
                    "field": "address",
                    "message": N_("The address names no village or township of the county; pick it on the map"),
                }
            )
        else:
            position = (spot.lon, spot.lat, spot.name)
    elif data.message_case_id is None:
        errors.append({"field": "address", "message": N_("Give the address, or pick the position on the map")})
    return errors, position


def _work_order(session: Session, *, actor: Actor, case: Case, data: IntakeIn, now: datetime) -> WorkOrder:
    row = session.get(WorkOrder, case.id) or WorkOrder(case_id=case.id)
    row.order_no = (data.order_no or "").strip() or row.order_no
    row.called_at = data.called_at or row.called_at or (now if case.channel == Channel.HOTLINE else None)
    row.demand_type = data.demand_type
    row.callback_needed = data.callback_needed
    row.callback_way = data.callback_way if data.callback_needed else None
    row.callback_time = ((data.callback_time or "").strip() or None) if data.callback_needed else None
    row.taken_by = actor.id
    session.add(row)
    return row


def take(session: Session, *, actor: Actor, data: IntakeIn, now: datetime | None = None) -> Case:
    """A call at the desk becomes an accepted 12345 case (or a web message is accepted): the caller
    (phone encrypted, keyed index), the place, the category, the work-order facts. Returns the case."""
    now = now or utcnow()
    if data.message_case_id is not None:
        return accept_message(session, actor=actor, data=data, now=now)
    if data.idempotency_key:
        existing = cases.get_by_idempotency_key(session, key=data.idempotency_key)
        if existing is not None:
            return existing
    errors, position = _check(session, data)
    if errors:
        raise ValidationFailed("Please correct the marked fields", errors=errors)
    assert position is not None and data.category_id is not None
    lon, lat, placed_by = position
    attributes: dict[str, Any] = {"location_from_address": placed_by} if placed_by else {}
    new = cases.NewCase(
        channel=Channel.HOTLINE,
        category_id=data.category_id,
        description=data.description,
        lon=lon,
        lat=lat,
        address=data.address,
        title=data.title,
        priority=data.priority,
        attributes=attributes,
        external_id=(data.order_no or "").strip() or None,
        idempotency_key=data.idempotency_key,
        public_report=True,
        reporter=cases.ReporterIn(name=data.caller_name, phone=normalise_phone(data.caller_phone)),
        context={"desk": True, **({"order_no": data.order_no.strip()} if data.order_no else {})},
    )
    case, _, created = cases.create(session, actor=actor, new=new, now=now)
    if not created:
        return case
    _work_order(session, actor=actor, case=case, data=data, now=now)
    session.flush()
    return transitions.apply(session, actor=actor, case_id=case.id, data=ActionIn(action=Action.ACCEPT), now=now)


def accept_message(session: Session, *, actor: Actor, data: IntakeIn, now: datetime | None = None) -> Case:
    """Accept a message that came in by the web or Open311: the clerk's category and position replace
    the sender's (the change is on the timeline), its work-order facts are kept, and it is accepted."""
    now = now or utcnow()
    assert data.message_case_id is not None
    case = cases.get(session, case_id=data.message_case_id)
    if case.channel not in MESSAGE_CHANNELS or case.state != State.REPORTED:
        raise Conflict("Case %(number)s is no message waiting to be accepted", number=case.number or case.id)
    errors, position = _check(session, data)
    if errors:
        raise ValidationFailed("Please correct the marked fields", errors=errors)
    assert data.category_id is not None
    changes: dict[str, Any] = {}
    if data.category_id != case.category_id:
        cat = categories.get(session, category_id=data.category_id)
        changes["category"] = {"from": case.category.service_code, "to": cat.service_code}
        case.category_id = cat.id
        case.category = cat
        sug = routing.suggest(session, category=cat, township_code=case.township_code, grid_code=case.grid_code)
        case.suggested_department_id = sug.department_id if sug else None
    address = (data.address or "").strip()[:256] or None
    if address != case.address:
        changes["address"] = {"from": case.address, "to": address}
        case.address = address
    if data.title and data.title.strip() != case.title:
        changes["title"] = {"from": case.title, "to": data.title.strip()[:200]}
        case.title = data.title.strip()[:200]
    if data.priority is not None and data.priority != case.priority:
        changes["priority"] = {"from": str(case.priority), "to": str(data.priority)}
        case.priority = data.priority
    rep = first_reporter(session, case_id=case.id)
    typed_phone = normalise_phone(data.caller_phone)
    if (
        rep is not None
        and typed_phone
        and "*" not in typed_phone
        and rep.phone_index != people.blind_index(typed_phone)
    ):
        rep.phone_enc, rep.phone_index = people.encrypt(typed_phone), people.blind_index(typed_phone)
        changes["caller_phone"] = "changed"  # never the number itself
    if rep is not None and data.caller_name and "*" not in data.caller_name and data.caller_name.strip() != rep.name:
        rep.name = data.caller_name.strip()[:60]
        changes["caller_name"] = "changed"
    _work_order(session, actor=actor, case=case, data=data, now=now)
    session.flush()
    if changes:
        audit.record(
            session,
            actor=actor,
            action="case.intake.classify",
            target_type="case",
            target_id=case.number,
            detail=changes,
        )
    moved = position is not None and (
        case.lon is None or case.lat is None or abs(position[0] - case.lon) > 1e-6 or abs(position[1] - case.lat) > 1e-6
    )
    if moved and position is not None:
        case = transitions.apply(
            session,
            actor=actor,
            case_id=case.id,
            data=ActionIn(action=Action.RELOCATE, lon=position[0], lat=position[1]),
            now=now,
        )
        if position[2]:
            case.attributes = {**(case.attributes or {}), "location_from_address": position[2]}
    context = {"desk": True, **({"category": changes["category"]} if "category" in changes else {})}
    return transitions.apply(
        session, actor=actor, case_id=case.id, data=ActionIn(action=Action.ACCEPT), context=context, now=now
    )


def message_queue(session: Session, *, limit: int = MAX_QUEUE) -> tuple[list[Case], int]:
    """Messages from the web and Open311 waiting to be accepted, oldest first, and how many there are."""
    cond = (Case.state == State.REPORTED, Case.channel.in_([str(c) for c in MESSAGE_CHANNELS]))
    total = int(session.scalar(select(func.count()).select_from(Case).where(*cond)) or 0)
    rows = list(session.scalars(select(Case).where(*cond).order_by(Case.reported_at, Case.id).limit(limit)))
    return rows, total


def first_reporter(session: Session, *, case_id: int) -> Reporter | None:
    return session.scalar(select(Reporter).where(Reporter.case_id == case_id).order_by(Reporter.id).limit(1))


def first_words(session: Session, *, case_id: int) -> str | None:
    """What the sender wrote (the report's timeline entry), for a message opened at the desk."""
    return session.scalar(select(CaseEvent.comment).where(CaseEvent.case_id == case_id, CaseEvent.seq == 1).limit(1))


# -- stock phrases (常用语) ------------------------------------------------------------------------------


def phrases(session: Session, *, category_id: int | None = None, every: bool = False) -> list[StockPhrase]:
    """Active phrases: the global ones and (with CATEGORY_ID) the category's; EVERY: all categories'."""
    stmt = select(StockPhrase).where(StockPhrase.is_active.is_(True))
    if not every:
        if category_id is None:
            stmt = stmt.where(StockPhrase.category_id.is_(None))
        else:
            stmt = stmt.where(or_(StockPhrase.category_id.is_(None), StockPhrase.category_id == category_id))
    stmt = stmt.order_by(StockPhrase.category_id.is_not(None), StockPhrase.position, StockPhrase.id)
    return list(session.scalars(stmt.limit(MAX_PHRASES)))


def add_phrase(
    session: Session, *, actor: Actor, text: str, category_id: int | None = None, position: int = 0
) -> StockPhrase:
    text = " ".join((text or "").split())
    if not text or len(text) > 300:
        raise ValidationFailed(
            "Please correct the marked fields",
            errors=[{"field": "text", "message": N_("Write the phrase (at most 300 characters)")}],
        )
    if category_id is not None:
        categories.get(session, category_id=category_id)
    count = session.scalar(select(func.count()).select_from(StockPhrase).where(StockPhrase.is_active.is_(True))) or 0
    if count >= MAX_PHRASES:
        raise Conflict("At most %(n)s stock phrases", n=MAX_PHRASES)
    row = StockPhrase(category_id=category_id, text=text, position=position, updated_by=actor.name)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.phrase.add",
        target_type="case_stock_phrase",
        target_id=row.id,
        detail={"text": text, "category_id": category_id},
    )
    return row


def remove_phrase(session: Session, *, actor: Actor, phrase_id: int) -> None:
    row = session.get(StockPhrase, phrase_id)
    if row is None or not row.is_active:
        raise NotFound("Stock phrase %(id)s does not exist", id=phrase_id)
    row.is_active = False
    row.updated_by = actor.name
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.phrase.remove",
        target_type="case_stock_phrase",
        target_id=row.id,
        detail={"text": row.text},
    )


# -- places for the address box ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceHit:
    name: str  # as people read it: "妙高街道 · 北街社区"
    kind: str  # township, village, grid
    code: str
    lon: float
    lat: float


def places(session: Session, *, q: str, limit: int = 8) -> list[PlaceHit]:
    """The county's own places whose names contain Q (townships, villages/communities, unit grids),
    each with a point inside it; first the place the whole text names (``geo.place_address``)."""
    from countyos.geo.models import Division, DivisionLevel, Grid

    q = "".join((q or "").split())[:MAX_PLACE_QUERY]
    limit = max(1, min(limit, MAX_PLACES))
    if len(q) < 2:
        return []
    out: list[PlaceHit] = []
    seen: set[str] = set()
    names = dict(
        session.execute(select(Division.code, Division.name).where(Division.level == DivisionLevel.TOWNSHIP)).all()
    )
    spot = location.place_address(session, text=q)
    like = f"%{q.replace('%', '').replace('_', '')}%"
    divisions = session.scalars(
        select(Division)
        .where(Division.level.in_([DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE]), Division.name.like(like))
        .order_by(Division.level, Division.code)
        .limit(limit)
    )
    for d in divisions:
        p = d.geom.representative_point()
        parent = names.get(d.parent_code or "") if d.level == DivisionLevel.VILLAGE else None
        hit = PlaceHit(
            name=f"{parent} · {d.name}" if parent else d.name,
            kind="township" if d.level == DivisionLevel.TOWNSHIP else "village",
            code=d.code,
            lon=round(float(p.x), 6),
            lat=round(float(p.y), 6),
        )
        if spot is not None and spot.name == d.name:
            out.insert(0, hit)
        else:
            out.append(hit)
        seen.add(d.code)
    if spot is not None and not any(h.name.endswith(spot.name) for h in out):
        out.insert(0, PlaceHit(name=spot.name, kind="village", code="", lon=spot.lon, lat=spot.lat))
    if len(out) < limit:
        grids = session.scalars(
            select(Grid)
            .where(or_(Grid.name.like(like), Grid.code.like(f"{q}%")))
            .order_by(Grid.code)
            .limit(limit - len(out))
        )
        for g in grids:
            p = g.geom.representative_point()
            out.append(
                PlaceHit(
                    name=g.name or g.code, kind="grid", code=g.code, lon=round(float(p.x), 6), lat=round(float(p.y), 6)
                )
            )
    return out[:limit]
