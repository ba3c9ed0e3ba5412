"""Fixtures of the traffic tests: a parking sensor (occupied spaces) registered with its device token and a
lot of 100 spaces attached to it; road files written in memory (GeoJSON, zipped Shapefile)."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from countyos.core.db import Database
from countyos.safety.schemas.traffic import ParkingLotIn
from countyos.safety.service import traffic_parking
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests.factories import person, token_for
from tests.sensing.conftest import FACTORY

INGEST = "/api/v1/sensing/ingest"
API = "/api/v1/safety/traffic"
SENSOR = DeviceSpec(
    device_key="parking-test-01",
    name="测试停车场车位检测器",
    device_class="parking",
    lon=119.27,
    lat=28.59,
    expected_interval_s=300,
    metrics=(MetricSpec("occupied", "已占车位", "spaces", "个", valid_min=0, valid_max=1000),),
)


@dataclass
class Sensor:
    lot_id: int
    datastream_id: int
    token: str


@pytest.fixture
def sensor(db: Database) -> Sensor:
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=SENSOR)
        ds = {d.metric: d.id for d in devices.datastreams_of(s, thing_id=thing.id)}
        _, token = devices.issue_token(s, actor=FACTORY, thing_id=thing.id, name="parking")
        lot = traffic_parking.create_lot(
            s,
            actor=FACTORY,
            data=ParkingLotIn(
                name="测试停车场",
                lon=119.27,
                lat=28.59,
                capacity=100,
                charging=10,
                device_key=SENSOR.device_key,
                metric="occupied",
            ),
        )
        return Sensor(lot.id, ds["occupied"], token)


def post_occupied(client: Any, sensor: Sensor, items: list[tuple[datetime, float]]) -> None:
    body = {
        "observations": [
            {"device": SENSOR.device_key, "metric": "occupied", "time": at.isoformat(), "value": v} for at, v in items
        ]
    }
    r = client.post(INGEST, json=body, headers={"X-Device-Token": sensor.token})
    assert r.status_code == 200, r.text


def keeper(db: Database) -> dict[str, str]:
    """Bearer headers of a traffic officer's token (read and manage)."""
    p = person(db, ["traffic_officer"])
    return {"Authorization": f"Bearer {token_for(db, p, ['safety.traffic.read', 'safety.traffic.manage'])}"}


def reader(db: Database) -> dict[str, str]:
    p = person(db, ["leader"])
    return {"Authorization": f"Bearer {token_for(db, p, ['safety.traffic.read'])}"}


def geojson_bytes(features: list[dict[str, Any]], crs: str | None = None) -> bytes:
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(fc, ensure_ascii=False).encode()


def line_feature(coords: list[tuple[float, float]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props}


def zipped_shapefile(lines: list[Any], fields: dict[str, list[Any]], epsg: int) -> bytes:
    """A zipped Shapefile of LINES (shapely, in EPSG) with FIELDS."""
    from pyogrio import raw

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roads.shp"
        raw.write(
            str(path),
            geometry=np.asarray(shapely.to_wkb(np.asarray(lines, dtype=object)), dtype=object),
            field_data=[np.asarray(v, dtype=object) for v in fields.values()],
            fields=list(fields),
            crs=f"EPSG:{epsg}",
            driver="ESRI Shapefile",
            geometry_type="LineString",
            encoding="UTF-8",
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for f in Path(tmp).iterdir():
                z.write(f, f.name)
        return buf.getvalue()
