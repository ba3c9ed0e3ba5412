"""The rules a booking must meet, each refusal naming its rule (``rule`` in the problem+json answer).

Every rule is data on the ``Bookable``: the advance window (``advance_days``: today plus that many
local days), the minimum notice (``min_notice_minutes``), the open bookings one person may hold
(``per_person_open``), the places per slot (``capacity``), the cancellation deadline
(``cancel_minutes`` before the slot) and the no-show penalty: ``no_show_limit`` no-shows at the same
place within ``no_show_days`` bar the person from booking it for ``ban_days`` from the no-show that
reached the limit (the no-shows that started a ban do not count towards the next one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core import errors
from countyos.core.clock import as_utc, to_local
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.portal.booking_lifecycle import OPEN, TAKES_PLACE
from countyos.portal.models import Bookable, Booking, BookingState
from countyos.portal.service import slots

MAX_NO_SHOWS_READ = 500


class Rule:
    """The names of the rules, as the API reports them."""

    INACTIVE = "inactive"
    CLOSED = "closed"  # no slot begins then (closed day, holiday, outside the opening hours)
    ADVANCE = "advance_days"
    NOTICE = "min_notice_minutes"
    PER_PERSON = "per_person_open"
    CAPACITY = "capacity"
    SAME_SLOT = "same_slot"
    BANNED = "no_show_ban"
    CANCEL_DEADLINE = "cancel_minutes"


class BookingRefused(errors.Conflict):
    """409: a booking rule refused; ``rule`` says which."""

    code: ClassVar[str] = "booking_refused"
    title: ClassVar[str] = N_("The booking rules do not allow this")

    def __init__(self, message: str, /, *, rule: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.rule = rule

    def extra(self) -> dict[str, Any]:
        return {"rule": self.rule}


def local_text(value: datetime) -> str:
    return to_local(value, get_settings().timezone).strftime("%Y-%m-%d %H:%M")


def check_slot(bookable: Bookable, *, starts_at: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The slot beginning at STARTS_AT, if it is open, in the advance window and far enough ahead."""
    if not bookable.active:
        raise BookingRefused(N_("%(name)s is not taking bookings now"), rule=Rule.INACTIVE, name=bookable.name)
    start = as_utc(starts_at)
    day = to_local(start, get_settings().timezone).date()
    if day > slots.last_day(bookable, now):
        raise BookingRefused(
            N_("Bookings open %(days)s days ahead: the last day you can book now is %(day)s"),
            rule=Rule.ADVANCE,
            days=bookable.advance_days,
            day=slots.last_day(bookable, now).isoformat(),
        )
    slot = slots.slot_at(bookable, start)
    if slot is None:
        raise BookingRefused(N_("There is no time slot then: the place is closed"), rule=Rule.CLOSED)
    if start < as_utc(now) + timedelta(minutes=bookable.min_notice_minutes):
        raise BookingRefused(
            N_("Book at least %(minutes)s minutes before the time slot begins"),
            rule=Rule.NOTICE,
            minutes=bookable.min_notice_minutes,
        )
    return slot


@dataclass(frozen=True)
class Ban:
    until: datetime  # UTC


def ban_of(session: Session, *, bookable: Bookable, user_id: int, now: datetime) -> Ban | None:
    """The person's ban from BOOKABLE in force at NOW, if any."""
    if bookable.no_show_limit <= 0:
        return None
    window = timedelta(days=bookable.no_show_days)
    horizon = as_utc(now) - timedelta(days=bookable.ban_days) - 2 * window
    when = func.coalesce(Booking.changed_at, Booking.ends_at)
    times = [
        as_utc(t)
        for t in session.scalars(
            select(when)
            .where(
                Booking.bookable_id == bookable.id,
                Booking.user_id == user_id,
                Booking.state == BookingState.NO_SHOW,
                when >= horizon,
            )
            .order_by(when)
            .limit(MAX_NO_SHOWS_READ)
        )
    ]
    counted: list[datetime] = []
    until: datetime | None = None
    for t in times:
        counted = [c for c in counted if c >= t - window] + [t]
        if len(counted) >= bookable.no_show_limit:
            until, counted = t + timedelta(days=bookable.ban_days), []
    return Ban(until) if until is not None and until > as_utc(now) else None


def check_person(session: Session, *, bookable: Bookable, user_id: int, starts_at: datetime, now: datetime) -> None:
    """The no-show ban, the same slot twice and the open bookings the person holds at this place."""
    ban = ban_of(session, bookable=bookable, user_id=user_id, now=now)
    if ban is not None:
        raise BookingRefused(
            N_(
                "You did not come to %(limit)s bookings within %(days)s days: you can book %(name)s again "
                "from %(until)s"
            ),
            rule=Rule.BANNED,
            limit=bookable.no_show_limit,
            days=bookable.no_show_days,
            name=bookable.name,
            until=local_text(ban.until),
        )
    mine = select(func.count()).where(Booking.bookable_id == bookable.id, Booking.user_id == user_id)
    if session.scalar(mine.where(Booking.starts_at == as_utc(starts_at), Booking.state.in_(list(TAKES_PLACE)))):
        raise BookingRefused(N_("You have already booked this time slot"), rule=Rule.SAME_SLOT)
    open_now = session.scalar(mine.where(Booking.state.in_(list(OPEN)), Booking.ends_at > as_utc(now))) or 0
    if open_now >= bookable.per_person_open:
        raise BookingRefused(
            N_("You may hold %(n)s open bookings here at a time: cancel one or wait until it has passed"),
            rule=Rule.PER_PERSON,
            n=bookable.per_person_open,
        )


def check_capacity(session: Session, *, bookable: Bookable, starts_at: datetime) -> None:
    """The places left at the slot; call it with the bookable row locked."""
    taken = slots.taken(session, bookable_id=bookable.id, starts=[starts_at]).get(as_utc(starts_at), 0)
    if taken >= bookable.capacity:
        raise BookingRefused(N_("This time slot is full: choose another"), rule=Rule.CAPACITY)


def cancel_deadline(bookable: Bookable, booking: Booking) -> datetime:
    return as_utc(booking.starts_at) - timedelta(minutes=bookable.cancel_minutes)


def check_cancel(bookable: Bookable, booking: Booking, *, now: datetime) -> None:
    """A resident cancels before the deadline; after it, the refusal says when it was (county time)."""
    deadline = cancel_deadline(bookable, booking)
    if as_utc(now) > deadline:
        raise BookingRefused(
            N_(
                "Bookings here can be cancelled until %(minutes)s minutes before the slot: "
                "the deadline was %(deadline)s"
            ),
            rule=Rule.CANCEL_DEADLINE,
            minutes=bookable.cancel_minutes,
            deadline=local_text(deadline),
        )
