"""民宿 occupancy reports: bounds, one a day (a second replaces the first, with audit), only the keeper;
occupancy by village and month; the holiday report's sums."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent
from countyos.village.models.tourism import HomestayReport, SpotDaily
from countyos.village.permissions import TOURISM_REPORT
from countyos.village.schemas.tourism import HomestayIn
from countyos.village.service import tourism_holidays, tourism_stays
from countyos.village.service.tourism_flow import local_day
from tests.factories import csrf_from, login, person, token_for
from tests.sensing.conftest import FACTORY
from tests.village.tourism_helpers import gate

__all__ = ["gate"]

API = "/api/v1/village/tourism"


def house(db, keeper_id, rooms=6, village="大田村"):
    with db.unit_of_work() as s:
        return tourism_stays.create(
            s,
            actor=FACTORY,
            data=HomestayIn(
                name=f"测试民宿{rooms}{village}", village_name=village, rooms=rooms, beds=rooms * 2, keeper_id=keeper_id
            ),
        ).id


def test_keeper_reports_within_bounds_and_a_second_report_replaces_the_first(client, db):
    keeper = person(db, ["scenic_manager"])
    hid = house(db, keeper.id)
    auth = {"Authorization": f"Bearer {token_for(db, keeper, [TOURISM_REPORT])}"}
    today = local_day(utcnow()).isoformat()
    url = f"{API}/homestays/{hid}/reports"
    assert client.post(url, json={"day": today, "rooms_occupied": 7, "guests": 2}, headers=auth).status_code == 422
    assert client.post(url, json={"day": today, "rooms_occupied": -1, "guests": 2}, headers=auth).status_code == 422
    future = (local_day(utcnow()) + timedelta(days=1)).isoformat()
    assert client.post(url, json={"day": future, "rooms_occupied": 1, "guests": 2}, headers=auth).status_code == 422
    old = (local_day(utcnow()) - timedelta(days=61)).isoformat()
    assert client.post(url, json={"day": old, "rooms_occupied": 1, "guests": 2}, headers=auth).status_code == 422
    ok = client.post(url, json={"day": today, "rooms_occupied": 6, "guests": 11, "revenue": 1800}, headers=auth)
    assert ok.status_code == 200, ok.text
    again = client.post(url, json={"day": today, "rooms_occupied": 4, "guests": 8}, headers=auth)
    assert again.status_code == 200 and again.json()["rooms_occupied"] == 4
    with db.reading() as s:
        rows = s.scalars(select(HomestayReport).where(HomestayReport.homestay_id == hid)).all()
        assert len(rows) == 1 and rows[0].rooms_occupied == 4 and rows[0].revenue is None
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "village.tourism.homestay.report")).all()
        assert len(audits) == 2 and audits[-1].detail["replaced"]["rooms_occupied"] == 6


def test_another_keeper_cannot_report(client, db):
    hid = house(db, person(db, ["scenic_manager"]).id)
    auth = {"Authorization": f"Bearer {token_for(db, person(db, ['scenic_manager']), [TOURISM_REPORT])}"}
    today = local_day(utcnow()).isoformat()
    r = client.post(
        f"{API}/homestays/{hid}/reports", json={"day": today, "rooms_occupied": 1, "guests": 1}, headers=auth
    )
    assert r.status_code == 404


def test_the_phone_form_reports_and_shows_errors_beside_the_field(client, db):
    keeper = person(db, ["scenic_manager"])
    hid = house(db, keeper.id, rooms=3)
    csrf = login(client, keeper)
    page = client.get("/village/tourism/my")
    assert page.status_code == 200 and f"tourism-my-stay-{hid}" in page.text
    today = local_day(utcnow()).isoformat()
    bad = client.post(
        f"/village/tourism/my/homestays/{hid}/report",
        data={"day": today, "rooms_occupied": "5", "guests": "3", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'id="error-rooms_occupied"' in bad.text and 'value="5"' in bad.text
    good = client.post(
        f"/village/tourism/my/homestays/{hid}/report",
        data={"day": today, "rooms_occupied": "2", "guests": "3", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert good.status_code == 303


def test_occupancy_by_village_and_month(db):
    keeper = person(db, ["scenic_manager"])
    a, b = house(db, keeper.id, rooms=4), house(db, keeper.id, rooms=6, village="独山村")
    day = local_day(utcnow()) - timedelta(days=1)
    with db.unit_of_work() as s:
        s.add_all([
            HomestayReport(homestay_id=a, day=day, rooms_occupied=2, guests=4, revenue=400),
            HomestayReport(homestay_id=b, day=day, rooms_occupied=6, guests=12, revenue=None),
        ])  # fmt: skip
    with db.reading() as s:
        out = {o.village: o for o in tourism_stays.occupancy(s, start=day, end=day)}
        assert out["大田村"].rate == 50.0 and out["大田村"].revenue == 400
        assert out["独山村"].rate == 100.0 and out["独山村"].guests == 12
        assert out["大田村"].month == f"{day.year:04d}-{day.month:02d}"


def test_holiday_report_sums_days_spots_and_homestays(client, db, gate):
    keeper = person(db, ["scenic_manager"])
    hid = house(db, keeper.id)
    with db.unit_of_work() as s:
        for i, (visitors, peak, revenue) in enumerate([(100, 40, 8000.0), (250, 90, None), (50, 20, 4000.0)]):
            s.add(
                SpotDaily(
                    spot_id=gate.spot_id,
                    day=date(2026, 10, 1 + i),
                    entries=visitors,
                    exits=visitors,
                    peak=peak,
                    revenue=revenue,
                )
            )
        s.add(SpotDaily(spot_id=gate.spot_id, day=date(2026, 10, 8), entries=999, exits=0, peak=1))  # after the holiday
        s.add(HomestayReport(homestay_id=hid, day=date(2026, 10, 2), rooms_occupied=5, guests=9, revenue=1500))
        s.add(HomestayReport(homestay_id=hid, day=date(2026, 10, 3), rooms_occupied=6, guests=12, revenue=1800))
    with db.reading() as s:
        rep = tourism_holidays.report(s, code="2026-national-day")
    assert (rep.visitors, rep.spot_revenue, rep.homestay_guests, rep.homestay_revenue) == (400, 12000.0, 21, 3300.0)
    assert [r.peak for r in rep.rows] == [40, 90, 20]
    days = tourism_holidays.by_day(rep)
    assert [d["revenue"] for d in days] == [8000.0, None, 4000.0]
    login(client, person(db, ["tourism_officer"]))
    assert client.get(f"{API}/holidays/2026-national-day").json()["visitors"] == 400
    page = client.get("/village/tourism/holidays/2026-national-day")
    assert page.status_code == 200 and "12000.00" in page.text
    xlsx = client.get("/village/tourism/holidays/2026-national-day.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = client.get("/village/tourism/holidays/2026-national-day.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert client.get("/village/tourism/holidays/no-such").status_code == 404
