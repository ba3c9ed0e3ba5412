"""The bookings API (``portal/api/bookings.py`` under /api/v1):
public bookables and slots, a resident books and cancels, a refusal is problem+json naming the rule,
staff of the department check in and no one else; two residents racing for the last place."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from countyos.core.clock import utcnow
from countyos.portal.models import Booking
from countyos.portal.service import bookings, slots
from countyos.portal.service.booking_rules import BookingRefused
from tests.factories import person, token_for
from tests.portal.test_bookings import ALL_DAY, World, make, new_world, resident

API = "/api/v1/portal"


@pytest.fixture
def world(db) -> World:
    return new_world(db)


@pytest.fixture
def api(app):
    return app


def bearer(db, p, scopes):
    return {"Authorization": f"Bearer {token_for(db, p, scopes)}"}


def test_public_slots_book_cancel_and_refusals(client, api, db, world: World) -> None:
    make(db, world, name="会议室", kind="meeting_room", opening=ALL_DAY, slot_minutes=60, min_notice_minutes=0)
    r = client.get(f"{API}/bookables", params={"kind": "meeting_room"})
    assert r.status_code == 200 and r.json()["total"] == 1
    token = r.json()["items"][0]["token"]
    r = client.get(f"{API}/bookables/{token}", params={"days": 2})
    assert r.status_code == 200
    days = r.json()["days"]
    assert len(days) == 2 and days[1]["slots"][0]["left"] == 1  # today may have no slot left (after 23:00)
    slot = days[1]["slots"][3]["starts_at"]
    assert client.post(f"{API}/bookables/{token}/bookings", json={"starts_at": slot}).status_code == 401
    me = person(db, ["resident"])
    h = bearer(db, me, ["portal.self"])
    r = client.post(f"{API}/bookables/{token}/bookings", json={"starts_at": slot, "note": "部门例会"}, headers=h)
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["state"] == "booked" and booking["bookable_name"] == "会议室"
    other = bearer(db, person(db, ["resident"]), ["portal.self"])
    r = client.post(f"{API}/bookables/{token}/bookings", json={"starts_at": slot}, headers=other)
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "booking_refused" and r.json()["rule"] == "capacity"
    far = (utcnow() + timedelta(days=30)).isoformat()
    r = client.post(f"{API}/bookables/{token}/bookings", json={"starts_at": far}, headers=other)
    assert r.status_code == 409 and r.json()["rule"] == "advance_days"
    assert client.get(f"{API}/bookings", headers=h).json()["total"] == 1
    r = client.post(f"{API}/bookings/{booking['token']}/cancel", headers=other)
    assert r.status_code == 404  # not hers
    r = client.post(f"{API}/bookings/{booking['token']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    r = client.post(f"{API}/bookings/{booking['token']}/cancel", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"


def test_staff_manage_their_department_only(client, api, db, world: World) -> None:
    keeper = bearer(db, world.keeper, ["portal.booking.manage"])
    other = bearer(db, world.other_keeper, ["portal.booking.manage"])
    body = {"kind": "venue", "name": "篮球场", "opening": {"6": ["08:00-12:00"]}, "slot_minutes": 60}
    r = client.post(f"{API}/bookings/manage/bookables", json=body, headers=keeper)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    bad = {**body, "opening": {"8": ["08:00-12:00"]}}
    assert client.post(f"{API}/bookings/manage/bookables", json=bad, headers=keeper).status_code == 422
    assert client.put(f"{API}/bookings/manage/bookables/{token}", json=body, headers=other).status_code == 404
    assert client.get(f"{API}/bookings/manage/bookables", headers=other).json()["total"] == 0
    r = client.put(f"{API}/bookings/manage/bookables/{token}", json={**body, "capacity": 4}, headers=keeper)
    assert r.status_code == 200 and r.json()["capacity"] == 4
    me_p, _ = resident(db)
    with db.unit_of_work() as s:
        b = bookings.get_by_token(s, token=token)
        start = utcnow() - timedelta(minutes=10)
        s.add(Booking(bookable_id=b.id, user_id=me_p.id, starts_at=start, ends_at=start + timedelta(hours=1), note=""))
    day = slots.local_today(start).isoformat()
    rows = client.get(f"{API}/bookings/manage/bookables/{token}/day", params={"day": day}, headers=keeper).json()
    assert len(rows) == 1 and rows[0]["resident"] == f"测试{me_p.username}"
    bt = rows[0]["token"]
    assert client.post(f"{API}/bookings/manage/bookings/{bt}/check_in", headers=other).status_code == 404
    resident_h = bearer(db, me_p, ["portal.self"])
    assert client.post(f"{API}/bookings/manage/bookings/{bt}/check_in", headers=resident_h).status_code == 403
    r = client.post(f"{API}/bookings/manage/bookings/{bt}/check_in", headers=keeper)
    assert r.status_code == 200 and r.json()["state"] == "checked_in"
    r = client.post(f"{API}/bookings/manage/bookable/{token}/active", json={"active": False}, headers=keeper)
    assert r.status_code == 404
    r = client.post(f"{API}/bookings/manage/bookables/{token}/active", json={"active": False}, headers=keeper)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"{API}/bookables/{token}").status_code == 404


@pytest.mark.committed  # two transactions of their own, in parallel
def test_two_residents_racing_for_the_last_place_do_not_both_get_it(db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, slot_minutes=60, min_notice_minutes=0, capacity=1)
    with db.reading() as s:
        b = s.get_one(bookings.Bookable, bid)
        first = slots.bookable_slots(s, bookable=b, now=utcnow(), days=2)[1][1][2].starts_at
    racers = [resident(db)[1] for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def race(actor) -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                bookings.book(s, actor=actor, bookable_id=bid, starts_at=first)
            outcomes.append("booked")
        except BookingRefused as exc:
            outcomes.append(exc.rule)

    threads = [threading.Thread(target=race, args=(a,)) for a in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["booked", "capacity"]
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Booking).where(Booking.bookable_id == bid)) == 1
