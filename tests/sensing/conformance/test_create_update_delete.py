"""OGC SensorThings API v1.1, conformance class A.3 Create-Update-Delete
(http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete): create with links and deep
insert, PATCH (merge and RFC 6902 JSON Patch), PUT, DELETE with the standard's cascades — and write
bodies that are wrong are a 400 problem+json naming the field, never a 500 or a partial write."""

from __future__ import annotations

import orjson
import pytest

from tests.sensing.sta_helpers import machine

STA = "/sta/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
SENSOR = {"name": "radar", "description": "radar level", "encodingType": "text/plain", "metadata": "r"}
PROPERTY = {"name": "water level", "definition": "http://example.org/wl", "description": "wl"}
UNIT = {"name": "metre", "symbol": "m", "definition": "http://qudt.org/vocab/unit/M"}
LOCATION = {
    "name": "妙高桥",
    "description": "bridge",
    "encodingType": "application/geo+json",
    "location": {"type": "Point", "coordinates": [119.27, 28.59]},
}


@pytest.fixture
def writer(db):
    return machine(db)


@pytest.fixture
def gauge(client, writer) -> dict:
    """A Thing created by deep insert: a Location, one Datastream with its Sensor, ObservedProperty
    and two Observations."""
    body = {
        "name": "妙高溪水位站",
        "description": "river gauge",
        "properties": {"river": "妙高溪", "tags": ["a", "b"]},
        "Locations": [LOCATION],
        "Datastreams": [
            {
                "name": "水位",
                "description": "water level",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": UNIT,
                "Sensor": SENSOR,
                "ObservedProperty": PROPERTY,
                "Observations": [
                    {"phenomenonTime": "2026-05-01T00:00:00Z", "result": 1.0},
                    {"phenomenonTime": "2026-05-01T09:00:00+08:00", "result": 1.5},
                ],
            }
        ],
    }
    r = client.post(f"{STA}/Things", json=body, headers=writer)
    assert r.status_code == 201, r.text
    return r.json()


def _count(client, path: str) -> int:
    return client.get(f"{STA}/{path}?$count=true&$top=0").json()["@iot.count"]


def _json_patch(client, writer, path: str, ops: list) -> object:
    headers = {**writer, "Content-Type": "application/json-patch+json"}
    return client.patch(f"{STA}/{path}", content=orjson.dumps(ops), headers=headers)


# --- create ---------------------------------------------------------------------------------------


def test_create_entity_answers_201_with_location_and_the_entity(client, writer):
    r = client.post(f"{STA}/Sensors", json=SENSOR, headers=writer)
    assert r.status_code == 201
    sid = r.json()["@iot.id"]
    assert r.headers["location"] == f"http://testserver{STA}/Sensors({sid})"
    assert {k: r.json()[k] for k in SENSOR} == SENSOR


def test_deep_insert_creates_and_links_every_entity(client, gauge):
    tid = gauge["@iot.id"]
    assert [x["name"] for x in client.get(f"{STA}/Things({tid})/Locations").json()["value"]] == ["妙高桥"]
    assert len(client.get(f"{STA}/Things({tid})/HistoricalLocations").json()["value"]) == 1
    (ds,) = client.get(f"{STA}/Things({tid})/Datastreams").json()["value"]
    assert client.get(f"{STA}/Datastreams({ds['@iot.id']})/Sensor").json()["name"] == "radar"
    assert client.get(f"{STA}/Datastreams({ds['@iot.id']})/ObservedProperty").json()["name"] == "water level"
    obs = client.get(f"{STA}/Datastreams({ds['@iot.id']})/Observations?$orderby=phenomenonTime").json()["value"]
    assert [(o["phenomenonTime"], o["result"]) for o in obs] == [
        ("2026-05-01T00:00:00Z", 1.0),
        ("2026-05-01T01:00:00Z", 1.5),  # +08:00 stored as the instant it names
    ]


def test_create_linking_existing_entities_by_id(client, writer, gauge):
    tid = gauge["@iot.id"]
    sensor = client.get(f"{STA}/Sensors").json()["value"][0]["@iot.id"]
    prop = client.get(f"{STA}/ObservedProperties").json()["value"][0]["@iot.id"]
    body = {
        "name": "电量",
        "description": "battery",
        "observationType": MEASUREMENT,
        "unitOfMeasurement": {"name": "percent", "symbol": "%", "definition": ""},
        "Thing": {"@iot.id": tid},
        "Sensor": {"@iot.id": sensor},
        "ObservedProperty": {"@iot.id": prop},
    }
    r = client.post(f"{STA}/Datastreams", json=body, headers=writer)
    assert r.status_code == 201, r.text
    assert _count(client, "Sensors") == 1 and _count(client, f"Things({tid})/Datastreams") == 2
    missing = client.post(f"{STA}/Datastreams", json={**body, "Sensor": {"@iot.id": 99999}}, headers=writer)
    assert missing.status_code == 404
    assert _count(client, "Datastreams") == 2  # nothing half-written


def test_create_under_a_navigation_link_fills_in_the_parent(client, writer, gauge):
    ds = client.get(f"{STA}/Datastreams").json()["value"][0]["@iot.id"]
    r = client.post(
        f"{STA}/Datastreams({ds})/Observations",
        json={"phenomenonTime": "2026-05-01T02:00:00Z", "result": 2.0},
        headers=writer,
    )
    assert r.status_code == 201
    assert client.get(f"{STA}/Observations({r.json()['@iot.id']})/Datastream").json()["@iot.id"] == ds


# --- update ---------------------------------------------------------------------------------------


def test_patch_merges_the_given_properties_only(client, writer, gauge):
    tid = gauge["@iot.id"]
    assert client.patch(f"{STA}/Things({tid})", json={"description": "new"}, headers=writer).status_code == 200
    got = client.get(f"{STA}/Things({tid})").json()
    assert (got["name"], got["description"]) == ("妙高溪水位站", "new")


def test_put_replaces_and_needs_the_mandatory_properties(client, writer, gauge):
    tid = gauge["@iot.id"]
    r = client.put(f"{STA}/Things({tid})", json={"name": "新名", "description": "d", "properties": {}}, headers=writer)
    assert r.status_code == 200
    assert client.get(f"{STA}/Things({tid})").json()["properties"] == {}
    r = client.put(f"{STA}/Things({tid})", json={"description": "no name"}, headers=writer)
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "", "message": "needs name"}]


def test_json_patch_applies_rfc6902_including_arrays(client, writer, gauge):
    tid = gauge["@iot.id"]
    ops = [
        {"op": "test", "path": "/properties/river", "value": "妙高溪"},
        {"op": "replace", "path": "/properties/river", "value": "乌溪江"},
        {"op": "add", "path": "/properties/tags/1", "value": "x"},
        {"op": "remove", "path": "/properties/tags/0"},
        {"op": "copy", "from": "/name", "path": "/properties/old_name"},
    ]
    assert _json_patch(client, writer, f"Things({tid})", ops).status_code == 200
    assert client.get(f"{STA}/Things({tid})").json()["properties"] == {
        "river": "乌溪江",
        "tags": ["x", "b"],
        "old_name": "妙高溪水位站",
    }


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        ([{"op": "remove", "path": "/properties/nothing"}], "cannot be applied"),  # RFC 6902 4.2: must exist
        ([{"op": "replace", "path": "/properties/tags/9", "value": 1}], "cannot be applied"),
        ([{"op": "add", "path": "/properties/tags/x", "value": 1}], "cannot be applied"),
        ([{"op": "test", "path": "/name", "value": "other"}], "cannot be applied"),
        ([{"op": "jump", "path": "/name"}], "cannot be applied"),
        ([{"path": "/name"}], "cannot be applied"),
        ({"op": "remove", "path": "/name"}, "list of operations"),
        ([{"op": "remove", "path": "/name"}], "cannot be null"),
        ([{"op": "replace", "path": "/name", "value": {"zh": "名"}}], "valid string"),
        ([{"op": "add", "path": "/colour", "value": "red"}], "Extra inputs"),
    ],
)
def test_json_patch_errors_are_400_and_change_nothing(client, writer, gauge, ops, words):
    tid = gauge["@iot.id"]
    before = client.get(f"{STA}/Things({tid})").json()
    r = _json_patch(client, writer, f"Things({tid})", ops)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.json()["detail"]
    assert client.get(f"{STA}/Things({tid})").json() == before


def test_json_patch_of_an_observation(client, writer, gauge):
    oid = client.get(f"{STA}/Observations?$orderby=phenomenonTime").json()["value"][0]["@iot.id"]
    r = _json_patch(client, writer, f"Observations({oid})", [{"op": "replace", "path": "/result", "value": 7}])
    assert r.status_code == 200, r.text
    assert client.get(f"{STA}/Observations({oid})").json()["result"] == 7


# --- wrong bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("Things", {"name": {"zh": "名"}}, [{"field": "name", "message": "Input should be a valid string"}]),
        ("Things", {"name": "x", "colour": "red"}, [{"field": "colour", "message": "Extra inputs are not permitted"}]),
        ("Things", {"name": "x", "properties": [1]},
         [{"field": "properties", "message": "Input should be a valid dictionary"}]),
        ("Things", ["x"], [{"field": "", "message": "Input should be a valid dictionary or instance of Thing"}]),
        (
            "Things",
            {"name": "x", "Datastreams": [{"name": "d", "observationType": MEASUREMENT, "unitOfMeasurement": UNIT,
                                           "ObservedProperty": PROPERTY, "Sensor": {**SENSOR, "metadata": None}}]},
            [{"field": "Datastreams[0].Sensor", "message": "needs metadata"}],
        ),
        (
            "Things",
            {"name": "x", "Locations": [{"@iot.id": "one"}]},
            [{"field": "Locations[0].@iot.id", "message": "Input should be a valid integer"}],
        ),
        (
            "Observations",
            {"phenomenonTime": "2026-05-01T00:00:00", "result": 1, "Datastream": {"@iot.id": 1}},
            [{"field": "phenomenonTime", "message": "time without a time zone; add Z or an offset such as +08:00"}],
        ),
        (
            "HistoricalLocations",
            {"time": "2026-05-01T08:00:00", "Thing": {"@iot.id": 1}},
            [{"field": "time", "message": "time without a time zone; add Z or an offset such as +08:00"}],
        ),
        (
            "Observations",
            {"phenomenonTime": "2026-05-01T00:00:00Z", "result": 1},
            [{"field": "", "message": "an Observation needs exactly one of Datastream or MultiDatastream"}],
        ),
    ],
    ids=["name-object", "unknown", "properties-list", "not-object", "deep-missing", "bad-ref", "naive-obs",
         "naive-hl", "no-stream"],
)  # fmt: skip
def test_wrong_bodies_are_400_naming_the_field(client, writer, path, body, errors):
    r = client.post(f"{STA}/{path}", json=body, headers=writer)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == errors
    assert _count(client, "Things") == 0 and _count(client, "Sensors") == 0


def test_naive_times_are_refused_on_update_too(client, writer, gauge):
    oid = client.get(f"{STA}/Observations").json()["value"][0]["@iot.id"]
    r = client.patch(f"{STA}/Observations({oid})", json={"phenomenonTime": "2026-05-02T00:00:00"}, headers=writer)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "phenomenonTime"


def test_moving_an_observation_onto_another_ones_time_is_409(client, writer, gauge):
    first, second = client.get(f"{STA}/Observations?$orderby=phenomenonTime").json()["value"]
    r = client.patch(
        f"{STA}/Observations({second['@iot.id']})", json={"phenomenonTime": first["phenomenonTime"]}, headers=writer
    )
    assert r.status_code == 409


# --- delete ---------------------------------------------------------------------------------------


def test_delete_cascades_as_the_standard_says(client, writer, gauge):
    tid = gauge["@iot.id"]
    assert client.delete(f"{STA}/Things({tid})", headers=writer).status_code == 200
    assert client.get(f"{STA}/Things({tid})").status_code == 404
    # a Thing's Datastreams and their Observations go with it; Locations, Sensors, ObservedProperties stay
    assert (_count(client, "Datastreams"), _count(client, "Observations")) == (0, 0)
    assert (_count(client, "Locations"), _count(client, "Sensors"), _count(client, "ObservedProperties")) == (1, 1, 1)
    sensor = client.get(f"{STA}/Sensors").json()["value"][0]["@iot.id"]
    assert client.delete(f"{STA}/Sensors({sensor})", headers=writer).status_code == 200
    assert client.delete(f"{STA}/Sensors({sensor})", headers=writer).status_code == 404
