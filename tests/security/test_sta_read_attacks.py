"""SensorThings reads as an attacker shapes them: every request that would make the server build or
work without bound is a 400 problem naming the limit, never a 500 or minutes of work."""

from __future__ import annotations

import pytest

from countyos.core.db import Database
from countyos.core.settings import reset_settings
from tests.harness import Baseline, Harness
from tests.sensing.sta_world import STA, StaWorld

PROBLEM = "application/problem+json"


@pytest.fixture
def sta(db: Database, harness: Harness, sta_world_baseline: Baseline) -> StaWorld:
    """The shared SensorThings world (committed once; this test's changes roll back)."""
    world: StaWorld = harness.value(sta_world_baseline, db=db)
    return world


def _bad(client, url: str, words: str) -> dict:
    r = client.get(url)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == "sta_bad_request"
    assert words in body["detail"], body["detail"]
    return body


def _nested_expand(levels: int) -> str:
    """Things → Datastreams → Thing → Datastreams → … ``levels`` deep."""
    navs = ["Datastreams" if i % 2 == 0 else "Thing" for i in range(levels)]
    text = navs[-1]
    for nav in reversed(navs[:-1]):
        text = f"{nav}($expand={text})"
    return text


@pytest.mark.parametrize("levels", [5, 20, 60, 400])
def test_expand_deeper_than_the_limit_is_400_naming_it(client, sta, levels):
    _bad(client, f"{STA}/Things?$expand={_nested_expand(levels)}", "at most 4 levels")


def test_expand_as_a_path_counts_every_segment(client, sta):
    path = "/".join(["Datastreams", "Thing"] * 3)
    _bad(client, f"{STA}/Things?$expand={path}", "at most 4 levels")


def test_expand_at_the_depth_limit_is_answered(client, sta):
    r = client.get(f"{STA}/Things({sta.gauge})?$expand={_nested_expand(4)}")
    assert r.status_code == 200, r.text
    level = next(d for d in r.json()["Datastreams"] if d["name"] == "水位")
    assert [d["name"] for d in level["Thing"]["Datastreams"]] == ["水位", "电量"]
    assert level["Thing"]["Datastreams"][0]["Thing"]["@iot.id"] == sta.gauge


def test_a_response_may_build_a_bounded_number_of_entities(client, sta, monkeypatch):
    monkeypatch.setenv("COUNTYOS_STA_MAX_ENTITIES", "100")
    reset_settings()
    ok = client.get(f"{STA}/Things?$expand=Datastreams($expand=Observations)")
    assert ok.status_code == 200, ok.text  # 2 Things + 3 Datastreams + 9 Observations
    # Things → Datastreams → Thing → Datastreams → Observations repeats every observation per datastream.
    monkeypatch.setenv("COUNTYOS_STA_MAX_ENTITIES", "20")
    reset_settings()
    deep = "Datastreams($expand=Thing($expand=Datastreams($expand=Observations)))"
    _bad(client, f"{STA}/Things?$expand={deep}", "more than 20 entities")


@pytest.mark.parametrize(
    "filter_text",
    [
        "(" * 200 + "name eq 'x'" + ")" * 200,
        "not " * 3000 + "true",
        " or ".join(["name eq 'x'"] * 3000),
        " and ".join(["id gt 0"] * 3000),
        "length(" * 300 + "name" + ")" * 300 + " gt 1",
        "-" * 3000 + "1 lt id",
    ],
    ids=["parentheses", "not", "or", "and", "calls", "negation"],
)
def test_deeply_nested_filters_are_400_not_500(client, sta, filter_text):
    r = client.get(f"{STA}/Things", params={"$filter": filter_text})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["code"] == "sta_bad_request"


def test_deep_filter_inside_expand_is_400(client, sta):
    inner = " or ".join(["result gt 1"] * 3000)
    r = client.get(f"{STA}/Datastreams", params={"$expand": f"Observations($filter={inner})"})
    assert r.status_code == 400, r.text[:300]


def test_a_moderate_filter_is_still_answered(client, sta):
    text = " or ".join([f"result eq {1.0 + h / 10}" for h in range(6)])
    r = client.get(f"{STA}/Observations", params={"$filter": f"(({text})) and not (result eq 1.1)"})
    assert r.status_code == 200, r.text
    assert sorted(o["result"] for o in r.json()["value"]) == [1.0, 1.2, 1.3, 1.4, 1.5]


@pytest.mark.parametrize(
    "query, words",
    [
        ("$top=-1", "$top must be at least 0"),
        ("$top=10001", "$top may be at most 10000"),
        ("$top=99999999999999999999999", "$top may be at most 10000"),
        ("$skip=-5", "$skip must be at least 0"),
        ("$skip=99999999999999999999999", "$skip may be at most 1000000"),
        ("$expand=Datastreams($top=10001)", "$top may be at most 10000"),
        ("$expand=Datastreams($skip=99999999999999999999)", "$skip may be at most"),
        ("$count=maybe", "$count must be true or false"),
        ("$resultFormat=dataArray", "$resultFormat=dataArray is for Observations"),
        ("$resultFormat=csv", "$resultFormat supports dataArray only"),
        ("$filter=id eq 99999999999999999999999", "out of range"),
        ("$filter=id gt 1e999", "out of range"),
        ("$filter=id", "must be a condition"),
        ("$filter=Datastreams/any(d:d/name eq 'x')", "any/all"),
        ("$filter=name eq 12:00:00", "time of day"),
        ("$filter=phenomenonTime gt 2026-05-01T00:00:00", "time zone"),
    ],
)
def test_strange_numbers_and_options_are_400(client, sta, query, words):
    _bad(client, f"{STA}/Things?{query}", words)


def test_lists_in_select_orderby_and_expand_are_bounded(client, sta):
    _bad(client, f"{STA}/Things?$select=" + ",".join(["name"] * 200), "$select names at most")
    _bad(client, f"{STA}/Things?$orderby=" + ",".join(["name"] * 200), "$orderby names at most")
    _bad(client, f"{STA}/Things?$expand=" + ",".join(["Locations"] * 200), "$expand names at most")


def test_the_query_string_is_bounded(client, sta):
    r = client.get(f"{STA}/Things", params={"$filter": "name eq '" + "x" * 20_000 + "'"})
    assert r.status_code == 400
    assert "16384 characters" in r.json()["detail"]


def test_geometry_literals_are_bounded(client, sta):
    points = ", ".join(f"{119 + i / 10000} 28" for i in range(1200))
    r = client.get(f"{STA}/Locations", params={"$filter": f"st_intersects(location, geography'LINESTRING({points})')"})
    assert r.status_code == 400, r.text[:300]
    assert "at most 1000 points" in r.json()["detail"]
    bad = client.get(f"{STA}/Locations", params={"$filter": "st_within(location, geography'POLYGON((1 1, 2')"})
    assert bad.status_code == 400 and "not a valid WKT geometry" in bad.json()["detail"]


@pytest.mark.committed  # listens to the engine's statements: needs the real engine
def test_nested_count_is_one_query_per_level(client, sta, db):
    """$count inside $expand counts the children of all parents in one statement, not one per parent."""
    from sqlalchemy import Engine, event

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)  # every engine: reads have one of their own
    try:
        r = client.get(f"{STA}/Things?$expand=Datastreams($count=true;$expand=Observations($count=true;$top=1))")
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert r.status_code == 200, r.text
    counts = {d["name"]: d["Observations@iot.count"] for t in r.json()["value"] for d in t["Datastreams"]}
    assert counts == {"水位": 6, "电量": 0, "降雨量": 3}
    assert [t["Datastreams@iot.count"] for t in r.json()["value"]] == [2, 1]
    # one grouped count for the datastreams of all things; the observations' counts come from the
    # datastreams' running totals (unfiltered), so no count per parent anywhere
    assert len([s for s in statements if "count(" in s.lower()]) == 1


def test_a_request_past_its_time_budget_is_400(client, sta, monkeypatch):
    monkeypatch.setenv("COUNTYOS_STA_QUERY_SECONDS", "0.000001")
    reset_settings()
    _bad(client, f"{STA}/Observations?$count=true", "longer than")


def test_a_huge_id_is_404_not_500(client, sta):
    huge = "99999999999999999999999"
    for path in (f"Things({huge})", f"Things('{huge}')", f"Things({sta.gauge})/Datastreams({huge})", "Things(0)"):
        r = client.get(f"{STA}/{path}")
        assert r.status_code == 404, r.text


def test_a_long_resource_path_is_400_not_500(client, sta):
    path = f"Things({sta.gauge})" + f"/Datastreams({sta.level})/Thing" * 400
    _bad(client, f"{STA}/{path}", "at most 12 segments")
    ok = client.get(f"{STA}/Things({sta.gauge})/Datastreams({sta.level})/Thing/Datastreams({sta.level})/Sensor/name")
    assert ok.json() == {"name": "radar"}


def test_a_long_property_path_in_a_filter_is_400_not_500(client, sta):
    r = client.get(f"{STA}/Things", params={"$filter": "properties" + "/a" * 3000 + " eq 1"})
    assert r.status_code == 400, r.text[:300]
    assert "at most 16 segments" in r.json()["detail"]
    assert client.get(f"{STA}/Things", params={"$filter": "properties/a/b/c eq 1"}).json() == {"value": []}
