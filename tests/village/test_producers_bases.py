"""基地: area of a known polygon against the ellipsoid, imports of GeoJSON and zipped Shapefiles (all or
nothing), bad geometry refused as a field error; devices attached to a base and the tasks their alarms make."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from pyproj import Geod
from shapely.geometry import Polygon, mapping
from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.errors import ValidationFailed
from countyos.sensing.models import AlarmKind, Severity
from countyos.sensing.service import alarms, devices
from countyos.village.models.producers import Facility, ProductionBase, Task, TaskState
from countyos.village.schemas.producers import BaseIn
from countyos.village.service import producers_bases, producers_tasks
from tests import factories
from tests.harness import Baseline, Harness
from tests.village.producers_helpers import (
    BASELINE,
    BUREAU,
    ProducerWorld,
    square,
)

GEOD = Geod(ellps="GRS80")
API = "/api/v1/village"


@pytest.fixture(scope="session")
def producers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, producers_world_baseline: Baseline) -> ProducerWorld:
    w: ProducerWorld = harness.value(producers_world_baseline, db=db)
    return w


def _true_area(poly: Polygon) -> float:
    area, _ = GEOD.geometry_area_perimeter(poly)
    return abs(area)


def test_the_area_of_a_known_polygon(db: Database, world: ProducerWorld) -> None:
    poly = Polygon(
        [
            (world.lon, world.lat),
            (world.lon + 0.004, world.lat + 0.0005),
            (world.lon + 0.0035, world.lat + 0.003),
            (world.lon - 0.0005, world.lat + 0.0025),
        ]
    )
    with db.unit_of_work() as s:
        b = producers_bases.create_base(
            s,
            actor=BUREAU,
            body=BaseIn(entity_id=world.farm_id, name="茶园", facility=Facility.TEA_GARDEN,
                        product_codes=["tea_fresh"], geometry=mapping(poly)),
        )  # fmt: skip
        assert abs(b.area_m2 - _true_area(poly)) / _true_area(poly) < 0.005
        assert b.village_code == "331123105231" and b.code.startswith("JD")


def test_bad_geometry_is_a_field_error_and_nothing_is_written(client, db: Database, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    bow = {
        "type": "Polygon",
        "coordinates": [[[world.lon, world.lat], [world.lon + 0.001, world.lat + 0.001], [world.lon, world.lat]]],
    }
    line = {"type": "LineString", "coordinates": [[world.lon, world.lat], [world.lon + 0.001, world.lat]]}
    with db.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(ProductionBase))
    for geom in (bow, line, {"type": "Polygon", "coordinates": "x"}):
        r = client.post(
            f"{API}/bases",
            json={"entity_id": world.farm_id, "name": "坏", "facility": "open_field", "geometry": geom},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "geometry"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(ProductionBase)) == before


def _geojson(world: ProducerWorld, *, bad: bool = False) -> bytes:
    feats = [
        {"type": "Feature", "properties": {"name": "一号地", "facility": "露地", "products": "sweet_potato"},
         "geometry": mapping(square(world.lon, world.lat))},
        {"type": "Feature", "properties": {"name": "二号地", "facility": "大棚", "products": "tomato,pepper"},
         "geometry": mapping(square(world.lon + 0.003, world.lat))},
    ]  # fmt: skip
    if bad:
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": "三号地", "facility": "露地"},
                "geometry": {"type": "Point", "coordinates": [world.lon, world.lat]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def test_import_geojson_all_or_nothing(client, db: Database, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    with db.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(ProductionBase))
    r = client.post(
        f"{API}/bases/import?entity_id={world.farm_id}",
        files={"file": ("bases.geojson", _geojson(world, bad=True), "application/geo+json")},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "row 3"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(ProductionBase)) == before
    r = client.post(
        f"{API}/bases/import?entity_id={world.farm_id}",
        files={"file": ("bases.geojson", _geojson(world), "application/geo+json")},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(ProductionBase).where(ProductionBase.name.in_(["一号地", "二号地"]))))
        assert {b.facility for b in rows} == {Facility.OPEN_FIELD, Facility.GREENHOUSE}
        assert all(b.entity_id == world.farm_id and b.area_m2 > 0 for b in rows)
    r = client.post(
        f"{API}/bases/import?entity_id={world.other_id}",
        files={"file": ("bases.geojson", _geojson(world), "application/geo+json")},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 404


def _shapefile_zip(world: ProducerWorld) -> bytes:
    import numpy as np
    from pyogrio.raw import write

    geoms = np.array([square(world.lon, world.lat, 0.003).wkb], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bases.shp"
        write(
            str(path),
            geometry=geoms,
            field_data=[np.array(["猕猴桃园"], dtype=object), np.array(["kiwi"], dtype=object)],
            fields=["name", "products"],
            geometry_type="Polygon",
            crs="EPSG:4326",
            driver="ESRI Shapefile",
            encoding="UTF-8",
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for f in Path(tmp).iterdir():
                z.write(f, f.name)
        return buf.getvalue()


def test_import_a_zipped_shapefile(db: Database, world: ProducerWorld) -> None:
    with db.unit_of_work() as s:
        report = producers_bases.import_file(
            s, actor=BUREAU, entity_id=world.farm_id, data=_shapefile_zip(world), filename="bases.zip",
            facility=Facility.ORCHARD,
        )  # fmt: skip
        assert report.added == 1
        b = s.get(ProductionBase, report.rows[0]["id"])
        assert b is not None and b.name == "猕猴桃园" and b.product_codes == ["kiwi"]
        assert abs(b.area_m2 - _true_area(square(world.lon, world.lat, 0.003))) / b.area_m2 < 0.005
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        producers_bases.import_file(s, actor=BUREAU, entity_id=world.farm_id, data=b"not a file", filename="x.zip")


def test_an_alarm_on_an_attached_device_makes_one_task(client, db: Database, world: ProducerWorld) -> None:
    with db.unit_of_work() as s:
        thing = devices.register(
            s,
            actor=Actor(id=None, name="test"),
            spec=devices.DeviceSpec(
                device_key="greenhouse-t1", name="测试大棚站", device_class="greenhouse", lon=world.lon,
                lat=world.lat, metrics=(devices.MetricSpec("air_temperature", "棚内气温", "degree Celsius", "°C"),),
            ),
        )  # fmt: skip
        loose = devices.register(
            s,
            actor=Actor(id=None, name="test"),
            spec=devices.DeviceSpec(
                device_key="greenhouse-t2", name="未挂接", device_class="greenhouse", lon=world.lon, lat=world.lat,
                metrics=(devices.MetricSpec("air_temperature", "棚内气温", "degree Celsius", "°C"),),
            ),
        )  # fmt: skip
        thing_id, loose_id = thing.id, loose.id
    csrf = factories.login(client, world.farmer)
    r = client.post(
        f"{API}/bases/{world.base_id}/devices", json={"device_key": "greenhouse-t1"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201, r.text
    with db.unit_of_work() as s:
        for tid in (thing_id, loose_id):
            alarms.raise_alarm(
                s, kind=AlarmKind.RULE, thing_id=tid, datastream_id=None, rule_id=None, severity=Severity.MAJOR,
                title="大棚霜冻预警：气温 1.2 °C", value=1.2, dedupe_seconds=3600,
                at=utcnow() + timedelta(seconds=1),
            )  # fmt: skip
        assert producers_tasks.make_tasks(s) == 1
        assert producers_tasks.make_tasks(s) == 0
        task = s.scalar(select(Task).where(Task.base_id == world.base_id))
        assert task is not None and task.state == TaskState.OPEN and "大棚霜冻预警" in task.title
        task_id = task.id
    mine = client.get(f"{API}/tasks").json()
    assert [t["id"] for t in mine] == [task_id]
    my_page = client.get("/village/my")
    assert my_page.status_code == 200 and "大棚霜冻预警" in my_page.text
    r = client.post(f"{API}/tasks/{task_id}/done", json={"note": "已加盖保温被"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["state"] == "done"
    assert client.get(f"{API}/tasks").json() == []
    r = client.post(f"{API}/tasks/{task_id}/done", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409


def test_another_producer_cannot_close_the_task(client, db: Database, world: ProducerWorld) -> None:
    with db.unit_of_work() as s:
        t = Task(entity_id=world.farm_id, base_id=world.base_id, alarm_id=None, title="测试任务")
        s.add(t)
        s.flush()
        task_id = t.id
    csrf = factories.login(client, world.other)
    r = client.post(f"{API}/tasks/{task_id}/done", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404
