"""Booking rules at their edges: the last place then full, the per-person limit, the advance window,
the minimum notice, the cancellation deadline, the no-show ban (starts at the limit-th no-show, ends
after ban_days), holidays closed; the no-show job; what the integration gets (of_person, forget_person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.errors import NotFound
from countyos.core.workcal import calendar
from countyos.org.models import AuditEvent
from countyos.portal import jobs
from countyos.portal.models import Bookable, Booking, BookingState, Message, MessageKind
from countyos.portal.schemas.bookings import BookableIn
from countyos.portal.service import bookings, slots
from countyos.portal.service.booking_rules import BookingRefused, Rule
from tests.factories import Person, department, person

TZ = ZoneInfo("Asia/Shanghai")
ALL_DAY = {str(d): ["00:00-24:00"] for d in range(1, 8)}
OFFICE = {str(d): ["08:30-12:00", "13:30-17:30"] for d in range(1, 6)}


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=TZ)


@dataclass
class World:
    dep: int
    other_dep: int
    keeper: Person
    other_keeper: Person

    def staff(self, p: Person | None = None) -> Actor:
        p = p or self.keeper
        dep = self.dep if p is self.keeper else self.other_dep
        return Actor(id=p.id, name=p.username, permissions=frozenset({bookings.MANAGE}), department_id=dep)


def resident(db: Database, phone: str | None = None) -> tuple[Person, Actor]:
    p = person(db, ["resident"], phone=phone)
    return p, Actor(id=p.id, name=p.username, permissions=frozenset({bookings.SELF}))


def new_world(db: Database) -> World:
    dep, other = department(db, "测试镇人民政府"), department(db, "测试文体局")
    return World(
        dep=dep,
        other_dep=other,
        keeper=person(db, ["venue_keeper"], department_id=dep),
        other_keeper=person(db, ["venue_keeper"], department_id=other),
    )


def make(db: Database, w: World, **rules: Any) -> int:
    data: dict[str, Any] = {"kind": "venue", "name": "测试羽毛球场", "opening": OFFICE, **rules}
    with db.unit_of_work() as s:
        return bookings.create(s, actor=w.staff(), data=BookableIn.model_validate(data)).id


def add_booking(db: Database, bookable_id: int, user_id: int, start: datetime, end: datetime, **cols: Any) -> int:
    """A booking row as it would be later (past slots, no-shows) without the rules."""
    with db.unit_of_work() as s:
        bk = Booking(bookable_id=bookable_id, user_id=user_id, starts_at=start, ends_at=end, note="", **cols)
        bk.state = cols.get("state", BookingState.BOOKED)
        s.add(bk)
        s.flush()
        return bk.id


def state_of(db: Database, booking_id: int) -> BookingState:
    with db.reading() as s:
        return s.get_one(Booking, booking_id).state


def bookable(db: Database, bookable_id: int) -> Bookable:
    with db.reading() as s:
        b = s.scalars(select(Bookable).where(Bookable.id == bookable_id)).one()
        s.expunge(b)
        return b


@pytest.fixture
def world(db: Database) -> World:
    return new_world(db)


MONDAY = local(2026, 9, 28, 8, 0)  # a working Monday; Thursday 1 October is 国庆


def book(db, bookable_id, actor, start, now=MONDAY, note=""):
    with db.unit_of_work() as s:
        return bookings.book(s, actor=actor, bookable_id=bookable_id, starts_at=start, note=note, now=now).id


def refused(db, bookable_id, actor, start, now=MONDAY) -> BookingRefused:
    with pytest.raises(BookingRefused) as exc:
        book(db, bookable_id, actor, start, now)
    return exc.value


def test_the_last_place_then_full(db, world: World) -> None:
    bid = make(db, world, capacity=2)
    slot = local(2026, 9, 29, 9, 0)
    (_, a), (_, b), (_, c) = resident(db), resident(db), resident(db)
    book(db, bid, a, slot)
    book(db, bid, b, slot)  # the last place
    assert refused(db, bid, c, slot).rule == Rule.CAPACITY
    with db.reading() as s:
        got = dict(slots.bookable_slots(s, bookable=s.get_one(bookings.Bookable, bid), now=MONDAY, days=2))
    day = got[slot.date()]
    assert [x.left for x in day if x.starts_at == slot] == [0]
    assert all(x.left == 2 for x in day if x.starts_at != slot)


def test_a_cancelled_booking_frees_its_place(db, world: World) -> None:
    bid = make(db, world, capacity=1, cancel_minutes=0)
    slot = local(2026, 9, 29, 9, 0)
    (_, a), (_, b) = resident(db), resident(db)
    first = book(db, bid, a, slot)
    assert refused(db, bid, b, slot).rule == Rule.CAPACITY
    with db.unit_of_work() as s:
        bookings.cancel_own(s, actor=a, token=s.get_one(Booking, first).token, now=MONDAY)
    book(db, bid, b, slot)


def test_per_person_open_limit_and_the_same_slot_twice(db, world: World) -> None:
    bid = make(db, world, capacity=5, per_person_open=2)
    _, me = resident(db)
    book(db, bid, me, local(2026, 9, 29, 9))
    assert refused(db, bid, me, local(2026, 9, 29, 9)).rule == Rule.SAME_SLOT
    book(db, bid, me, local(2026, 9, 30, 9))
    assert refused(db, bid, me, local(2026, 9, 30, 10)).rule == Rule.PER_PERSON
    # once the first slot has passed it no longer counts as open
    later = local(2026, 9, 29, 10, 1)
    book(db, bid, me, local(2026, 9, 30, 10), now=later)


def test_the_advance_window_last_day_and_the_day_after(db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, advance_days=3, min_notice_minutes=0)
    _, me = resident(db)
    book(db, bid, me, local(2026, 10, 1, 23, 30))  # Monday + 3 days: the last bookable day, its last slot
    err = refused(db, bid, me, local(2026, 10, 2, 0, 0))  # the day after
    assert err.rule == Rule.ADVANCE and "2026-10-01" in err.message
    with db.reading() as s:
        days = slots.bookable_slots(s, bookable=s.get_one(bookings.Bookable, bid), now=MONDAY, days=14)
    assert [d.isoformat() for d, _ in days] == ["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-01"]


def test_minimum_notice(db, world: World) -> None:
    bid = make(db, world, capacity=3, min_notice_minutes=60)
    _, me = resident(db)
    now = local(2026, 9, 28, 8, 0)
    assert refused(db, bid, me, local(2026, 9, 28, 8, 30), now=now).rule == Rule.NOTICE
    book(db, bid, me, local(2026, 9, 28, 9, 0), now=now)  # exactly 60 minutes ahead
    _, you = resident(db)
    assert refused(db, bid, you, local(2026, 9, 28, 9, 0), now=now + timedelta(minutes=1)).rule == Rule.NOTICE


def test_a_time_that_is_not_a_slot_is_refused(db, world: World) -> None:
    bid = make(db, world)
    _, me = resident(db)
    assert refused(db, bid, me, local(2026, 9, 29, 9, 10)).rule == Rule.CLOSED  # not a slot start
    assert refused(db, bid, me, local(2026, 9, 29, 12, 30)).rule == Rule.CLOSED  # the lunch break
    assert refused(db, bid, me, local(2026, 10, 3, 9, 0)).rule == Rule.CLOSED  # Saturday: no hours


def test_the_cancellation_deadline_one_minute_before_and_after(db, world: World) -> None:
    bid = make(db, world, capacity=5, cancel_minutes=120)
    (_, a), (_, b) = resident(db), resident(db)
    slot = local(2026, 9, 29, 11, 0)  # deadline 09:00 that day
    first, second = book(db, bid, a, slot), book(db, bid, b, slot)
    with db.unit_of_work() as s:
        done = bookings.cancel_own(s, actor=a, token=s.get_one(Booking, first).token, now=local(2026, 9, 29, 8, 59))
        assert done.state is BookingState.CANCELLED
    with db.unit_of_work() as s, pytest.raises(BookingRefused) as exc:
        bookings.cancel_own(s, actor=b, token=s.get_one(Booking, second).token, now=local(2026, 9, 29, 9, 1))
    assert exc.value.rule == Rule.CANCEL_DEADLINE and "2026-09-29 09:00" in exc.value.message
    assert state_of(db, second) is BookingState.BOOKED
    # somebody else's booking is not found
    with db.unit_of_work() as s, pytest.raises(NotFound):
        bookings.cancel_own(s, actor=a, token=s.get_one(Booking, second).token, now=MONDAY)


def test_the_no_show_ban_starts_at_the_limit_and_ends_after_ban_days(db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, no_show_limit=2, no_show_days=30, ban_days=10, advance_days=60)
    me_p, me = resident(db)
    old = local(2026, 8, 1, 9)  # more than 30 days before the next one: does not count with it
    add_booking(db, bid, me_p.id, old, old + timedelta(hours=1), state=BookingState.NO_SHOW, changed_at=old)
    first = local(2026, 9, 10, 10)
    add_booking(db, bid, me_p.id, first, first + timedelta(hours=1), state=BookingState.NO_SHOW, changed_at=first)
    book(db, bid, me, local(2026, 9, 29, 9))  # one no-show within 30 days: still allowed
    second = local(2026, 9, 28, 7, 0)  # the limit-th: the ban starts, until 8 October 07:00
    add_booking(db, bid, me_p.id, second, second, state=BookingState.NO_SHOW, changed_at=second)
    err = refused(db, bid, me, local(2026, 9, 30, 9))
    assert err.rule == Rule.BANNED and "2026-10-08 07:00" in err.message
    assert refused(db, bid, me, local(2026, 10, 9, 9), now=local(2026, 10, 8, 6, 59)).rule == Rule.BANNED
    book(db, bid, me, local(2026, 10, 9, 9), now=local(2026, 10, 8, 7, 1))  # the ban is over
    # the no-shows that started the ban do not start another one
    book(db, bid, me, local(2026, 10, 9, 10), now=local(2026, 10, 8, 7, 2))


def test_closed_on_holidays_when_working_days_only(db, world: World) -> None:
    bid = make(db, world, working_days_only=True, advance_days=30, min_notice_minutes=0, slot_minutes=60)
    _, me = resident(db)
    now = local(2026, 9, 30, 7, 0)
    with db.reading() as s:
        b = s.get_one(bookings.Bookable, bid)
        days = dict(slots.bookable_slots(s, bookable=b, now=now, days=14))
    assert len(days[local(2026, 9, 30).date()]) == 7  # Wednesday: 08:30 … 16:30 by the hour
    assert all(not days[local(2026, 10, d).date()] for d in range(1, 8))  # 国庆
    assert calendar().day_kind(local(2026, 10, 10).date()).value == "adjusted_workday"
    assert len(days[local(2026, 10, 10).date()]) == 7  # 调休上班 Saturday: Monday's hours
    assert refused(db, bid, me, local(2026, 10, 1, 9), now=now).rule == Rule.CLOSED
    book(db, bid, me, local(2026, 10, 10, 9, 30), now=now)
    # the same rules without working_days_only: open on the holiday's weekday
    other = make(db, world, advance_days=30)
    book(db, other, me, local(2026, 10, 1, 9), now=now)


def test_the_job_marks_no_shows_30_minutes_after_the_slot(db, world: World) -> None:
    bid = make(db, world)
    me_p, _ = resident(db)
    start = local(2026, 9, 28, 9)
    late = add_booking(db, bid, me_p.id, start, start + timedelta(hours=1))
    came = add_booking(db, bid, me_p.id, start, start + timedelta(hours=1), state=BookingState.CHECKED_IN)
    with db.unit_of_work() as s:
        assert bookings.sweep_no_shows(s, now=local(2026, 9, 28, 10, 29)) == 0
    assert state_of(db, late) is BookingState.BOOKED
    assert jobs.mark_no_shows(db) == 1  # now is long after
    assert (state_of(db, late), state_of(db, came)) == (BookingState.NO_SHOW, BookingState.CHECKED_IN)
    assert jobs.mark_no_shows(db) == 0
    with db.reading() as s:
        ev = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "portal.booking.no_show", AuditEvent.target_id == str(late))
        ).one()
        assert (ev.actor_id, ev.actor_name) == (None, "schedule")
        msgs = [(m.kind, m.title, m.body) for m in s.scalars(select(Message).where(Message.user_id == me_p.id))]
    assert [m[:2] for m in msgs] == [(MessageKind.BOOKING, "You did not come to your booking")]
    assert "测试羽毛球场" in msgs[0][2] and "09:00" in msgs[0][2]


def test_booking_is_audited_and_the_resident_told(db, world: World) -> None:
    bid = make(db, world)
    me_p, me = resident(db)
    booking_id = book(db, bid, me, local(2026, 9, 29, 9), note="  两人  ")
    with db.reading() as s:
        bk = s.get_one(Booking, booking_id)
        assert (bk.note, bk.state, bk.ends_at) == ("两人", BookingState.BOOKED, local(2026, 9, 29, 9, 30))
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "portal.booking.book")).one()
        assert ev.actor_id == me_p.id and ev.target_id == str(booking_id)
        msg = s.scalars(select(Message).where(Message.user_id == me_p.id)).one()
        assert msg.kind is MessageKind.BOOKING and msg.link == "/portal/me/bookings" and msg.extra["translate"]


def test_of_person_and_forget_person(db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, advance_days=30, capacity=3, min_notice_minutes=0)
    me_p, me = resident(db)
    past = local(2026, 9, 1, 9)
    kept = add_booking(db, bid, me_p.id, past, past + timedelta(hours=1), state=BookingState.CHECKED_IN)
    with db.unit_of_work() as s:
        s.get_one(Booking, kept).note = "带两位老人"
    with db.unit_of_work() as s:
        b = s.get_one(bookings.Bookable, bid)
        free = [x for _, ss in slots.bookable_slots(s, bookable=b, now=utcnow(), days=3) for x in ss]
        coming = bookings.book(s, actor=me, bookable_id=bid, starts_at=free[3].starts_at, note="排练").id
    with db.reading() as s:
        assert [x.id for x in bookings.of_person(s, user_id=me_p.id, limit=10)] == [coming, kept]
        assert [x.id for x in bookings.of_person(s, user_id=me_p.id, limit=1)] == [coming]
    with db.unit_of_work() as s:
        assert bookings.forget_person(s, actor=world.staff(), user_id=me_p.id) == 1
    with db.reading() as s:
        rows = {x.id: (x.state, x.note) for x in s.scalars(select(Booking).where(Booking.user_id == me_p.id))}
    assert rows == {kept: (BookingState.CHECKED_IN, ""), coming: (BookingState.CANCELLED, "")}
