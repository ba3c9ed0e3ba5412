"""The demo county's bookings (预约): 大田村文化礼堂 and 大柘镇全民健身中心's badminton courts (kept by a
venue keeper of 大柘镇), a meeting room and two window appointments of the county 政务服务中心 (kept by
the window clerk ``window``; one names a published online matter of the demo catalogue). The demo
resident has booked a few: one window appointment checked in last week, a court she did not come to,
and coming ones at the hall and the window.

``load(session, ctx)`` runs after the org and services demos (departments, the ``window`` clerk, the
published matters); without the ``resident`` account it makes one with the role ``resident``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.org.service import audit, users
from countyos.portal.models import Bookable, BookableKind, Booking, BookingState
from countyos.portal.schemas.bookings import BookableIn
from countyos.portal.service import bookings, slots
from countyos.services.models import MatterStatus
from countyos.services.service import catalogue

DEMO = Actor(id=None, name="demo")
TOWN = "大柘镇人民政府"
CENTRE = "县政务服务中心"
KEEPER = ("venue_dz", "大柘镇 场馆预约管理员 郑志强", TOWN)
WORKDAYS = {str(d): ["08:30-12:00", "13:30-17:00"] for d in range(1, 6)}


def _keeper(session: Session, ctx: DemoContext) -> Actor | None:
    """The org demo's keeper of 大柘镇's halls and courts (``org.demo.PEOPLE``) as an actor."""
    username, _name, dep_name = KEEPER
    user = users.get_by_username(session, username=username)
    if user is None or ctx.department_ids.get(dep_name) != user.department_id:
        return None
    return Actor(
        id=user.id, name=user.display_name, permissions=frozenset({bookings.MANAGE}), department_id=user.department_id
    )


def _window(session: Session, ctx: DemoContext) -> Actor | None:
    uid = ctx.user_ids.get("window")
    if uid is None:
        return None
    user = users.get(session, user_id=uid)
    return Actor(
        id=user.id,
        name=user.display_name,
        permissions=frozenset({bookings.MANAGE, "services.application.window"}),
        department_id=user.department_id,
    )


def _resident(session: Session, ctx: DemoContext) -> Actor:
    uid = ctx.user_ids.get("resident")
    if uid is None:
        user = users.create_by_phone(
            session, actor=DEMO, phone="13905780888", display_name="张秀英", role_codes=["resident"]
        )
        uid = ctx.user_ids["resident"] = user.id
    return Actor(id=uid, name="张秀英", permissions=frozenset({bookings.SELF}))


def _online_matter(session: Session) -> int | None:
    for m in catalogue.all_matters(session):
        if m.status == MatterStatus.PUBLISHED and m.current is not None and m.current.online:
            return m.id
    return None


def _past(session: Session, b: Bookable, user_id: int, days_ago: int, state: BookingState, by: int | None) -> None:
    """A booking of a slot DAYS_AGO days back (the rules forbid booking the past: written as it was)."""
    today = slots.local_today(utcnow())
    for back in range(days_ago, days_ago + 14):
        found = slots.day_slots(b, today - timedelta(days=back))
        if found:
            start, end = found[min(2, len(found) - 1)]
            break
    else:
        return
    changed = end + timedelta(minutes=35) if state is BookingState.NO_SHOW else start + timedelta(minutes=5)
    booking = Booking(
        bookable_id=b.id,
        user_id=user_id,
        starts_at=start,
        ends_at=end,
        state=state,
        note="",
        created_at=start - timedelta(days=2),
        changed_at=changed,
        changed_by_id=by,
    )
    session.add(booking)
    session.flush()
    audit.record(
        session,
        actor=DEMO,
        action=f"portal.booking.{'check_in' if state is BookingState.CHECKED_IN else 'no_show'}",
        target_type="booking",
        target_id=booking.id,
        detail={"demo": True},
    )


def _coming(session: Session, b: Bookable, me: Actor, note: str, skip_days: int) -> None:
    now = utcnow()
    start_day = slots.local_today(now) + timedelta(days=skip_days)
    for _, found in slots.bookable_slots(session, bookable=b, now=now, days=slots.MAX_DAYS_SHOWN, start_day=start_day):
        free = [s for s in found if s.left]
        if free:
            pick: datetime = free[len(free) // 2].starts_at
            bookings.book(session, actor=me, bookable_id=b.id, starts_at=pick, note=note)
            return


def load(session: Session, ctx: DemoContext) -> None:
    keeper, window = _keeper(session, ctx), _window(session, ctx)
    if keeper is None or window is None or window.department_id is None:
        return
    me = _resident(session, ctx)
    matter_id = _online_matter(session)
    hall = bookings.create(
        session,
        actor=keeper,
        data=BookableIn(
            kind=BookableKind.CULTURE_HALL,
            name="大田村文化礼堂",
            description="可容纳约200人，村民议事、文艺排练、红白喜事均可预约；请爱护设施，用后打扫。",
            opening={str(d): ["08:30-11:30", "13:30-16:30", "18:00-21:00"] for d in range(1, 8)},
            slot_minutes=180,
            capacity=1,
            advance_days=14,
            min_notice_minutes=24 * 60,
            per_person_open=1,
            cancel_minutes=24 * 60,
        ),
    )
    courts = bookings.create(
        session,
        actor=keeper,
        data=BookableIn(
            kind=BookableKind.VENUE,
            name="大柘镇全民健身中心 羽毛球场",
            description="室内羽毛球场两片，每次一小时，自带球拍。",
            opening={str(d): ["08:00-12:00", "14:00-21:00"] for d in range(1, 8)},
            slot_minutes=60,
            capacity=2,
            advance_days=7,
            min_notice_minutes=30,
            per_person_open=2,
            cancel_minutes=120,
            no_show_limit=3,
            no_show_days=30,
            ban_days=14,
        ),
    )
    bookings.create(
        session,
        actor=window,
        data=BookableIn(
            kind=BookableKind.MEETING_ROOM,
            name="县政务服务中心 三楼小会议室",
            description="12座，带投影，供企业和群众开展政务咨询洽谈使用。",
            opening=WORKDAYS,
            working_days_only=True,
            slot_minutes=60,
            capacity=1,
            advance_days=10,
        ),
    )
    appointment = bookings.create(
        session,
        actor=window,
        data=BookableIn(
            kind=BookableKind.WINDOW,
            name="综合窗口预约办理",
            description="预约后请按时到县政务服务中心一楼取号，出示预约记录即可优先办理。",
            matter_id=matter_id,
            opening=WORKDAYS,
            working_days_only=True,
            slot_minutes=30,
            capacity=3,
            advance_days=7,
            min_notice_minutes=60,
            per_person_open=2,
            cancel_minutes=60,
        ),
    )
    bookings.create(
        session,
        actor=window,
        data=BookableIn(
            kind=BookableKind.WINDOW,
            name="不动产登记窗口预约",
            description="抵押、转移登记请先预约，按预约时段到二楼不动产窗口。",
            opening=WORKDAYS,
            working_days_only=True,
            slot_minutes=20,
            capacity=2,
            advance_days=5,
        ),
    )
    assert me.id is not None
    _past(session, appointment, me.id, 6, BookingState.CHECKED_IN, window.id)
    _past(session, courts, me.id, 3, BookingState.NO_SHOW, None)
    _coming(session, hall, me, "村老年协会排练越剧", 3)
    _coming(session, appointment, me, "", 1)
    ctx.notes.append(
        "Bookings: residents book at /portal/bookings; staff (venue_dz, window) keep them at /portal/bookings/manage"
    )
