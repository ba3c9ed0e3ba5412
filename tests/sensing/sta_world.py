"""A small SensorThings world built through the API (deep insert), for the read tests.

Two Things with known names, locations, datastreams and observations, so that every query of the
read tests has one exact answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from countyos.core.db import Database
from tests.harness import Baseline

STA = "/sta/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def _datastream(name: str, unit: str, symbol: str, sensor: str, prop: str, observations: list[Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} stream",
        "observationType": MEASUREMENT,
        "unitOfMeasurement": {"name": unit, "symbol": symbol, "definition": f"http://example.org/{unit}"},
        "Sensor": {"name": sensor, "description": f"{sensor} sensor", "encodingType": "text/plain", "metadata": sensor},
        "ObservedProperty": {"name": prop, "definition": f"http://example.org/{prop}", "description": prop},
        "Observations": observations,
    }


GAUGE = {
    "name": "妙高溪水位站",
    "description": "river gauge",
    "properties": {"river": "妙高溪", "level": 2},
    "Locations": [
        {
            "name": "妙高桥",
            "description": "bridge",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [119.27, 28.59]},
        }
    ],
    "Datastreams": [
        _datastream(
            "水位",
            "metre",
            "m",
            "radar",
            "water level",
            [{"phenomenonTime": f"2026-05-01T0{h}:00:00Z", "result": 1.0 + h / 10} for h in range(6)],
        ),
        _datastream("电量", "percent", "%", "bms", "battery", []),
    ],
}
RAIN = {
    "name": "北界雨量站",
    "description": "rain gauge",
    "properties": {"river": "北界溪", "level": 1},
    "Locations": [
        {
            "name": "北界村",
            "description": "village",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [119.21, 28.62]},
        }
    ],
    "Datastreams": [
        _datastream(
            "降雨量",
            "millimetre",
            "mm",
            "tipping bucket",
            "rainfall",
            [{"phenomenonTime": f"2026-05-02T1{h}:00:00Z", "result": float(h * 2)} for h in range(3)],
        )
    ],
}


@dataclass
class StaWorld:
    gauge: int  # Thing ids
    rain: int
    level: int  # Datastream ids
    battery: int
    rainfall: int


def build(client: TestClient, headers: dict[str, str]) -> StaWorld:
    ids = []
    for body in (GAUGE, RAIN):
        r = client.post(f"{STA}/Things", json=body, headers=headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["@iot.id"])
    streams = {d["name"]: d["@iot.id"] for d in client.get(f"{STA}/Datastreams").json()["value"]}
    return StaWorld(ids[0], ids[1], streams["水位"], streams["电量"], streams["降雨量"])


def _committed(db: Database, _built: dict[str, Any]) -> StaWorld:
    """The world committed once per run (the read tests share it; each test's changes roll back)."""
    from countyos.app import create_app
    from countyos.core.settings import get_settings
    from tests.sensing.sta_helpers import machine

    headers = machine(db)
    with TestClient(create_app(get_settings(), db), base_url="http://testserver") as client:
        return build(client, headers)


BASELINE = Baseline("sensorthings world", _committed)
