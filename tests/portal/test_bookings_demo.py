"""The demo's bookings load: five bookables over two departments, a window appointment naming a
published online matter, the demo resident's past (checked in, not come) and coming bookings."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.demo import DemoContext
from countyos.org.models import AuditEvent
from countyos.portal import demo_bookings
from countyos.portal.models import Bookable, BookableKind, Booking, BookingState
from tests.factories import department, person
from tests.services.conftest import Shop
from tests.services.pages.test_desk import published


def test_the_demo_bookings_without_a_resident_account(db) -> None:
    ctx = DemoContext()
    town, centre = department(db, demo_bookings.TOWN), department(db, demo_bookings.CENTRE)
    ctx.department_ids |= {demo_bookings.TOWN: town, demo_bookings.CENTRE: centre}
    ctx.user_ids["window"] = person(db, ["services_window"], department_id=centre).id
    keeper = person(db, ["venue_keeper"], username=demo_bookings.KEEPER[0], department_id=town)  # as org.demo makes
    mid, _ = published(db, Shop(market=department(db, "测试市场监督管理局"), centre=centre))
    with db.unit_of_work() as s:
        demo_bookings.load(s, ctx)
    uid = ctx.user_ids["resident"]  # made by the loader, with the role resident
    with db.reading() as s:
        rows = list(s.scalars(select(Bookable).order_by(Bookable.id)))
        assert [b.kind for b in rows].count(BookableKind.WINDOW) == 2 and len(rows) == 5
        assert {b.department_id for b in rows} == {town, centre}
        assert [b.matter_id for b in rows if b.kind is BookableKind.WINDOW] == [mid, None]
        states = sorted(b.state for b in s.scalars(select(Booking).where(Booking.user_id == uid)))
    assert states == sorted([BookingState.CHECKED_IN, BookingState.NO_SHOW, BookingState.BOOKED, BookingState.BOOKED])
    with db.reading() as s:  # the town's halls and courts were set up by its keeper
        assert s.scalars(select(AuditEvent).where(AuditEvent.actor_id == keeper.id)).first() is not None
