"""OGC SensorThings API 1.1, conformance class A.2 Filtering Extension (request data): ``$expand``,
``$select``, ``$orderby``, ``$top``, ``$skip``, ``$count`` and ``$filter`` with every operator and
every class of built-in function (string, date and time, math, geospatial, spatial relationship)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sensing.sta_world import STA

GAUGE_RESULTS = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]


def _get(client, url: str, **params: str) -> dict:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _results(client, ds: int, filter_text: str) -> list[float]:
    body = _get(client, f"{STA}/Datastreams({ds})/Observations", **{"$filter": filter_text})
    return sorted(round(o["result"], 6) for o in body["value"])


def _things(client, filter_text: str) -> list[str]:
    return [t["name"] for t in _get(client, f"{STA}/Things", **{"$filter": filter_text, "$orderby": "id"})["value"]]


def _locations(client, filter_text: str) -> list[str]:
    body = _get(client, f"{STA}/Locations", **{"$filter": filter_text, "$orderby": "id"})
    return [x["name"] for x in body["value"]]


# --- $select, $expand ---------------------------------------------------------------------------------


def test_select_returns_only_the_named_properties(client, sta):
    body = _get(client, f"{STA}/Things", **{"$select": "name,description", "$orderby": "name"})
    assert body["value"] == [
        {"name": "北界雨量站", "description": "rain gauge"},
        {"name": "妙高溪水位站", "description": "river gauge"},
    ]
    with_id = _get(client, f"{STA}/Things({sta.rain})", **{"$select": "id,Datastreams"})
    assert with_id == {
        "@iot.id": sta.rain,
        "@iot.selfLink": f"http://testserver{STA}/Things({sta.rain})",
        "Datastreams@iot.navigationLink": f"http://testserver{STA}/Things({sta.rain})/Datastreams",
    }


def test_expand_one_and_many_with_nested_options(client, sta):
    body = _get(
        client,
        f"{STA}/Things({sta.gauge})",
        **{
            "$select": "name",
            "$expand": "Datastreams($select=name;$orderby=name desc;$expand=Sensor($select=name),"
            "Observations($select=result;$orderby=result desc;$top=2;$count=true)),Locations($select=name)",
        },
    )
    assert body["name"] == "妙高溪水位站"
    assert body["Locations"] == [{"name": "妙高桥"}]
    battery, level = body["Datastreams"]  # 电 (U+7535) after 水 (U+6C34)
    assert (battery["name"], level["name"]) == ("电量", "水位")
    assert level["Sensor"] == {"name": "radar"}
    assert level["Observations"] == [{"result": 1.5}, {"result": 1.4}]
    assert (level["Observations@iot.count"], battery["Observations@iot.count"]) == (6, 0)
    assert battery["Observations"] == []
    path = _get(
        client, f"{STA}/Observations", **{"$filter": "result eq 4", "$expand": "Datastream/Thing($select=name)"}
    )
    assert [o["Datastream"]["Thing"] for o in path["value"]] == [{"name": "北界雨量站"}]


def test_expand_reaches_every_navigation_of_an_observation(client, sta):
    body = _get(client, f"{STA}/Observations", **{"$filter": "result eq 4", "$expand": "Datastream,FeatureOfInterest"})
    (obs,) = body["value"]
    assert obs["Datastream"]["@iot.id"] == sta.rainfall
    assert obs["FeatureOfInterest"]["feature"] == {"type": "Point", "coordinates": [119.21, 28.62]}


# --- $orderby, $top, $skip, $count ----------------------------------------------------------------------


def test_orderby_asc_desc_and_several_keys(client, sta):
    def order(**params: str) -> list[float]:
        return [o["result"] for o in _get(client, f"{STA}/Observations", **params)["value"]]

    assert order(**{"$orderby": "result"}) == [0.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0, 4.0]
    assert order(**{"$orderby": "result desc"}) == [4.0, 2.0, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.0]
    by_thing = order(**{"$orderby": "Datastream/Thing/name asc, phenomenonTime desc"})
    assert by_thing == [4.0, 2.0, 0.0, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0]
    assert order(**{"$orderby": "hour(phenomenonTime) desc, result"}) == [4.0, 2.0, 0.0, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0]


def test_top_skip_and_count(client, sta):
    page = _get(client, f"{STA}/Observations", **{"$orderby": "result", "$top": "3", "$skip": "2", "$count": "true"})
    assert page["@iot.count"] == 9
    assert [o["result"] for o in page["value"]] == [1.1, 1.2, 1.3]
    assert parse_qs(urlsplit(page["@iot.nextLink"]).query) == {
        "$orderby": ["result"],
        "$top": ["3"],
        "$skip": ["5"],
        "$count": ["true"],
    }
    assert _get(client, f"{STA}/Observations", **{"$top": "0", "$count": "true"}) == {"@iot.count": 9, "value": []}
    last = _get(client, f"{STA}/Observations", **{"$orderby": "result", "$skip": "8"})
    assert [o["result"] for o in last["value"]] == [4.0] and "@iot.nextLink" not in last
    assert "@iot.count" not in _get(client, f"{STA}/Observations", **{"$count": "false"})
    filtered = _get(client, f"{STA}/Observations", **{"$filter": "result gt 1.25", "$count": "true", "$top": "1"})
    assert filtered["@iot.count"] == 5


# --- $filter: operators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("result eq 1.5", [1.5]),
        ("result ne 1.5", GAUGE_RESULTS[:-1]),
        ("result gt 1.3", [1.4, 1.5]),
        ("result ge 1.3", [1.3, 1.4, 1.5]),
        ("result lt 1.2", [1.0, 1.1]),
        ("result le 1.2", [1.0, 1.1, 1.2]),
        ("result gt 1.1 and result lt 1.4", [1.2, 1.3]),
        ("result lt 1.1 or result gt 1.4", [1.0, 1.5]),
        ("not (result lt 1.4)", [1.4, 1.5]),
        ("result eq 1.0 or result eq 1.1 and result gt 1.05", [1.0, 1.1]),  # and binds tighter
        ("(result eq 1.0 or result eq 1.1) and result gt 1.05", [1.1]),
        ("result add 1 eq 2.5", [1.5]),
        ("result sub 1 eq 0.5", [1.5]),
        ("result mul 2 eq 3", [1.5]),
        ("result div 2 eq 0.75", [1.5]),
        ("result mod 1 eq 0.5", [1.5]),
        ("result add 1 mul 2 eq 3.0", [1.0]),  # mul binds tighter
        ("(result add 1) mul 2 eq 5.0", [1.5]),
        ("-result lt -1.4", [1.5]),
        ("resultTime eq null", GAUGE_RESULTS),
        ("resultTime ne null", []),
        ("phenomenonTime ge 2026-05-01T04:00:00Z", [1.4, 1.5]),
        ("phenomenonTime lt 2026-05-01T10:00:00+08:00", [1.0, 1.1]),
        ("result div 0 eq 1", []),
        ("result mod 0 eq 1", []),
        ("Datastream/Thing/name eq '妙高溪水位站'", GAUGE_RESULTS),
        ("Datastream/Thing/name eq '北界雨量站'", []),
        ("Datastream/ObservedProperty/name eq 'water level'", GAUGE_RESULTS),
    ],
)
def test_filter_operators(client, sta, filter_text, expected):
    assert _results(client, sta.level, filter_text) == expected


def test_mod_of_whole_numbers(client, sta):
    assert _results(client, sta.rainfall, "result mod 4 eq 2") == [2.0]
    assert _results(client, sta.rainfall, "result mod 4 eq 0") == [0.0, 4.0]


# --- $filter: built-in functions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("substringof('水位', name)", ["妙高溪水位站"]),
        ("contains(name, '雨量')", ["北界雨量站"]),
        ("startswith(name, '北界')", ["北界雨量站"]),
        ("endswith(name, '水位站')", ["妙高溪水位站"]),
        ("length(name) eq 6", ["妙高溪水位站"]),
        ("indexof(name, '水位') eq 3", ["妙高溪水位站"]),
        ("substring(name, 3) eq '水位站'", ["妙高溪水位站"]),
        ("substring(name, 0, 2) eq '北界'", ["北界雨量站"]),
        ("tolower(toupper(description)) eq 'rain gauge'", ["北界雨量站"]),
        ("toupper(description) eq 'RIVER GAUGE'", ["妙高溪水位站"]),
        ("trim(concat('  ', name)) eq name", ["妙高溪水位站", "北界雨量站"]),
        ("concat(name, description) eq '北界雨量站rain gauge'", ["北界雨量站"]),
    ],
)
def test_string_functions(client, sta, filter_text, expected):
    assert _things(client, filter_text) == expected


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("year(phenomenonTime) eq 2026", [0.0, 2.0, 4.0]),
        ("month(phenomenonTime) eq 5", [0.0, 2.0, 4.0]),
        ("day(phenomenonTime) eq 2", [0.0, 2.0, 4.0]),
        ("hour(phenomenonTime) eq 11", [2.0]),
        ("minute(phenomenonTime) eq 0", [0.0, 2.0, 4.0]),
        ("second(phenomenonTime) eq 0", [0.0, 2.0, 4.0]),
        ("fractionalseconds(phenomenonTime) eq 0", [0.0, 2.0, 4.0]),
        ("date(phenomenonTime) eq '2026-05-02'", [0.0, 2.0, 4.0]),
        ("time(phenomenonTime) eq '12:00:00'", [4.0]),
        ("totaloffsetminutes(phenomenonTime) eq 0", [0.0, 2.0, 4.0]),
        ("phenomenonTime lt now()", [0.0, 2.0, 4.0]),
        ("phenomenonTime gt mindatetime() and phenomenonTime lt maxdatetime()", [0.0, 2.0, 4.0]),
        ("phenomenonTime gt 2026-05-02", [0.0, 2.0, 4.0]),
        ("phenomenonTime gt 2026-05-02T10:30Z", [2.0, 4.0]),
        ("round(result div 3) eq 1", [2.0, 4.0]),
        ("floor(result div 3) eq 1", [4.0]),
        ("ceiling(result div 3) eq 1", [2.0]),
    ],
)
def test_date_time_and_math_functions(client, sta, filter_text, expected):
    assert _results(client, sta.rainfall, filter_text) == expected


NEAR_GAUGE = "geography'POLYGON((119.25 28.5, 119.3 28.5, 119.3 28.6, 119.25 28.6, 119.25 28.5))'"


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("geo.distance(location, geography'POINT(119.27 28.59)') lt 0.01", ["妙高桥"]),
        ("geo.distance(location, geography'POINT(119.27 28.59)') gt 0.01", ["北界村"]),
        ("geo.length(location) eq 0", ["妙高桥", "北界村"]),
        (f"geo.intersects(location, {NEAR_GAUGE})", ["妙高桥"]),
        ("st_equals(location, geography'POINT(119.21 28.62)')", ["北界村"]),
        (f"st_disjoint(location, {NEAR_GAUGE})", ["北界村"]),
        ("st_touches(location, geography'LINESTRING(119.21 28.62, 119.3 28.7)')", ["北界村"]),
        (f"st_within(location, {NEAR_GAUGE})", ["妙高桥"]),
        (f"st_contains({NEAR_GAUGE}, location)", ["妙高桥"]),
        (f"st_overlaps(location, {NEAR_GAUGE})", []),
        ("st_crosses(location, geography'LINESTRING(119.2 28.62, 119.22 28.62)')", []),
        (f"st_intersects(location, {NEAR_GAUGE})", ["妙高桥"]),
        (f"st_relate(location, {NEAR_GAUGE}, 'T*F**F***')", ["妙高桥"]),
        (f"st_relate({NEAR_GAUGE}, location, 'T*****FF*')", ["妙高桥"]),
    ],
)
def test_geospatial_and_spatial_relationship_functions(client, sta, filter_text, expected):
    assert _locations(client, filter_text) == expected


def test_spatial_filter_across_a_link(client, sta):
    assert _things(client, f"st_within(Locations/location, {NEAR_GAUGE})") == ["妙高溪水位站"]
    near = _get(client, f"{STA}/Observations", **{"$filter": f"st_within(FeatureOfInterest/feature, {NEAR_GAUGE})"})
    assert sorted(o["result"] for o in near["value"]) == GAUGE_RESULTS
