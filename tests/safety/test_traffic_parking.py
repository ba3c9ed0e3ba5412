"""Parking occupancy from observations posted through the ingest API and the SensorThings API: the latest
value gives occupied, free, rate and level; clipped to the capacity; 数据中断 after 30 minutes; today's
hourly curve from the rollups; the public list with no internal field."""

from __future__ import annotations

from datetime import timedelta

from countyos.core.clock import utcnow
from countyos.safety.service import traffic_parking
from tests.safety.traffic_helpers import API, Sensor, keeper, post_occupied, reader, sensor
from tests.sensing.sta_helpers import machine

__all__ = ["sensor"]


def live(client, db, sensor: Sensor) -> dict:
    r = client.get(f"{API}/lots/{sensor.lot_id}/live", headers=reader(db))
    assert r.status_code == 200, r.text
    out: dict = r.json()
    return out


def test_latest_value_gives_occupied_free_rate_level(client, db, sensor):
    assert live(client, db, sensor)["live"]["level"] == "none"  # attached, nothing reported yet
    now = utcnow().replace(microsecond=0)
    post_occupied(client, sensor, [(now - timedelta(minutes=3), 40), (now - timedelta(minutes=2), 65)])
    body = live(client, db, sensor)["live"]
    assert (body["occupied"], body["free"], body["rate"], body["level"]) == (65, 35, 65.0, "free")
    # through SensorThings: a newer value
    r = client.post(
        f"/sta/v1.1/Datastreams({sensor.datastream_id})/Observations",
        json={"phenomenonTime": (now - timedelta(minutes=1)).isoformat(), "result": 72},
        headers=machine(db),
    )
    assert r.status_code == 201, r.text
    body = live(client, db, sensor)["live"]
    assert (body["occupied"], body["free"], body["level"]) == (72, 28, "tight")
    post_occupied(client, sensor, [(now, 95)])
    assert live(client, db, sensor)["live"]["level"] == "full"
    # more than the lot holds: shown as full, marked clipped
    post_occupied(client, sensor, [(now + timedelta(seconds=5), 130)])
    body = live(client, db, sensor)["live"]
    assert (body["occupied"], body["free"], body["rate"], body["clipped"]) == (100, 0, 100.0, True)
    # today's curve: hourly means from the rollups
    curve = live(client, db, sensor)["today"]
    assert curve and all(0 <= p["occupied"] <= 100 for p in curve)


def test_stale_after_thirty_minutes(client, db, sensor):
    old = utcnow().replace(microsecond=0) - timedelta(minutes=31)
    post_occupied(client, sensor, [(old, 20)])
    body = live(client, db, sensor)["live"]
    assert body["level"] == "stale" and body["free"] is None and body["occupied"] is None
    # the pure rule at its edges
    fresh = traffic_parking.occupancy(100, 20, old, now=old + timedelta(minutes=30))
    assert fresh.level == "free" and fresh.free == 80
    assert traffic_parking.occupancy(100, 20, old, now=old + timedelta(minutes=30, seconds=1)).level == "stale"
    assert traffic_parking.occupancy(100, 69.6, old, now=old).level == "tight"  # 70 spaces of 100
    assert traffic_parking.occupancy(100, -4, old, now=old).occupied == 0
    # the public list says 数据中断, never free spaces
    lots = client.get(f"{API}/parking").json()
    mine = next(x for x in lots if x["name"] == "测试停车场")
    assert (
        mine["free"] is None and mine["level"] == "stale" and mine["level_words"] in {"数据中断", "No data"}
    )  # zh once the catalogue has it


def test_lots_crud_and_public_fields(client, db, sensor):
    h = keeper(db)
    body = {"name": "城南路内泊位", "kind": "street", "lon": 119.28, "lat": 28.58, "capacity": 40, "fee": "首小时免费"}
    r = client.post(f"{API}/lots", json=body, headers=h)
    assert r.status_code == 201, r.text
    lot = r.json()
    assert lot["live"]["has_sensor"] is False and lot["live"]["level"] == "none"
    bad = client.post(f"{API}/lots", json={**body, "device_key": "nope-01", "metric": "occupied"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "device_key"
    assert client.post(f"{API}/lots", json={**body, "charging": 41}, headers=h).status_code == 422
    r = client.put(f"{API}/lots/{lot['id']}", json={**body, "public": False, "capacity": 50}, headers=h)
    assert r.status_code == 200 and r.json()["capacity"] == 50
    public = client.get(f"{API}/parking").json()
    assert "城南路内泊位" not in {x["name"] for x in public}
    row = next(x for x in public if x["name"] == "测试停车场")
    assert set(row) == {
        "name", "kind", "kind_words", "lon", "lat", "address", "capacity", "charging", "fee", "hours",
        "free", "rate", "level", "level_words", "updated_at",
    }  # fmt: skip
    assert client.post(f"{API}/lots", json=body, headers=reader(db)).status_code == 403
    assert client.delete(f"{API}/lots/{lot['id']}", headers=h).status_code == 204
    assert client.get(f"{API}/lots/{lot['id']}", headers=h).status_code == 404
