"""SensorThings reads keep their statements per query shape (``service/sta/read.py``: ``plan``).

The ids of the path, the parents of an expanded level and the row limits are bind parameters, so
the statement object built for the first request of a shape serves the next ones with other ids —
and every answer is still that request's own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from countyos.core.db import Database
from countyos.sensing.service.sta import read as R
from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA, StaWorld, build

NEWEST = {"$top": "2", "$orderby": "phenomenonTime desc"}


@pytest.fixture
def world(client, db: Database) -> Iterator[StaWorld]:
    w = build(client, machine(db))
    R.clear_plans()
    yield w
    R.clear_plans()


def _kinds() -> list[str]:
    return [k[0] for k in R._plans]


def test_a_navigation_shape_is_built_once_and_answers_each_id(client, world: StaWorld) -> None:
    level = client.get(f"{STA}/Datastreams({world.level})/Observations", params=NEWEST).json()
    assert [o["result"] for o in level["value"]] == [1.5, 1.4]
    assert _kinds() == ["collection"]
    (key,) = R._plans
    assert key[2] == "Datastreams(#)/Observations"
    first = R._plans[key]

    rain = client.get(f"{STA}/Datastreams({world.rainfall})/Observations", params=NEWEST).json()
    assert [o["result"] for o in rain["value"]] == [4.0, 2.0]
    assert [o["phenomenonTime"] for o in rain["value"]] == ["2026-05-02T12:00:00Z", "2026-05-02T11:00:00Z"]
    assert R._plans[key] is first  # the same statement object served the second id
    assert len(R._plans) == 1

    empty = client.get(f"{STA}/Datastreams({world.battery})/Observations", params=NEWEST).json()
    assert empty["value"] == []
    missing = client.get(f"{STA}/Datastreams(999999)/Observations", params=NEWEST).json()
    assert missing["value"] == []


def test_other_options_are_another_shape(client, world: StaWorld) -> None:
    client.get(f"{STA}/Datastreams({world.level})/Observations", params=NEWEST)
    r = client.get(f"{STA}/Datastreams({world.level})/Observations", params={"$top": "1"}).json()
    assert [o["result"] for o in r["value"]] == [1.0]  # the default order of a series: oldest first
    assert len(R._plans) == 2


def test_a_longer_path_binds_every_id_in_its_place(client, world: StaWorld) -> None:
    path = f"{STA}/Things({world.gauge})/Datastreams({world.level})/Observations"
    assert len(client.get(path, params=NEWEST).json()["value"]) == 2
    # the rain gauge's datastream under the river gauge: nothing, although the shape is the same
    wrong = f"{STA}/Things({world.gauge})/Datastreams({world.rainfall})/Observations"
    assert client.get(wrong, params=NEWEST).json()["value"] == []
    right = f"{STA}/Things({world.rain})/Datastreams({world.rainfall})/Observations"
    assert [o["result"] for o in client.get(right, params=NEWEST).json()["value"]] == [4.0, 2.0]
    assert len(R._plans) == 1


def test_an_entity_and_its_expanded_levels_are_kept_and_answer_each_parent(client, world: StaWorld) -> None:
    q = {"$expand": "Datastreams($expand=ObservedProperty;$orderby=id),Locations"}
    gauge = client.get(f"{STA}/Things({world.gauge})", params=q).json()
    assert [d["name"] for d in gauge["Datastreams"]] == ["水位", "电量"]
    assert [d["ObservedProperty"]["name"] for d in gauge["Datastreams"]] == ["water level", "battery"]
    assert [loc["name"] for loc in gauge["Locations"]] == ["妙高桥"]
    kept = len(R._plans)
    assert sorted(_kinds()) == ["entity", "level", "level", "level"]

    rain = client.get(f"{STA}/Things({world.rain})", params=q).json()
    assert [d["name"] for d in rain["Datastreams"]] == ["降雨量"]
    assert rain["Datastreams"][0]["ObservedProperty"]["name"] == "rainfall"
    assert [loc["name"] for loc in rain["Locations"]] == ["北界村"]
    assert len(R._plans) == kept


def test_a_collection_expanded_with_counts(client, world: StaWorld) -> None:
    q = {"$expand": "Datastreams($count=true;$top=1;$orderby=id)", "$orderby": "id"}
    for _ in range(2):  # the second time from the kept statements
        things = client.get(f"{STA}/Things", params=q).json()["value"]
        assert [(t["Datastreams@iot.count"], len(t["Datastreams"])) for t in things] == [(2, 1), (1, 1)]
        assert things[0]["Datastreams@iot.nextLink"].endswith(
            f"/Things({world.gauge})/Datastreams?%24count=true&%24orderby=id&%24top=1&%24skip=1"
        )


def test_a_filter_with_now_is_never_kept(client, world: StaWorld) -> None:
    q = {"$filter": "phenomenonTime lt now()"}
    r = client.get(f"{STA}/Datastreams({world.level})/Observations", params=q).json()
    assert len(r["value"]) == 6
    assert R._plans == {}


def test_the_kept_statements_are_bounded(client, world: StaWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "PLANS_MAX", 4)
    for top in range(1, 11):
        r = client.get(f"{STA}/Datastreams({world.level})/Observations", params={"$top": str(top)})
        assert len(r.json()["value"]) == min(top, 6)
    assert len(R._plans) <= 4


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        ("time", (1_780_000_000_000_000,)),
        ("time", (None,)),
        ("time", (1_780_000_000_000_000, None)),
        ("time", (1_780_000_000_000_000, 1_780_000_060_500_000)),
        ("time", (1_780_000_000_000_000, 1_780_000_000_000_000)),
        ("interval", (1_780_000_000_000_000, None)),
        ("interval", (1_780_000_000_000_000, 1_780_000_001_000_000)),
        ("interval", (None, None)),
        ("num", (2.5, None)),
        ("num", (None, {"state": "open"})),
        ("num", (None, None)),
    ],
)
def test_a_converter_made_once_per_query_says_what_the_general_one_says(kind: str, row: tuple) -> None:
    from countyos.sensing.service.sta import entities as E

    prop = E.Prop(lambda a: a.id, kind)
    padded = (0, *row, 0)  # the property's columns in the middle of a row
    convert = R._converter(prop, 1, 1 + len(row))
    assert convert(padded) == E.to_json_value(prop, list(row))


@pytest.mark.committed  # listens to the engine's statements: needs the real engine
def test_a_datastreams_time_is_read_only_when_it_has_observations(client, world: StaWorld, db: Database) -> None:
    import warnings

    from sqlalchemy import Engine, event
    from sqlalchemy.exc import SAWarning

    seen: list[str] = []

    def capture(conn, cursor, statement, params, context, many) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)  # every engine: reads have one of their own
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)  # a guard not correlated to its datastream warns
            direct = client.get(f"{STA}/Datastreams", params={"$orderby": "id"}).json()["value"]
            things = client.get(f"{STA}/Things", params={"$expand": "Datastreams($orderby=id)", "$orderby": "id"})
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    expanded = [d for t in things.json()["value"] for d in t["Datastreams"]]
    for streams in (direct, expanded):
        times = {d["@iot.id"]: d.get("phenomenonTime") for d in streams}
        assert times == {
            world.level: "2026-05-01T00:00:00Z/2026-05-01T05:00:00Z",
            world.battery: None,
            world.rainfall: "2026-05-02T10:00:00Z/2026-05-02T12:00:00Z",
        }
    reads = [s for s in seen if "sensing_datastream" in s and "min(" in s]
    assert len(reads) == 2 and all("sensing_latest" in s for s in reads)
