"""JSON API of bookings (预约), mounted under /api/v1: ``/portal/bookables…`` and ``/portal/bookings…``.

Public: what can be booked and its free slots. A resident (``portal.self``): book, cancel, my bookings.
Staff (``portal.booking.manage``, their own department's bookables only): set up and change bookables,
the day's bookings, check-in, no-show, cancel with a reason, the 办件 a window appointment led to.
Errors are problem+json; a booking rule's refusal names the rule (``rule``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.paging import Paged, PageParams
from countyos.portal.models import Bookable, BookableKind, Booking
from countyos.portal.schemas.bookings import (
    ActiveIn,
    ApplicationLinkIn,
    BookableIn,
    BookableOut,
    BookIn,
    BookingOut,
    DayOut,
    SlotOut,
    SlotsOut,
    StaffBookingOut,
    StaffCancelIn,
)
from countyos.portal.service import booking_rules, slots
from countyos.portal.service import bookings as svc
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(tags=["portal"])
Resident = Annotated[Auth, Depends(require(svc.SELF))]
Staff = Annotated[Auth, Depends(require(svc.MANAGE))]
MAX_LIMIT = 50


def bookable_out(b: Bookable) -> BookableOut:
    return BookableOut(
        token=b.token,
        kind=b.kind,
        name=b.name,
        description=b.description,
        opening=b.opening,
        working_days_only=b.working_days_only,
        slot_minutes=b.slot_minutes,
        capacity=b.capacity,
        advance_days=b.advance_days,
        min_notice_minutes=b.min_notice_minutes,
        per_person_open=b.per_person_open,
        cancel_minutes=b.cancel_minutes,
        no_show_limit=b.no_show_limit,
        no_show_days=b.no_show_days,
        ban_days=b.ban_days,
        active=b.active,
        url=f"/portal/bookings/{b.token}",
    )


def booking_out(booking: Booking, b: Bookable) -> BookingOut:
    return BookingOut(
        token=booking.token,
        bookable=b.token,
        bookable_name=b.name,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        state=booking.state,
        note=booking.note,
        cancel_until=booking_rules.cancel_deadline(b, booking),
        application_id=booking.application_id,
    )


@router.get("/portal/bookables", dependencies=[Depends(public)])
def list_bookables(
    session: ReadSession,
    kind: BookableKind | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[BookableOut]:
    rows, total = svc.listed(session, kind=kind, page=PageParams(limit=limit, offset=offset))
    return Paged(items=[bookable_out(b) for b in rows], total=total, limit=limit, offset=offset)


@router.get("/portal/bookables/{token}", dependencies=[Depends(public)])
def bookable_slots(
    token: str,
    session: ReadSession,
    start: date | None = None,
    days: Annotated[int, Query(ge=1, le=slots.MAX_DAYS_SHOWN)] = 7,
) -> SlotsOut:
    """The bookable and its slots that may be booked now, with the places left (county days)."""
    b = svc.get_by_token(session, token=token)
    found = slots.bookable_slots(session, bookable=b, now=utcnow(), days=days, start_day=start)
    return SlotsOut(
        bookable=bookable_out(b),
        days=[
            DayOut(
                day=d.isoformat(),
                slots=[SlotOut(starts_at=s.starts_at, ends_at=s.ends_at, capacity=s.capacity, left=s.left) for s in ss],
            )
            for d, ss in found
        ],
    )


@router.post("/portal/bookables/{token}/bookings", status_code=201)
def book(token: str, body: BookIn, session: WriteSession, a: Resident) -> BookingOut:
    b = svc.get_by_token(session, token=token)
    booking = svc.book(session, actor=a.actor, bookable_id=b.id, starts_at=body.starts_at, note=body.note)
    return booking_out(booking, b)


@router.get("/portal/bookings")
def my_bookings(
    session: ReadSession,
    a: Resident,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[BookingOut]:
    rows, total = svc.mine(session, user_id=a.user.id, page=PageParams(limit=limit, offset=offset))
    places = svc.names_of(session, [r.bookable_id for r in rows])
    return Paged(items=[booking_out(r, places[r.bookable_id]) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/portal/bookings/{token}/cancel")
def cancel_mine(token: str, session: WriteSession, a: Resident) -> BookingOut:
    booking = svc.cancel_own(session, actor=a.actor, token=token)
    return booking_out(booking, svc.get(session, bookable_id=booking.bookable_id))


# --- staff --------------------------------------------------------------------------------------


def _mine(session: Session, a: Auth, token: str) -> Bookable:
    return svc.for_staff(a.actor, svc.get_by_token(session, token=token, active_only=False))


@router.get("/portal/bookings/manage/bookables")
def department_bookables(
    session: ReadSession,
    a: Staff,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[BookableOut]:
    rows, total = svc.of_department(session, actor=a.actor, page=PageParams(limit=limit, offset=offset))
    return Paged(items=[bookable_out(b) for b in rows], total=total, limit=limit, offset=offset)


@router.post("/portal/bookings/manage/bookables", status_code=201)
def create_bookable(body: BookableIn, session: WriteSession, a: Staff) -> BookableOut:
    return bookable_out(svc.create(session, actor=a.actor, data=body))


@router.put("/portal/bookings/manage/bookables/{token}")
def update_bookable(token: str, body: BookableIn, session: WriteSession, a: Staff) -> BookableOut:
    b = _mine(session, a, token)
    return bookable_out(svc.update_bookable(session, actor=a.actor, bookable_id=b.id, data=body))


@router.post("/portal/bookings/manage/bookables/{token}/active")
def set_active(token: str, body: ActiveIn, session: WriteSession, a: Staff) -> BookableOut:
    b = _mine(session, a, token)
    return bookable_out(svc.set_active(session, actor=a.actor, bookable_id=b.id, active=body.active))


@router.get("/portal/bookings/manage/bookables/{token}/day")
def day_bookings(token: str, session: ReadSession, a: Staff, day: date | None = None) -> list[StaffBookingOut]:
    """One county day's bookings (today by default), residents' phones masked."""
    b = _mine(session, a, token)
    rows = svc.day_view(session, bookable=b, day=day or slots.local_today(utcnow()))
    return [
        StaffBookingOut(id=r.booking.id, resident=r.resident, phone=r.phone, **booking_out(r.booking, b).model_dump())
        for r in rows
    ]


def _staff_out(session: Session, booking: Booking) -> BookingOut:
    return booking_out(booking, svc.get(session, bookable_id=booking.bookable_id))


@router.post("/portal/bookings/manage/bookings/{token}/check_in")
def check_in(token: str, session: WriteSession, a: Staff) -> BookingOut:
    return _staff_out(session, svc.check_in(session, actor=a.actor, token=token))


@router.post("/portal/bookings/manage/bookings/{token}/no_show")
def no_show(token: str, session: WriteSession, a: Staff) -> BookingOut:
    return _staff_out(session, svc.mark_no_show(session, actor=a.actor, token=token))


@router.post("/portal/bookings/manage/bookings/{token}/cancel")
def cancel_by_staff(token: str, body: StaffCancelIn, session: WriteSession, a: Staff) -> BookingOut:
    return _staff_out(session, svc.cancel_by_staff(session, actor=a.actor, token=token, reason=body.reason))


@router.post("/portal/bookings/manage/bookings/{token}/application")
def link_application(token: str, body: ApplicationLinkIn, session: WriteSession, a: Staff) -> BookingOut:
    booking = svc.link_application(session, actor=a.actor, token=token, application_id=body.application_id)
    return _staff_out(session, booking)
