"""The air API: the public calculator and its refusals (problem+json), stations with their latest hour,
hourly and daily ranges with their bounds, the editor's writes and recomputation, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from countyos.core.clock import utcnow
from countyos.eco.service import air_compute
from tests.eco.test_air_flow import BASE, _register, flat, post_hours
from tests.factories import person, token_for

API = "/api/v1/eco/air"
MANAGE = ["eco.monitor.read", "eco.monitor.manage"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_calculator_is_public_and_answers_every_index(client):
    r = client.post(f"{API}/aqi", json={"averaging": "hour", "concentrations": {"pm25": 80, "pm10": 150, "o3": 100}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["aqi"] == 107 and body["iaqi"] == {"o3": 32, "pm10": 100, "pm25": 107}
    assert body["primary"] == ["pm25"] and body["exceeding"] == ["pm25"]
    assert (body["level"], body["level_name"], body["category"], body["colour"]) == (3, "三级", "轻度污染", "#ff7e00")
    day = client.post(f"{API}/aqi", json={"averaging": "day", "concentrations": {"o3_8h": 900, "o3_1h": 900}})
    assert day.json()["substituted"] == {"o3_8h": "1h"} and day.json()["aqi"] == 350
    so2 = client.post(f"{API}/aqi", json={"averaging": "hour", "concentrations": {"so2": 900}, "so2_24h": 500})
    assert so2.json()["iaqi"] == {"so2": 154}


@pytest.mark.parametrize(
    "body",
    [
        {"averaging": "hour", "concentrations": {"pm25": -1}},
        {"averaging": "hour", "concentrations": {"pm25": 1e9}},
        {"averaging": "hour", "concentrations": {}},
        {"averaging": "hour", "concentrations": {"o3_8h": 10}},  # a daily key in an hourly request
        {"averaging": "day", "concentrations": {"o3": 10}},
        {"averaging": "week", "concentrations": {"pm25": 10}},
        {"averaging": "hour", "concentrations": {"lead": 1}},
        {"averaging": "day", "concentrations": {"pm25": 10}, "so2_24h": 10},
        {"averaging": "hour", "concentrations": {"pm25": 10}, "extra": 1},
    ],
)
def test_the_calculator_refuses_bad_input_as_problem_json(client, body):
    r = client.post(f"{API}/aqi", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_stations_need_the_monitoring_permissions(client, db):
    r = client.get(f"{API}/stations")
    assert r.status_code == 401
    chief = token_for(db, person(db, ["river_chief"]), ["eco.rivers.read"])
    assert client.get(f"{API}/stations", headers=bearer(chief)).status_code == 403
    leader = token_for(db, person(db, ["leader"]), ["eco.monitor.read"])
    assert client.get(f"{API}/stations", headers=bearer(leader)).status_code == 200
    thing_id, _ = _register(db)
    body = {"code": "AQ-X", "name": "测试站", "thing_id": thing_id}
    assert client.post(f"{API}/stations", json=body, headers=bearer(leader)).status_code == 403


def test_the_editor_adds_a_station_reads_its_hours_and_recomputes(client, db):
    thing_id, device_token = _register(db)
    keeper = token_for(db, person(db, ["eco_monitor"]), MANAGE)
    h = bearer(keeper)
    r = client.post(f"{API}/stations", json={"code": "AQ-01", "name": "城区站", "thing_id": thing_id}, headers=h)
    assert r.status_code == 201, r.text
    station = r.json()
    assert set(station["streams"]) == {"so2", "no2", "co", "o3", "pm10", "pm25"} and station["latest"] is None
    dup = client.post(f"{API}/stations", json={"code": "AQ-01", "name": "又一个", "thing_id": thing_id}, headers=h)
    assert dup.status_code == 422 and {e["field"] for e in dup.json()["errors"]} == {"code", "thing_id"}
    now = utcnow()
    start = air_compute.hour_floor(now) - timedelta(hours=4)
    post_hours(client, device_token, start, 4, flat)
    c = client.post(f"{API}/stations/{station['id']}/compute",
                    json={"start": start.isoformat(), "end": now.isoformat()}, headers=h)  # fmt: skip
    assert c.status_code == 200 and c.json()["hours"] == 4 and c.json()["exceedances"] == 0
    listed = client.get(f"{API}/stations", headers=h).json()
    (mine,) = [s for s in listed if s["id"] == station["id"]]
    assert mine["latest"]["aqi"] == 50 and mine["latest"]["concentrations"]["pm25"] == BASE["pm25"]
    hours = client.get(f"{API}/stations/{station['id']}/hourly", headers=h).json()
    assert len(hours) == 4 and all(x["valid"] for x in hours) and hours[0]["category"] == "优"
    daily = client.get(f"{API}/stations/{station['id']}/daily", headers=h).json()
    # 4 hours make no valid day (20 are needed); a local midnight inside them completes a day without an AQI
    assert len(daily) <= 1 and all(d["aqi"] is None and not d["valid"] for d in daily)
    # replace: another kind and place; the streams stay found by name
    body = {"code": "AQ-01", "name": "城区站", "thing_id": thing_id, "kind": "national", "place": "县政府"}
    put = client.put(f"{API}/stations/{station['id']}", headers=h, json=body)
    assert put.status_code == 200 and put.json()["kind"] == "national" and put.json()["place"] == "县政府"


def test_ranges_and_ids_are_bounded(client, db):
    keeper = token_for(db, person(db, ["eco_monitor"]), MANAGE)
    h = bearer(keeper)
    thing_id, _ = _register(db)
    sid = client.post(
        f"{API}/stations", json={"code": "AQ-02", "name": "边界站", "thing_id": thing_id}, headers=h
    ).json()["id"]
    now = utcnow()
    too_long = {"start": (now - timedelta(days=40)).isoformat(), "end": now.isoformat()}
    assert client.get(f"{API}/stations/{sid}/hourly", params=too_long, headers=h).status_code == 422
    assert client.get(f"{API}/stations/{sid}/daily", params=too_long, headers=h).status_code == 200
    backwards = {"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()}
    assert client.get(f"{API}/stations/{sid}/hourly", params=backwards, headers=h).status_code == 422
    assert client.post(f"{API}/stations/{sid}/compute", json=too_long, headers=h).status_code == 422
    naive = {"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00"}
    assert client.post(f"{API}/stations/{sid}/compute", json=naive, headers=h).status_code == 422
    assert client.get(f"{API}/stations/999999/hourly", headers=h).status_code == 404
    assert client.get(f"{API}/stations/0/hourly", headers=h).status_code == 422
    wrong = client.post(f"{API}/stations", json={"code": "bad code!", "name": "x", "thing_id": 1}, headers=h)
    assert wrong.status_code == 422
    not_air = client.post(f"{API}/stations", json={"code": "AQ-03", "name": "非空气站", "thing_id": 999999}, headers=h)
    assert not_air.status_code == 422 and not_air.json()["errors"][0]["field"] == "thing_id"
