"""民宿 and 农家乐: the register, the keeper's daily occupancy report and occupancy by village and month.

A keeper (``Homestay.keeper_id``) reports for their own house, one report a day: a second report of the
same day replaces the first (the audit log keeps what it said). Rooms occupied never exceed the rooms.

    入住率 (occupancy rate) = Σ rooms occupied / (rooms × days reported), by village and month
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, PermissionDenied
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.models.tourism import Homestay, HomestayReport
from countyos.village.permissions import TOURISM_MANAGE
from countyos.village.schemas.tourism import HomestayIn, OccupancyOut, StayReportIn
from countyos.village.service import tourism
from countyos.village.service.tourism import field_error
from countyos.village.service.tourism_flow import local_day

MAX_LIST = 500
MAX_REPORT_AGE_DAYS = 60  # a keeper may report (or correct) up to two months back


def get(session: Session, *, homestay_id: int) -> Homestay:
    h = session.get(Homestay, homestay_id)
    if h is None:
        raise NotFound(N_("No such homestay"))
    return h


def stay_for(session: Session, actor: Actor, homestay_id: int, *, write: bool = False) -> Homestay:
    h = get(session, homestay_id=homestay_id)
    own = actor.id is not None and h.keeper_id == actor.id
    if own or (write and actor.can(TOURISM_MANAGE)) or (not write and tourism.sees_all(actor)):
        return h
    if not write or not tourism.sees_all(actor):
        raise NotFound(N_("No such homestay"))
    raise PermissionDenied(N_("You do not keep this homestay"))


def my_stays(session: Session, actor: Actor) -> list[Homestay]:
    if actor.id is None:
        return []
    return list(
        session.scalars(select(Homestay).where(Homestay.keeper_id == actor.id, Homestay.active).order_by(Homestay.name))
    )


def list_stays(session: Session, *, village: str = "", limit: int = MAX_LIST) -> list[Homestay]:
    stmt = select(Homestay).where(Homestay.active).order_by(Homestay.village_name, Homestay.name)
    if village:
        stmt = stmt.where(Homestay.village_name == village)
    return list(session.scalars(stmt.limit(min(limit, MAX_LIST))))


def create(session: Session, *, actor: Actor, data: HomestayIn) -> Homestay:
    if data.beds < data.rooms:
        raise field_error("beds", N_("A house has at least one bed a room"))
    h = Homestay(**data.model_dump())
    session.add(h)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.homestay.create", target_type="village_homestay",
        target_id=h.id, detail={"name": h.name, "rooms": h.rooms},
    )  # fmt: skip
    return h


def update(session: Session, *, actor: Actor, homestay_id: int, data: HomestayIn) -> Homestay:
    h = get(session, homestay_id=homestay_id)
    if data.beds < data.rooms:
        raise field_error("beds", N_("A house has at least one bed a room"))
    for key, value in data.model_dump().items():
        setattr(h, key, value)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.homestay.update", target_type="village_homestay",
        target_id=h.id, detail={"name": h.name},
    )  # fmt: skip
    return h


def report(session: Session, *, actor: Actor, homestay_id: int, data: StayReportIn) -> HomestayReport:
    """The day's occupancy report of a house (its keeper); a second one of the same day replaces it."""
    h = stay_for(session, actor, homestay_id, write=True)
    today = local_day(utcnow())
    if data.day > today:
        raise field_error("day", N_("A report cannot be for a day still to come"))
    if data.day < today - timedelta(days=MAX_REPORT_AGE_DAYS):
        raise field_error("day", N_("A report can be made or corrected up to 60 days back"))
    if data.rooms_occupied > h.rooms:
        raise field_error("rooms_occupied", N_("The house has %(n)s rooms"), n=h.rooms)
    if data.guests > h.beds * 3:
        raise field_error("guests", N_("More guests than the house can sleep"))
    row = session.scalar(
        select(HomestayReport).where(HomestayReport.homestay_id == h.id, HomestayReport.day == data.day)
    )
    before = None
    if row is None:
        row = HomestayReport(homestay_id=h.id, day=data.day)
        session.add(row)
    else:
        before = {"rooms_occupied": row.rooms_occupied, "guests": row.guests, "revenue": row.revenue}
    row.rooms_occupied, row.guests, row.revenue = data.rooms_occupied, data.guests, data.revenue
    row.reported_by_id, row.reported_at = actor.id, utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.homestay.report", target_type="village_homestay",
        target_id=h.id,
        detail={"day": data.day.isoformat(), "rooms_occupied": data.rooms_occupied, "guests": data.guests,
                "revenue": data.revenue, **({"replaced": before} if before else {})},
    )  # fmt: skip
    return row


def reports(session: Session, *, homestay_id: int, start: date, end: date) -> list[HomestayReport]:
    return list(
        session.scalars(
            select(HomestayReport)
            .where(HomestayReport.homestay_id == homestay_id, HomestayReport.day >= start, HomestayReport.day <= end)
            .order_by(HomestayReport.day.desc())
            .limit(400)
        )
    )


def report_of(session: Session, *, homestay_id: int, day: date) -> HomestayReport | None:
    return session.scalar(
        select(HomestayReport).where(HomestayReport.homestay_id == homestay_id, HomestayReport.day == day)
    )


def occupancy(session: Session, *, start: date, end: date) -> list[OccupancyOut]:
    """入住率 by village and month over the days reported between START and END (inclusive)."""
    rows = session.execute(
        select(
            Homestay.village_name,
            Homestay.id,
            Homestay.rooms,
            HomestayReport.day,
            HomestayReport.rooms_occupied,
            HomestayReport.guests,
            HomestayReport.revenue,
        )
        .join(HomestayReport, HomestayReport.homestay_id == Homestay.id)
        .where(HomestayReport.day >= start, HomestayReport.day <= end)
    ).all()
    acc: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    houses: dict[tuple[str, str], set[int]] = defaultdict(set)
    for village, hid, rooms, day, occupied, guests, revenue in rows:
        key = (village, f"{day.year:04d}-{day.month:02d}")
        a = acc[key]
        a["room_nights"] += rooms
        a["occupied"] += occupied
        a["guests"] += guests
        a["revenue"] += revenue or 0.0
        houses[key].add(hid)
    out = []
    for (village, month), a in sorted(acc.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=False):
        nights = int(a["room_nights"])
        out.append(
            OccupancyOut(
                village=village,
                month=month,
                houses=len(houses[(village, month)]),
                room_nights=nights,
                rooms_occupied=int(a["occupied"]),
                rate=round(100.0 * a["occupied"] / nights, 1) if nights else None,
                guests=int(a["guests"]),
                revenue=round(a["revenue"], 2),
            )
        )
    return out


def revenue_by_day(session: Session, *, start: date, end: date) -> dict[date, tuple[float, int]]:
    """(revenue 元, guests) of all houses per day, from their reports."""
    out: dict[date, tuple[float, int]] = {}
    rows = session.execute(
        select(HomestayReport.day, HomestayReport.revenue, HomestayReport.guests).where(
            HomestayReport.day >= start, HomestayReport.day <= end
        )
    ).all()
    for day, revenue, guests in rows:
        r, g = out.get(day, (0.0, 0))
        out[day] = (r + (revenue or 0.0), g + guests)
    return out
