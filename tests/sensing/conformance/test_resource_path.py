"""OGC SensorThings API 1.1, conformance class "resource path" (reads): collections, one entity by
id, navigation to one and to many, properties and ``$value``, ``$ref``, and 404 for what is not there."""

from __future__ import annotations

import pytest

from tests.sensing.sta_world import STA

BASE = f"http://testserver{STA}"


def test_collection_entity_and_property(client, sta):
    assert [t["name"] for t in client.get(f"{STA}/Things?$orderby=id").json()["value"]] == [
        "妙高溪水位站",
        "北界雨量站",
    ]
    assert client.get(f"{STA}/Things({sta.rain})").json()["name"] == "北界雨量站"
    assert client.get(f"{STA}/Things({sta.rain})/name").json() == {"name": "北界雨量站"}
    value = client.get(f"{STA}/Things({sta.rain})/name/$value")
    assert (value.status_code, value.text) == (200, "北界雨量站")
    assert value.headers["content-type"].startswith("text/plain")
    assert client.get(f"{STA}/Things({sta.rain})/properties").json() == {"properties": {"river": "北界溪", "level": 1}}


def test_navigation_to_one_and_to_many_and_further(client, sta):
    assert client.get(f"{STA}/Datastreams({sta.rainfall})/Thing").json()["@iot.id"] == sta.rain
    assert client.get(f"{STA}/Datastreams({sta.rainfall})/Thing/name/$value").text == "北界雨量站"
    names = [x["name"] for x in client.get(f"{STA}/Datastreams({sta.rainfall})/Thing/Locations").json()["value"]]
    assert names == ["北界村"]
    obs = client.get(f"{STA}/Things({sta.rain})/Datastreams({sta.rainfall})/Observations?$orderby=result").json()
    assert [o["result"] for o in obs["value"]] == [0.0, 2.0, 4.0]
    # an id inside a navigation must belong to it
    assert client.get(f"{STA}/Things({sta.gauge})/Datastreams({sta.rainfall})").status_code == 404


def test_references(client, sta):
    refs = client.get(f"{STA}/Things({sta.gauge})/Datastreams/$ref?$orderby=id").json()
    assert refs == {"value": [{"@iot.selfLink": f"{BASE}/Datastreams({i})"} for i in sorted([sta.level, sta.battery])]}
    one = client.get(f"{STA}/Datastreams({sta.level})/Thing/$ref").json()
    assert one == {"@iot.selfLink": f"{BASE}/Things({sta.gauge})"}


@pytest.mark.parametrize(
    "path, status",
    [
        ("Nothings", 404),
        ("Things(999999)", 404),
        ("Things(abc)", 404),
        ("Things({gauge})/nosuch", 404),
        ("Things/Datastreams", 400),
        ("Things({gauge})/name/nosuch", 400),
        ("Things({gauge})/$value", 400),
    ],
)
def test_paths_that_do_not_exist(client, sta, path, status):
    r = client.get(f"{STA}/{path.format(gauge=sta.gauge)}")
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
