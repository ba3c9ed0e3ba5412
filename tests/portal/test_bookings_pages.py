"""Booking pages: a resident books through the pages and sees the confirmation, a refusal keeps what was
typed, a late cancellation says why with the deadline in county time; staff set up a bookable (bad
hours beside the field), check in (their department only, audited) and cancel with a reason; a window
appointment opens the services desk with the resident filled in and records the application made."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from countyos.org.models import AuditEvent
from countyos.portal.models import Bookable, Booking, BookingState, Message
from countyos.services.models import Application
from tests.factories import csrf_from, login, person
from tests.portal.test_bookings import ALL_DAY, World, make, new_world
from tests.portal.test_bookings import TZ as ALL_TZ
from tests.services.conftest import Shop
from tests.services.pages.test_desk import VALID_ID, form_for, published


@pytest.fixture
def world(db) -> World:
    return new_world(db)


FREE = re.compile(r'name="starts_at" value="([^"]+)">')


def token_of(db, bookable_id: int) -> str:
    with db.reading() as s:
        return s.get_one(Bookable, bookable_id).token


def only_booking(db, user_id: int) -> Booking:
    with db.reading() as s:
        bk = s.scalars(select(Booking).where(Booking.user_id == user_id)).one()
        s.expunge(bk)
        return bk


def test_a_resident_books_sees_the_confirmation_and_cannot_cancel_late(client, db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, slot_minutes=60, min_notice_minutes=0, cancel_minutes=7 * 24 * 60)
    token = token_of(db, bid)
    listing = client.get("/portal/bookings")
    assert listing.status_code == 200 and f'href="/portal/bookings/{token}"' in listing.text
    assert 'href="/portal/bookings?kind=venue"' in listing.text  # the kind chips
    page = client.get(f"/portal/bookings/{token}")  # public: the slots, and sign in to book
    assert page.status_code == 200 and 'id="pt-book-signin"' in page.text
    assert len(page.content) < 100_000
    me = person(db, ["resident"], phone="13905780011")
    login(client, me)
    page = client.get(f"/portal/bookings/{token}")
    slot = FREE.findall(page.text)[1]
    r = client.post(
        f"/portal/bookings/{token}",
        data={"csrf_token": csrf_from(page.text), "starts_at": slot, "note": "两位老人"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    bk = only_booking(db, me.id)
    assert r.headers["location"] == f"/portal/me/bookings/{bk.token}" and bk.note == "两位老人"
    done = client.get(r.headers["location"])
    assert 'id="pt-booking-state">已预约' in done.text and 'id="pt-cancel"' not in done.text  # already too late
    # the same slot again: refused at the top of the form, the note kept, 409
    r = client.post(
        f"/portal/bookings/{token}", data={"csrf_token": csrf_from(page.text), "starts_at": slot, "note": "再约一次"}
    )
    assert r.status_code == 409 and 'id="pt-form-error"' in r.text and "再约一次" in r.text
    mine = client.get("/portal/me/bookings")
    assert f"/portal/me/bookings/{bk.token}" in mine.text and "已过取消截止时间" in mine.text
    r = client.post(f"/portal/me/bookings/{bk.token}/cancel", data={"csrf_token": csrf_from(mine.text)})
    assert r.status_code == 409 and 'id="pt-cancel-error"' in r.text
    deadline = re.search(r"取消截止时间为(\d{4}-\d\d-\d\d \d\d:\d\d)", r.text)
    assert deadline is not None and only_booking(db, me.id).state is BookingState.BOOKED
    # another resident does not see it
    client.cookies.clear()
    login(client, person(db, ["resident"]))
    assert client.get(f"/portal/me/bookings/{bk.token}").status_code == 404


def test_staff_of_another_department_cannot_check_in(client, db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, slot_minutes=60, min_notice_minutes=0)
    token = token_of(db, bid)
    me = person(db, ["resident"], phone="13905780022")
    login(client, me)
    page = client.get(f"/portal/bookings/{token}")
    client.post(
        f"/portal/bookings/{token}", data={"csrf_token": csrf_from(page.text), "starts_at": FREE.findall(page.text)[0]}
    )
    bk = only_booking(db, me.id)
    client.cookies.clear()
    csrf = login(client, world.other_keeper)
    assert client.get(f"/portal/bookings/manage/b/{token}/day").status_code == 404
    r = client.post(f"/portal/bookings/manage/booking/{bk.token}/check_in", data={"csrf_token": csrf})
    assert r.status_code == 404 and only_booking(db, me.id).state is BookingState.BOOKED
    client.cookies.clear()
    csrf = login(client, world.keeper)
    day = client.get(
        f"/portal/bookings/manage/b/{token}/day", params={"day": bk.starts_at.astimezone(ALL_TZ).date().isoformat()}
    )
    assert day.status_code == 200 and f"测试{me.username}" in day.text and "139****0022" in day.text
    assert "13905780022" not in day.text
    r = client.post(
        f"/portal/bookings/manage/booking/{bk.token}/check_in", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    got = only_booking(db, me.id)
    assert got.state is BookingState.CHECKED_IN and got.changed_by_id == world.keeper.id and got.changed_at
    with db.reading() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "portal.booking.check_in")).one()
        assert ev.actor_id == world.keeper.id and ev.target_id == str(got.id)
    # checked in: neither cancelled nor marked as not come any more (409 on the day view)
    r = client.post(
        f"/portal/bookings/manage/booking/{bk.token}/cancel", data={"csrf_token": csrf, "reason": "场地维修"}
    )
    assert r.status_code == 409 and 'id="bk-action-error"' in r.text


def test_staff_cancel_with_a_reason_and_the_resident_is_told(client, db, world: World) -> None:
    bid = make(db, world, opening=ALL_DAY, slot_minutes=60, min_notice_minutes=0)
    token = token_of(db, bid)
    me = person(db, ["resident"])
    login(client, me)
    page = client.get(f"/portal/bookings/{token}")
    client.post(
        f"/portal/bookings/{token}", data={"csrf_token": csrf_from(page.text), "starts_at": FREE.findall(page.text)[0]}
    )
    bk = only_booking(db, me.id)
    client.cookies.clear()
    csrf = login(client, world.keeper)
    r = client.post(f"/portal/bookings/manage/booking/{bk.token}/cancel", data={"csrf_token": csrf, "reason": ""})
    assert r.status_code == 422 and 'role="alert">' in r.text  # a reason is needed
    r = client.post(
        f"/portal/bookings/manage/booking/{bk.token}/cancel",
        data={"csrf_token": csrf, "reason": "礼堂临时用于防汛物资存放"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and only_booking(db, me.id).state is BookingState.CANCELLED
    with db.reading() as s:
        told = [m.body for m in s.scalars(select(Message).where(Message.user_id == me.id)).all()]
    assert any("礼堂临时用于防汛物资存放" in b for b in told)


def test_staff_set_up_a_bookable_with_its_rules(client, db, world: World) -> None:
    csrf = login(client, world.keeper)
    assert client.get("/portal/bookings/manage/new").status_code == 200
    data = {
        "csrf_token": csrf, "kind": "culture_hall", "name": "大田村文化礼堂", "opening_1": "08:30-12:00, 25:00-26:00",
        "slot_minutes": "120", "capacity": "1", "advance_days": "14", "min_notice_minutes": "1440",
        "per_person_open": "1", "cancel_minutes": "1440", "no_show_limit": "2", "no_show_days": "60", "ban_days": "30",
    }  # fmt: skip
    r = client.post("/portal/bookings/manage/new", data=data)
    assert r.status_code == 422 and 'id="error-opening"' in r.text and "25:00-26:00" in r.text
    data["opening_1"] = "08:30-12:00，14:00-18:00"
    data["working_days_only"] = "1"
    r = client.post("/portal/bookings/manage/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.reading() as s:
        b = s.scalars(select(Bookable).where(Bookable.name == "大田村文化礼堂")).one()
        assert b.opening == {"1": ["08:30-12:00", "14:00-18:00"]} and b.working_days_only and b.slot_minutes == 120
        assert (b.department_id, b.no_show_limit, b.ban_days) == (world.dep, 2, 30)
        token = b.token
    listing = client.get("/portal/bookings/manage")
    assert "大田村文化礼堂" in listing.text
    r = client.post(
        f"/portal/bookings/manage/b/{token}/active", data={"csrf_token": csrf, "active": "0"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get(f"/portal/bookings/{token}").status_code == 404  # closed to residents
    # a matter is for window appointments only
    data |= {"kind": "meeting_room", "matter_id": "99"}
    r = client.post(f"/portal/bookings/manage/b/{token}", data=data)
    assert r.status_code == 422 and 'id="error-matter_id"' in r.text


def test_the_window_appointment_leads_to_the_desk_with_the_resident_filled_in(client, db, world: World) -> None:
    from countyos.portal.schemas.bookings import BookableIn
    from countyos.portal.service import bookings as svc
    from tests.factories import department

    shop = Shop(market=department(db, "测试市场监督管理局"), centre=department(db, "测试政务服务中心"))
    mid, mats = published(db, shop)
    clerk = person(db, ["services_window"], department_id=shop.centre)
    with db.unit_of_work() as s:
        actor = svc.Actor(id=clerk.id, name="窗口", permissions=frozenset({svc.MANAGE}), department_id=shop.centre)
        data = BookableIn(
            kind="window",
            name="食品经营许可预约",
            matter_id=mid,
            opening=ALL_DAY,
            slot_minutes=30,
            min_notice_minutes=0,
        )
        token = svc.create(s, actor=actor, data=data).token
    me = person(db, ["resident"], phone="13905780033")
    login(client, me)
    page = client.get(f"/portal/bookings/{token}")
    assert "食品经营许可（新办）" in page.text
    client.post(
        f"/portal/bookings/{token}", data={"csrf_token": csrf_from(page.text), "starts_at": FREE.findall(page.text)[0]}
    )
    bk = only_booking(db, me.id)
    client.cookies.clear()
    csrf = login(client, clerk)
    client.post(f"/portal/bookings/manage/booking/{bk.token}/check_in", data={"csrf_token": csrf})
    day = client.get(
        f"/portal/bookings/manage/b/{token}/day", params={"day": bk.starts_at.astimezone(ALL_TZ).date().isoformat()}
    )
    start = rf'<form method="post" action="/services/desk/start"[^>]*id="bk-desk-form-{bk.token}">(.*?)</form>'
    posted = re.search(start, day.text, re.S)
    assert posted is not None and not re.search(r'href="[^"]*13905780033', day.text)  # in no address
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', posted.group(1)))
    assert fields["matter_id"] == str(mid) and fields["applicant_name"] == f"测试{me.username}"
    assert fields["phone"] == "13905780033" and "13905780033" not in str(day.url)
    desk = client.post("/services/desk/start", data=fields)
    assert desk.status_code == 200 and 'id="desk-matter">食品经营许可（新办）' in desk.text
    assert f'value="测试{me.username}"' in desk.text and 'value="13905780033"' in desk.text
    then = fields["then"]
    assert f'name="then" value="{then}"' in desk.text
    assert (
        client.get("/services/desk", params={"matter_id": mid, "phone": "13905780033"}).text.count("13905780033") == 0
    )
    refused = client.post("/services/desk/start", data={**fields, "matter_id": "x"})
    assert refused.status_code == 422 and 'id="desk-matter"' not in refused.text
    form = form_for(
        mid, mats, csrf_from(desk.text), applicant_name=f"测试{me.username}", phone="13905780033", then=then
    )
    r = client.post("/services/desk", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"{then}?application=")
    app_id = int(r.headers["location"].rsplit("=", 1)[1])
    confirm = client.get(r.headers["location"])
    assert confirm.status_code == 200 and 'id="bk-link-record"' in confirm.text
    r = client.post(then, data={"csrf_token": csrf, "application_id": str(app_id)}, follow_redirects=False)
    assert r.status_code == 303
    assert only_booking(db, me.id).application_id == app_id
    with db.reading() as s:
        assert s.get_one(Application, app_id).id_number_index  # a real application, made at the desk
    # the desk takes only a path of this site as ``then``
    form["then"] = "//evil.example/x"
    r = client.post("/services/desk", data={**form, "id_number": VALID_ID}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/services/desk?done=")
