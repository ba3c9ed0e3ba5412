"""The air pages: the monitoring view with the map, the county's AQI, stations and open exceedances; a
station's trends and hourly table with invalid hours marked; the editor that keeps what was typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.eco.models.air import AirStation
from countyos.eco.service import air_compute
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator)
from tests.eco.test_air_flow import _register, post_hours
from tests.factories import login, person


def _station_with_hours(client, db, csrf, haze=False):
    thing_id, token = _register(db)
    r = client.post("/eco/air/stations/new", data={"csrf_token": csrf, "code": "AQ-P1", "name": "页面测试站",
                                                   "thing_id": str(thing_id), "kind": "county", "active": "1"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    with db.reading() as s:
        sid = s.scalar(select(AirStation.id).where(AirStation.code == "AQ-P1"))
    assert r.headers["location"] == f"/eco/air/stations/{sid}"
    start = air_compute.hour_floor(utcnow()) - timedelta(hours=4)

    def values(h, m):
        return {"pm25": 130.0 if haze and h >= 2 else 30.0}.get(m, 10.0)

    post_hours(client, token, start, 4, values, skip={(1, "no2")}, csrf=csrf)
    return sid, thing_id


@pytest.mark.usefixtures("_fake_geo")
def test_monitoring_view_shows_stations_aqi_and_exceedances(client, db):
    csrf = login(client, person(db, ["eco_monitor"]))
    sid, _ = _station_with_hours(client, db, csrf, haze=True)
    r = client.post(f"/eco/air/stations/{sid}/compute", data={"csrf_token": csrf, "days": "1"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = client.get("/eco/monitor")
    assert page.status_code == 200
    html = page.text
    assert 'id="eco-station-table"' in html and f'href="/eco/air/stations/{sid}"' in html and "页面测试站" in html
    assert "中度污染" in html and "172" in html  # the station's latest hour and its level
    assert 'id="eco-exceedance-table"' in html and "/cases/" in html
    assert 'id="eco-monitor-map"' in html and 'fill="#ff0000"' in html  # the station on the map, red
    assert 'href="/eco/monitor"' in html  # the navigation entry


def test_station_page_draws_trends_and_marks_invalid_hours(client, db):
    csrf = login(client, person(db, ["eco_monitor"]))
    sid, thing_id = _station_with_hours(client, db, csrf)
    client.post(f"/eco/air/stations/{sid}/compute", data={"csrf_token": csrf, "days": "1"})
    page = client.get(f"/eco/air/stations/{sid}")
    assert page.status_code == 200
    html = page.text
    for chart in ("eco-chart-aqi-hours", "eco-chart-aqi-days", "eco-chart-pm25", "eco-chart-o3"):
        assert f'id="{chart}"' in html
    assert (
        'id="eco-hourly-table"' in html and 'class="badge bad eco-invalid" data-minutes="40"' in html
    )  # NO2 of hour 1: 40 minutes
    assert f'href="/sensing/devices/{thing_id}"' in html and 'id="eco-station-edit"' in html


def test_the_editor_keeps_what_was_typed_and_shows_each_error(client, db):
    csrf = login(client, person(db, ["eco_monitor"]))
    sid, thing_id = _station_with_hours(client, db, csrf)
    form = client.get("/eco/air/stations/new")
    assert form.status_code == 200 and 'id="station-form"' in form.text
    r = client.post("/eco/air/stations/new", data={"csrf_token": csrf, "code": "AQ-P1", "name": "重复站",
                                                   "thing_id": str(thing_id), "kind": "micro",
                                                   "division_code": "12"})  # fmt: skip
    assert r.status_code == 422
    assert 'id="error-division_code"' in r.text and 'value="重复站"' in r.text
    r = client.post("/eco/air/stations/new", data={"csrf_token": csrf, "code": "AQ-P1", "name": "重复站",
                                                   "thing_id": str(thing_id), "kind": "micro"})  # fmt: skip
    assert r.status_code == 422 and 'id="error-code"' in r.text and 'id="error-thing_id"' in r.text
    assert 'value="micro" selected' in r.text
    edit = client.get(f"/eco/air/stations/{sid}/edit")
    assert edit.status_code == 200 and 'value="AQ-P1"' in edit.text
    r = client.post(f"/eco/air/stations/{sid}/edit", data={"csrf_token": csrf, "code": "AQ-P1", "name": "改名站",
                                                           "thing_id": str(thing_id), "kind": "micro"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with db.reading() as s:
        st = s.get(AirStation, sid)
        assert st.name == "改名站" and not st.active and st.kind == "micro"


def test_pages_need_the_monitoring_permissions(client, db):
    login(client, person(db, ["river_chief"]))
    assert client.get("/eco/monitor").status_code == 403
    assert client.get("/eco/air/stations/new").status_code == 403


def test_a_reader_sees_the_view_but_not_the_editor(client, db):
    login(client, person(db, ["leader"]))
    page = client.get("/eco/monitor")
    assert page.status_code == 200 and 'id="eco-station-new"' not in page.text
    assert client.get("/eco/air/stations/new").status_code == 403
