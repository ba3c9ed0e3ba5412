"""Every common SensorThings read is planned from an index on the filtered key, on both databases.

Each read runs through the API while its SQL is captured; every captured statement is then given to
the database's planner (SQLite ``EXPLAIN QUERY PLAN``; PostgreSQL ``EXPLAIN (FORMAT JSON)`` after
loading and analysing 20,000 observations over three datastreams, with the planner's default
settings). A full scan of the observations table (or of its partitions, or of its extra columns) fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from countyos.core.db import Database
from countyos.sensing.service.sta import fast
from countyos.sensing.service.times import iso
from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA, StaWorld, _datastream, build

ROWS = 20_000  # observations added to the three datastreams of the world
START_US = 1_780_000_000_000_000  # 2026-05-28, one observation a minute from here
STEP_US = 60_000_000


@dataclass
class Loaded:
    world: StaWorld
    foi: int
    observation: int


@pytest.fixture
def loaded(client, db: Database) -> Loaded:
    world = build(client, machine(db))
    streams = [world.level, world.battery, world.rainfall]
    with db.engine.begin() as conn:
        for n, ds in enumerate(streams):  # round robin: the streams' rows are interleaved on disk
            conn.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
                    "INSERT INTO sensing_observation (datastream_id, phenomenon_us, result) "
                    "SELECT :ds, CAST(:start AS BIGINT) + (i * 3 + :n) * CAST(:step AS BIGINT), (i % 100) * 1.0 FROM n"
                ),
                {"last": ROWS // 3 - 1, "ds": ds, "start": START_US, "n": n, "step": STEP_US // 3},
            )
    # a third station with its own feature and a few observations: the feature whose observations are read
    small = {
        "name": "small",
        "description": "a station with few observations",
        "Locations": [
            {
                "name": "bridge",
                "description": "bridge",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [119.3, 28.6]},
            }
        ],
        "Datastreams": [
            _datastream(
                "level", "metre", "m", "radar", "level", [{"phenomenonTime": "2026-05-03T00:00:00Z", "result": 1}]
            )
        ],
    }
    r = client.post(f"{STA}/Things", json=small, headers=machine(db))
    assert r.status_code == 201, r.text
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    features = client.get(f"{STA}/FeaturesOfInterest", params={"$orderby": "id desc", "$top": "1"}).json()
    foi = features["value"][0]["@iot.id"]
    newest = client.get(f"{STA}/Datastreams({world.level})/Observations", params={"$top": "1"}).json()
    return Loaded(world, foi, newest["value"][0]["@iot.id"])


def _reads(x: Loaded) -> list[tuple[str, dict[str, str]]]:
    w = x.world
    late = "2026-06-10T00:00:00Z"
    newest = {"$top": "100", "$orderby": "phenomenonTime desc"}
    return [
        (f"Datastreams({w.level})/Observations", newest),
        (f"Datastreams({w.level})/Observations", {"$filter": f"result gt 50 and phenomenonTime ge {late}"}),
        (f"Datastreams({w.level})/Observations", {"$filter": f"phenomenonTime ge {late}", "$count": "true"}),
        (f"Datastreams({w.level})/Observations", {**newest, "$resultFormat": "dataArray"}),
        (f"Datastreams({w.level})/Observations", {**newest, "$skip": "200"}),
        (f"Things({w.gauge})/Datastreams({w.level})/Observations", newest),
        (f"Datastreams({w.level})/Observations/$ref", {"$top": "100"}),
        ("Observations", {**newest, "$filter": f"Datastream/id eq {w.level}"}),
        (f"Observations({x.observation})", {}),
        (f"Observations({x.observation})/Datastream", {}),
        (f"Observations({x.observation})/FeatureOfInterest", {}),
        (f"FeaturesOfInterest({x.foi})/Observations", newest),
        (f"Datastreams({w.level})", {}),
        ("Datastreams", {}),
        ("MultiDatastreams", {}),
        (f"Things({w.gauge})/Datastreams", {}),
        (f"Datastreams({w.level})", {"$expand": "Observations($top=100;$orderby=phenomenonTime desc)"}),
        ("Datastreams", {"$expand": "Observations($top=1;$orderby=phenomenonTime desc)"}),
        ("Datastreams", {"$expand": "Observations($top=5;$orderby=phenomenonTime desc;$count=true)"}),
        (
            "Things",
            {
                "$expand": "Datastreams($expand=ObservedProperty,Observations($top=3;$orderby=phenomenonTime desc)),"
                "Locations"
            },
        ),
    ]


@pytest.fixture
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if re.match(r"\s*(SELECT|WITH)\b", statement, re.IGNORECASE) and "sensing_observation" in statement:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)  # every engine: reads have one of their own
    fast.clear()  # statements kept as text run on the driver's connection, unseen here
    yield seen
    event.remove(Engine, "before_cursor_execute", capture)


def _full_scans(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            # "SCAN t" reads a whole table, "SCAN t USING [COVERING] INDEX i" a whole index
            return [
                row[3] for row in plan if re.match(r"SCAN (sensing_observation\w*)\b", row[3]) and "=" not in row[3]
            ]
        (doc,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).one()
        # the partitions holding rows (a sequential scan of an empty month's partition reads nothing)
        holding = set(
            conn.exec_driver_sql(
                "SELECT relname FROM pg_class WHERE relname LIKE 'sensing\\_observation%%' AND reltuples > 0"
            ).scalars()
        )
    assert any(name.startswith("sensing_observation") for name in holding), holding
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in holding:
            found.append(f"Seq Scan on {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(doc[0]["Plan"])
    return found


@pytest.mark.committed  # listens to the engine's statements: needs the real engine
def test_every_common_read_is_planned_from_an_index(client, db, loaded, statements):
    failures = []
    for path, params in _reads(loaded):
        statements.clear()
        r = client.get(f"{STA}/{path}", params=params)
        assert r.status_code == 200, (path, params, r.text)
        for statement, parameters in list(statements):
            scans = _full_scans(db, statement, parameters)
            if scans:
                failures.append(f"{path} {params}: {scans}\n{statement}")
    if failures:
        pytest.fail("\n\n".join(failures))


@pytest.mark.committed  # listens to the engine's statements: needs the real engine
def test_navigation_by_a_parent_id_is_a_plain_key_condition(client, db, loaded, statements):
    w = loaded.world
    r = client.get(
        f"{STA}/Datastreams({w.level})/Observations", params={"$top": "100", "$orderby": "phenomenonTime desc"}
    )
    assert r.status_code == 200
    (statement, _), *_ = statements
    assert "EXISTS" not in statement.upper()
    assert re.search(r"\.datastream_id = ", statement) is not None


def test_navigation_answers_are_unchanged(client, db, loaded):
    w = loaded.world
    got = client.get(
        f"{STA}/Datastreams({w.rainfall})/Observations", params={"$top": "2", "$orderby": "phenomenonTime desc"}
    )
    times = [o["phenomenonTime"] for o in got.json()["value"]]
    last = START_US + ((ROWS // 3 - 1) * 3 + 2) * (STEP_US // 3)
    assert times == [iso(last), iso(last - STEP_US)]
    # a parent reached by a longer path: the datastream of another thing has no children here
    other = client.get(f"{STA}/Things({w.rain})/Datastreams({w.level})/Observations", params={"$top": "5"})
    assert other.status_code == 200
    assert other.json()["value"] == []
    mine = client.get(
        f"{STA}/Things({w.gauge})/Datastreams({w.level})/Observations", params={"$count": "true", "$top": "0"}
    )
    assert mine.json()["@iot.count"] == 6 + ROWS // 3
    nowhere = client.get(f"{STA}/Things({w.rain})/Datastreams({w.level})/Observations", params={"$count": "true"})
    assert nowhere.json()["@iot.count"] == 0
