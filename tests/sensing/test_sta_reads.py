"""SensorThings reads: text functions take `%` and `_` literally, next links keep every option of
their level, and the OData grammar covers the SensorThings functions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA

NAMES = ["_north", "north", "n_rth", "100% rain", "100 rain", "a/b\\c", "a/b", "North_"]


@pytest.fixture
def named(client, db) -> dict[str, int]:
    headers = machine(db)
    ids = {}
    for name in NAMES:
        r = client.post(f"{STA}/Things", json={"name": name, "description": "d"}, headers=headers)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["@iot.id"]
    return ids


def _names(client, filter_text: str) -> list[str]:
    r = client.get(f"{STA}/Things", params={"$filter": filter_text, "$orderby": "id"})
    assert r.status_code == 200, r.text
    return [t["name"] for t in r.json()["value"]]


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("startswith(name, '_')", ["_north"]),
        ("startswith(name, 'n_')", ["n_rth"]),
        ("startswith(name, 'n')", ["north", "n_rth"]),  # case-sensitive, as OData says
        ("endswith(name, '_')", ["North_"]),
        ("contains(name, '%')", ["100% rain"]),
        ("contains(name, '_')", ["_north", "n_rth", "North_"]),
        ("contains(name, '0% r')", ["100% rain"]),
        ("substringof('%', name)", ["100% rain"]),
        ("substringof('_', name)", ["_north", "n_rth", "North_"]),
        ("contains(name, '\\')", ["a/b\\c"]),
        ("endswith(name, '/b')", ["a/b"]),
        ("startswith(name, 'a/b')", ["a/b\\c", "a/b"]),
        ("contains(name, '')", NAMES),
        ("endswith(name, 'a longer text than any name')", []),
        ("not startswith(name, '_')", NAMES[1:]),
    ],
)
def test_text_functions_take_wildcards_literally(client, named, filter_text, expected):
    assert _names(client, filter_text) == expected


def test_text_functions_compare_two_properties(client, named, db):
    headers = machine(db)
    client.post(f"{STA}/Things", json={"name": "abc_def", "description": "abc_"}, headers=headers)
    client.post(f"{STA}/Things", json={"name": "abcXdef", "description": "abc_"}, headers=headers)
    assert _names(client, "startswith(name, description)") == ["abc_def"]
    assert _names(client, "contains(name, description)") == ["abc_def"]


def _query(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


def test_top_level_next_link_keeps_every_option(client, sta):
    r = client.get(
        f"{STA}/Observations",
        params={
            "$filter": "result ge 1.1 and result lt 2",
            "$orderby": "result desc",
            "$select": "result",
            "$top": "2",
        },
    ).json()
    assert [o["result"] for o in r["value"]] == [1.5, 1.4]
    q = _query(r["@iot.nextLink"])
    assert q == {
        "$filter": ["result ge 1.1 and result lt 2"],
        "$orderby": ["result desc"],
        "$select": ["result"],
        "$top": ["2"],
        "$skip": ["2"],
    }
    rest = client.get(r["@iot.nextLink"].replace("http://testserver", "")).json()
    assert [o["result"] for o in rest["value"]] == [1.3, 1.2]
    last = client.get(rest["@iot.nextLink"].replace("http://testserver", "")).json()
    assert [o["result"] for o in last["value"]] == [1.1]
    assert "@iot.nextLink" not in last


def test_nested_next_link_keeps_filter_orderby_select_and_expand(client, sta):
    expand = (
        "Observations($filter=result gt 1.0;$orderby=result desc;$select=result,id;$top=2;"
        "$expand=Datastream($select=name))"
    )
    thing = client.get(f"{STA}/Things({sta.gauge})", params={"$expand": f"Datastreams($expand={expand})"}).json()
    level = next(d for d in thing["Datastreams"] if d["name"] == "水位")
    assert [o["result"] for o in level["Observations"]] == [1.5, 1.4]
    assert level["Observations"][0]["Datastream"] == {"name": "水位"}
    link = level["Observations@iot.nextLink"]
    assert link.startswith(f"http://testserver{STA}/Datastreams({sta.level})/Observations?")
    assert _query(link) == {
        "$filter": ["result gt 1.0"],
        "$orderby": ["result desc"],
        "$select": ["result,id"],
        "$expand": ["Datastream($select=name)"],
        "$top": ["2"],
        "$skip": ["2"],
    }
    page = client.get(link.replace("http://testserver", "")).json()
    assert [o["result"] for o in page["value"]] == [1.3, 1.2]
    assert [set(o) for o in page["value"]] == [{"@iot.id", "@iot.selfLink", "result", "Datastream"}] * 2
    final = client.get(page["@iot.nextLink"].replace("http://testserver", "")).json()
    assert [o["result"] for o in final["value"]] == [1.1]  # 1.0 stays filtered out


def test_nested_next_link_of_a_path_expand(client, sta):
    r = client.get(
        f"{STA}/Things({sta.gauge})", params={"$expand": "Datastreams/Observations($top=4;$orderby=phenomenonTime)"}
    ).json()
    level = next(d for d in r["Datastreams"] if d["name"] == "水位")
    assert [o["result"] for o in level["Observations"]] == [1.0, 1.1, 1.2, 1.3]
    assert _query(level["Observations@iot.nextLink"]) == {
        "$orderby": ["phenomenonTime"],
        "$top": ["4"],
        "$skip": ["4"],
    }


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ("@iot.id eq {gauge}", ["妙高溪水位站"]),
        ("id in ({gauge}, {rain})", ["妙高溪水位站", "北界雨量站"]),
        ("st_within(Locations/location, geometry'POLYGON((119 28, 120 28, 120 29, 119 29, 119 28))')", None),
        ("properties/level eq 1", ["北界雨量站"]),
        ("properties/river eq '妙高溪' and properties/level gt 1", ["妙高溪水位站"]),
        ("Datastreams/Observations/result eq 4", ["北界雨量站"]),
        ("not(name eq '北界雨量站')", ["妙高溪水位站"]),
        ("NAME eq 'x' or name EQ '北界雨量站'", None),
    ],
)
def test_filter_grammar_covers_sensorthings(client, sta, filter_text, expected):
    text = filter_text.format(gauge=sta.gauge, rain=sta.rain)
    r = client.get(f"{STA}/Things", params={"$filter": text, "$orderby": "id"})
    if filter_text.startswith("NAME"):  # property names are case-sensitive
        assert r.status_code == 400 and "no property 'NAME'" in r.json()["detail"]
        return
    assert r.status_code == 200, r.text
    names = [t["name"] for t in r.json()["value"]]
    assert names == (expected if expected is not None else ["妙高溪水位站", "北界雨量站"])
