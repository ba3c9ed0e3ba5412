"""Time slots of a bookable, computed from its rules (data on the ``Bookable`` row).

``opening`` maps an ISO weekday ("1" Monday … "7" Sunday) to periods of county time such as
``["08:30-12:00", "13:30-17:30"]``; each period is cut into slots of ``slot_minutes`` (a last piece
shorter than a slot is not offered). With ``working_days_only`` the place is closed on the county's
holidays and weekends (``core.workcal``) and open on an adjusted working day (调休上班) with the hours of
its weekday, or Monday's when that weekday has none. Slots are computed in the county's time zone and
handed out in UTC; the places taken are counted from the bookings that are not cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.clock import as_utc
from countyos.core.settings import get_settings
from countyos.core.workcal import DayKind, WorkCalendar, calendar
from countyos.portal.booking_lifecycle import TAKES_PLACE
from countyos.portal.models import Bookable, Booking

PERIOD_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
MAX_DAYS_SHOWN = 14  # the pages and the API show at most this many days of slots at once
MAX_PERIODS = 6  # periods per weekday


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime
    capacity: int
    taken: int = 0

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def aware(value: datetime) -> datetime:
    """A time from a form or a request in UTC: without a zone it is county time."""
    return as_utc(value.replace(tzinfo=tz()) if value.tzinfo is None else value)


def local_today(now: datetime) -> date:
    return as_utc(now).astimezone(tz()).date()


def parse_period(text: str) -> tuple[time, time]:
    """``"08:30-12:00"`` → (08:30, 12:00); a ValueError for anything else or an empty period."""
    m = PERIOD_RE.match(text.strip())
    if m is None:
        raise ValueError(text)
    start = time(int(m.group(1)), int(m.group(2)))
    end = time(0, 0) if m.group(3) == "24" else time(int(m.group(3)), int(m.group(4)))
    if m.group(3) == "24" and m.group(4) != "00":
        raise ValueError(text)
    if end != time(0, 0) and end <= start:
        raise ValueError(text)
    return start, end


def periods_of(opening: dict[str, list[str]], weekday: int) -> list[tuple[time, time]]:
    return [parse_period(p) for p in opening.get(str(weekday), [])]


def is_open_day(bookable: Bookable, day: date, cal: WorkCalendar | None = None) -> bool:
    if not bookable.working_days_only:
        return bool(bookable.opening.get(str(day.isoweekday())))
    return (cal or calendar()).is_working_day(day)


def _day_periods(bookable: Bookable, day: date, cal: WorkCalendar) -> list[tuple[time, time]]:
    if not is_open_day(bookable, day, cal):
        return []
    periods = periods_of(bookable.opening, day.isoweekday())
    if not periods and bookable.working_days_only and cal.day_kind(day) is DayKind.ADJUSTED_WORKDAY:
        periods = periods_of(bookable.opening, 1)
    return periods


def day_slots(bookable: Bookable, day: date, cal: WorkCalendar | None = None) -> list[tuple[datetime, datetime]]:
    """The slots of one local day as (start, end) in UTC, in order."""
    cal = cal or calendar()
    zone = tz()
    step = timedelta(minutes=max(bookable.slot_minutes, 1))
    out: list[tuple[datetime, datetime]] = []
    for a, b in _day_periods(bookable, day, cal):
        start = datetime.combine(day, a, zone)
        end = datetime.combine(day + timedelta(days=1) if b == time(0, 0) else day, b, zone)
        while start + step <= end:
            out.append((as_utc(start), as_utc(start + step)))
            start += step
    return out


def slot_at(
    bookable: Bookable, starts_at: datetime, cal: WorkCalendar | None = None
) -> tuple[datetime, datetime] | None:
    """The slot beginning at STARTS_AT (any zone), or None when no slot begins then."""
    start = as_utc(starts_at)
    day = start.astimezone(tz()).date()
    return next((s for s in day_slots(bookable, day, cal) if s[0] == start), None)


def taken(session: Session, *, bookable_id: int, starts: Iterable[datetime]) -> dict[datetime, int]:
    """Places taken per slot start (bookings not cancelled)."""
    wanted = sorted({as_utc(s) for s in starts})
    if not wanted:
        return {}
    rows = session.execute(
        select(Booking.starts_at, func.count())
        .where(
            Booking.bookable_id == bookable_id,
            Booking.starts_at >= wanted[0],
            Booking.starts_at <= wanted[-1],
            Booking.state.in_(list(TAKES_PLACE)),
        )
        .group_by(Booking.starts_at)
    )
    return {as_utc(at): int(n) for at, n in rows}


def last_day(bookable: Bookable, now: datetime) -> date:
    """The last local day one may book now: today plus ``advance_days``."""
    return local_today(now) + timedelta(days=bookable.advance_days)


def bookable_slots(
    session: Session, *, bookable: Bookable, now: datetime, days: int = 7, start_day: date | None = None
) -> list[tuple[date, list[Slot]]]:
    """The next DAYS local days (at most ``MAX_DAYS_SHOWN``, not past the advance window) with the
    slots that may still be booked now (far enough ahead: ``min_notice_minutes``), places counted."""
    cal = calendar()
    first = max(start_day or local_today(now), local_today(now))
    last = min(first + timedelta(days=min(days, MAX_DAYS_SHOWN) - 1), last_day(bookable, now))
    earliest = as_utc(now) + timedelta(minutes=bookable.min_notice_minutes)
    out: list[tuple[date, list[tuple[datetime, datetime]]]] = []
    d = first
    while d <= last:
        out.append((d, [s for s in day_slots(bookable, d, cal) if s[0] >= earliest]))
        d += timedelta(days=1)
    counts = taken(session, bookable_id=bookable.id, starts=[s for _, ss in out for s, _ in ss])
    return [(d, [Slot(a, b, bookable.capacity, counts.get(a, 0)) for a, b in ss]) for d, ss in out]
