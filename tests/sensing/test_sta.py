"""OGC SensorThings API v1.1: deep insert, reads with query options translated to SQL, writes, auth."""

from __future__ import annotations

import base64

import pytest

from tests.factories import person, token_for
from tests.sensing.sta_helpers import machine

STA = "/sta/v1.1"

THING = {
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
        {
            "name": "水位",
            "description": "water level",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "metre", "symbol": "m", "definition": "http://qudt.org/vocab/unit/M"},
            "Sensor": {"name": "radar", "description": "radar level", "encodingType": "text/plain", "metadata": "r"},
            "ObservedProperty": {"name": "water level", "definition": "http://example.org/wl", "description": "wl"},
            "Observations": [{"phenomenonTime": f"2026-05-01T0{h}:00:00Z", "result": 1.0 + h / 10} for h in range(6)],
        },
        {
            "name": "电量",
            "description": "battery",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "percent", "symbol": "%", "definition": ""},
            "Sensor": {"name": "bms", "description": "battery", "encodingType": "text/plain", "metadata": "b"},
            "ObservedProperty": {"name": "battery", "definition": "http://example.org/bat", "description": "b"},
        },
    ],
}


@pytest.fixture
def writer(db):
    """Basic credentials of a machine account with sensing.write."""
    return machine(db)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def thing(client, writer):
    r = client.post(f"{STA}/Things", json=THING, headers=writer)
    assert r.status_code == 201, r.text
    return r.json()


def test_deep_insert_creates_the_whole_tree_with_links(client, thing):
    assert thing["@iot.selfLink"] == f"http://testserver{STA}/Things({thing['@iot.id']})"
    assert thing["Datastreams@iot.navigationLink"].endswith(f"Things({thing['@iot.id']})/Datastreams")
    tid = thing["@iot.id"]
    ds = client.get(f"{STA}/Things({tid})/Datastreams?$orderby=name desc").json()["value"]
    assert [d["name"] for d in ds] == ["电量", "水位"]
    level = ds[1]
    assert level["phenomenonTime"] == "2026-05-01T00:00:00Z/2026-05-01T05:00:00Z"
    assert level["unitOfMeasurement"]["symbol"] == "m"
    obs = client.get(f"{STA}/Datastreams({level['@iot.id']})/Observations?$orderby=phenomenonTime desc&$top=2").json()
    assert [o["result"] for o in obs["value"]] == [1.5, 1.4]
    assert obs["@iot.nextLink"] == (
        f"http://testserver{STA}/Datastreams({level['@iot.id']})/Observations"
        "?%24orderby=phenomenonTime+desc&%24top=2&%24skip=2"
    )
    nxt = client.get(obs["@iot.nextLink"].replace("http://testserver", "")).json()
    assert [o["result"] for o in nxt["value"]] == [1.3, 1.2]
    newest = client.get(f"{STA}/Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)").json()["value"]
    assert [o["result"] for o in next(d for d in newest if d["name"] == "水位")["Observations"]] == [1.5]
    assert next(d for d in newest if d["name"] == "电量")["Observations"] == []
    foi = client.get(f"{STA}/Observations({obs['value'][0]['@iot.id']})/FeatureOfInterest").json()
    assert foi["feature"]["coordinates"] == [119.27, 28.59]
    hist = client.get(f"{STA}/Things({tid})/HistoricalLocations?$expand=Locations").json()["value"]
    assert hist[0]["Locations"][0]["name"] == "妙高桥"
    assert client.get(f"{STA}/Things({tid})/name/$value").text == "妙高溪水位站"
    (loc,) = client.get(f"{STA}/Things({tid})/Locations").json()["value"]
    refs = client.get(f"{STA}/Things({tid})/Locations/$ref").json()["value"]
    assert refs == [{"@iot.selfLink": f"http://testserver{STA}/Locations({loc['@iot.id']})"}]


def test_newest_observation_of_each_datastream_matches_the_ranked_query_after_deletes(client, thing, writer):
    """The newest value of many datastreams is read from the latest-value table; it must say what
    ranking the observations says, also after the newest observation was deleted or moved."""
    fast = f"{STA}/Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)"
    ranked = f"{STA}/Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc,id desc)"

    def both() -> tuple[list, list]:
        a, b = client.get(fast).json()["value"], client.get(ranked).json()["value"]
        return [d["Observations"] for d in a], [d["Observations"] for d in b]

    newest, same = both()
    assert newest == same and [o["result"] for o in newest[0]] == [1.5]
    keys = {"@iot.id", "@iot.selfLink", "phenomenonTime", "result", "Datastream@iot.navigationLink"}
    assert set(newest[0][0]) >= keys
    assert client.delete(f"{STA}/Observations({newest[0][0]['@iot.id']})", headers=writer).status_code == 200
    newest, same = both()
    assert newest == same and newest[0][0]["result"] == 1.4
    old = client.get(f"{STA}/Observations?$top=1&$orderby=phenomenonTime").json()["value"][0]
    moved = {"phenomenonTime": "2026-05-02T00:00:00Z"}
    assert client.patch(f"{STA}/Observations({old['@iot.id']})", json=moved, headers=writer).status_code == 200
    newest, same = both()
    assert newest == same and newest[0][0]["phenomenonTime"] == "2026-05-02T00:00:00Z"
    sel = client.get(fast.replace(")", ";$select=result)")).json()["value"][0]["Observations"]
    assert sel == [{"result": 1.0}]


def test_filters_are_translated_to_sql(client, thing):
    def results(filter_text: str) -> list[float]:
        body = client.get(f"{STA}/Observations", params={"$filter": filter_text, "$orderby": "result"}).json()
        return [round(o["result"], 6) for o in body["value"]]

    def names(entity_set: str, filter_text: str) -> list[str]:
        r = client.get(f"{STA}/{entity_set}", params={"$filter": filter_text, "$orderby": "id"})
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["value"]]

    assert results("result gt 1.25 and result le 1.4") == [1.3, 1.4]
    assert results("result add 1 gt 2.4 or result eq 1.0") == [1.0, 1.5]
    assert results("hour(phenomenonTime) ge 4") == [1.4, 1.5]
    assert results("phenomenonTime lt 2026-05-01T02:00:00Z") == [1.0, 1.1]
    assert results("Datastream/Thing/name eq '妙高溪水位站'") == [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    assert results("Datastream/ObservedProperty/name ne 'water level'") == []
    gauge = ["妙高溪水位站"]
    assert names("Things", "startswith(name, '妙高') and substringof('水位', name)") == gauge
    assert names("Things", "startswith(name, '_') or contains(name, '%') or endswith(name, '_')") == []
    assert names("Things", "endswith(name, '站x')") == []
    assert names("Things", "length(name) eq 6 and tolower(description) eq 'river gauge'") == gauge
    assert names("Things", "properties/river eq '妙高溪' and properties/level gt 1") == gauge
    assert names("Things", "Datastreams/unitOfMeasurement/symbol eq '%'") == gauge
    assert names("Things", "Datastreams/unitOfMeasurement/symbol eq '_'") == []
    assert results("round(result mul 10) eq 13 and floor(result) eq 1") == [1.3]
    inside = "geography'POLYGON((119 28, 120 28, 120 29, 119 29, 119 28))'"
    outside = "geography'POLYGON((100 20, 101 20, 101 21, 100 21, 100 20))'"
    bridge = ["妙高桥"]
    assert names("Locations", f"st_within(location, {inside})") == bridge
    assert names("Locations", f"st_within(location, {outside})") == []
    assert names("Things", f"st_intersects(Locations/location, {inside})") == gauge
    assert names("Things", f"st_intersects(Locations/location, {outside})") == []
    assert names("Locations", "geo.distance(location, geography'POINT(119.27 28.6)') lt 0.02") == bridge
    assert names("Locations", "geo.distance(location, geography'POINT(110 20)') lt 1") == []
    line = "geography'LINESTRING(119.27 28, 119.27 29)'"
    assert names("Locations", f"st_contains({inside}, location)") == bridge  # arguments either way
    assert names("Locations", f"st_disjoint(location, {outside})") == bridge
    assert names("Locations", f"st_disjoint(location, {inside})") == []
    assert names("Locations", f"st_touches(location, {line}) or st_intersects(location, {line})") == bridge
    assert names("Locations", "st_equals(location, geography'POINT(119.27 28.59)')") == bridge
    assert names("Locations", f"st_relate(location, {inside}, 'T*F**F***')") == bridge
    assert names("Locations", f"geo.distance(location, {line}) lt 0.001") == bridge
    assert names("Locations", "geo.length(location) eq 0") == bridge
    bad = client.get(f"{STA}/Locations?$filter=st_within(location, geography'POLYGON((1 1, 2')")
    assert bad.status_code == 400
    assert "is not a valid WKT geometry" in bad.json()["detail"]
    assert results("not (result lt 1.3)") == [1.3, 1.4, 1.5]


@pytest.mark.parametrize(
    "query, words",
    [
        ("$filter=name eq", "expected"),
        ("$filter=nosuch eq 1", "no property 'nosuch'"),
        ("$filter=name eq 'x' and", "at the end"),
        ("$filter=frobnicate(name)", "unknown function"),
        ("$filter=length(name, 1) eq 2", "takes 1"),
        ("$top=-1", "$top"),
        ("$top=abc", "whole number"),
        ("$expand=Nothing", "no navigation property"),
        ("$select=nosuch", "no property"),
        ("$orderby=Datastreams/name", "collection"),
        ("$frob=1", "unknown query option"),
        ("$filter=name eq 'x", "unexpected"),
    ],
)
def test_malformed_queries_are_400_naming_the_problem(client, db, query, words):
    r = client.get(f"{STA}/Things?{query}")
    assert r.status_code == 400, r.text
    assert words in r.json()["detail"]


def test_expand_nested_with_options_select_count(client, thing):
    tid = thing["@iot.id"]
    r = client.get(
        f"{STA}/Things({tid})?$select=name,Datastreams&$expand=Datastreams($select=name,id;$orderby=name asc;"
        "$expand=Observations($top=2;$orderby=result desc;$select=result;$count=true),ObservedProperty)"
    ).json()
    assert set(r) == {"name", "Datastreams"}
    level = next(d for d in r["Datastreams"] if d["name"] == "水位")
    assert [o["result"] for o in level["Observations"]] == [1.5, 1.4]
    assert level["Observations@iot.count"] == 6
    assert level["Observations@iot.nextLink"] == (
        f"http://testserver{STA}/Datastreams({level['@iot.id']})/Observations?%24orderby=result+desc&"
        "%24select=result&%24count=true&%24top=2&%24skip=2"
    )
    assert level["ObservedProperty"]["name"] == "water level"
    things = client.get(f"{STA}/Things?$count=true&$top=0").json()
    assert things["@iot.count"] == 1 and things["value"] == []
    ds = level["@iot.id"]
    assert client.get(f"{STA}/Datastreams({ds})/Observations?$count=true&$top=1").json()["@iot.count"] == 6


def test_data_array_both_ways(client, thing, writer):
    ds = client.get(f"{STA}/Datastreams?$filter=name eq '电量'").json()["value"][0]["@iot.id"]
    body = [
        {
            "Datastream": {"@iot.id": ds},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                ["2026-05-01T00:00:00Z", 90],
                ["2026-05-01T01:00:00Z", 89],
                ["bad", 1],
                ["2026-05-01T01:00:00Z", 89],
            ],
        }
    ]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=writer)
    assert r.status_code == 201
    links = r.json()
    assert [x == "error" for x in links] == [False, False, True, True]
    arr = client.get(f"{STA}/Datastreams({ds})/Observations?$resultFormat=dataArray&$orderby=phenomenonTime").json()
    assert arr["value"][0]["components"] == ["id", "phenomenonTime", "result"]
    assert [row[2] for row in arr["value"][0]["dataArray"]] == [90, 89]


def test_patch_put_delete_and_cascade(client, thing, writer):
    tid = thing["@iot.id"]
    assert client.patch(f"{STA}/Things({tid})", json={"description": "new"}, headers=writer).status_code == 200
    assert client.get(f"{STA}/Things({tid})").json()["description"] == "new"
    patch = [{"op": "replace", "path": "/properties/river", "value": "乌溪江"}]
    r = client.patch(
        f"{STA}/Things({tid})",
        content=__import__("json").dumps(patch),
        headers={**writer, "Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200
    assert client.get(f"{STA}/Things({tid})").json()["properties"] == {"river": "乌溪江", "level": 2}
    obs = client.get(f"{STA}/Observations?$top=1&$orderby=phenomenonTime").json()["value"][0]
    assert (
        client.patch(f"{STA}/Observations({obs['@iot.id']})", json={"result": 9.5}, headers=writer).status_code == 200
    )
    assert client.get(f"{STA}/Observations({obs['@iot.id']})").json()["result"] == 9.5
    assert client.delete(f"{STA}/Things({tid})", headers=writer).status_code == 200
    assert client.get(f"{STA}/Things({tid})").status_code == 404
    assert client.get(f"{STA}/Observations").json()["value"] == []
    sensors = client.get(f"{STA}/Sensors?$orderby=name").json()["value"]  # sensors outlive the thing (standard)
    assert [x["name"] for x in sensors] == ["bms", "radar"]


def test_observation_post_rules(client, thing, writer):
    ds = client.get(f"{STA}/Datastreams?$filter=name eq '水位'").json()["value"][0]["@iot.id"]
    url = f"{STA}/Datastreams({ds})/Observations"
    ok = client.post(url, json={"phenomenonTime": "2026-05-02T00:00:00Z", "result": 2.2}, headers=writer)
    assert ok.status_code == 201 and ok.headers["location"].endswith(f"Observations({ok.json()['@iot.id']})")
    dup = client.post(url, json={"phenomenonTime": "2026-05-02T00:00:00Z", "result": 2.2}, headers=writer)
    assert dup.status_code == 409
    assert (
        client.post(url, json={"phenomenonTime": "2099-01-01T00:00:00Z", "result": 1}, headers=writer).status_code
        == 400
    )
    assert client.post(url, json={"phenomenonTime": "2026-05-02T01:00:00Z"}, headers=writer).status_code == 400
    text = client.post(url, json={"phenomenonTime": "2026-05-02T02:00:00Z", "result": "dry"}, headers=writer)
    assert text.status_code == 201 and text.json()["result"] == "dry"
    assert client.get(f"{STA}/Observations?$filter=result eq 'dry'").json()["value"][0]["result"] == "dry"
    bad = client.post(f"{STA}/Datastreams", json={"name": "x"}, headers=writer)
    assert bad.status_code == 400 and "needs" in bad.json()["detail"]


def test_writes_need_credentials_and_reads_can_be_protected(client, db, monkeypatch):
    assert client.post(f"{STA}/Things", json={"name": "x"}).status_code == 401
    assert client.post(f"{STA}/Things", json={"name": "x"}, headers=basic("nobody", "x")).status_code == 401
    viewer = person(db, ["dispatcher"])
    tok = token_for(db, viewer, ["sensing.read"])
    assert (
        client.post(f"{STA}/Things", json={"name": "x"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 403
    )
    human = person(db, ["data_admin"])  # a person, not a machine account: no Basic
    assert (
        client.post(f"{STA}/Things", json={"name": "x"}, headers=basic(human.username, human.password)).status_code
        == 401
    )
    admin_tok = token_for(db, human, ["sensing.write"])
    r = client.post(f"{STA}/Things", json={"name": "x"}, headers={"Authorization": f"Bearer {admin_tok}"})
    assert r.status_code == 201
    monkeypatch.setenv("COUNTYOS_STA_PUBLIC_READ", "false")
    from countyos.core.settings import reset_settings

    reset_settings()
    assert client.get(f"{STA}/Things").status_code == 401
    assert client.get(f"{STA}/Things", headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_links_through_ref(client, thing, writer):
    """$ref adds and removes associations without touching the entities themselves."""
    tid = thing["@iot.id"]
    loc = {"name": "新桥", "description": "", "encodingType": "application/geo+json"}
    loc["location"] = {"type": "Point", "coordinates": [119.3, 28.6]}
    new_loc = client.post(f"{STA}/Locations", json=loc, headers=writer).json()
    r = client.post(f"{STA}/Things({tid})/Locations/$ref", json={"@iot.id": new_loc["@iot.id"]}, headers=writer)
    assert r.status_code == 204, r.text
    names = sorted(x["name"] for x in client.get(f"{STA}/Things({tid})/Locations").json()["value"])
    assert names == ["妙高桥", "新桥"]
    assert len(client.get(f"{STA}/Things({tid})/HistoricalLocations").json()["value"]) == 2
    old = client.get(f"{STA}/Things({tid})/Locations?$filter=name eq '妙高桥'").json()["value"][0]
    r = client.delete(f"{STA}/Things({tid})/Locations/$ref", params={"$id": old["@iot.selfLink"]}, headers=writer)
    assert r.status_code == 204, r.text
    assert [x["name"] for x in client.get(f"{STA}/Things({tid})/Locations").json()["value"]] == ["新桥"]
    assert client.get(f"{STA}/Locations({old['@iot.id']})").status_code == 200  # only the link is gone
    assert client.get(f"{STA}/Things({tid})").json()["name"] == "妙高溪水位站"

    ds = client.get(f"{STA}/Things({tid})/Datastreams?$filter=name eq '电量'").json()["value"][0]["@iot.id"]
    sensor = client.post(
        f"{STA}/Sensors",
        json={"name": "bms2", "description": "", "encodingType": "text/plain", "metadata": "x"},
        headers=writer,
    ).json()
    r = client.put(
        f"{STA}/Datastreams({ds})/Sensor/$ref", json={"@iot.selfLink": sensor["@iot.selfLink"]}, headers=writer
    )
    assert r.status_code == 204, r.text
    assert client.get(f"{STA}/Datastreams({ds})/Sensor").json()["name"] == "bms2"
    r = client.delete(f"{STA}/Datastreams({ds})/Sensor/$ref", headers=writer)
    assert r.status_code == 400 and "required" in r.json()["detail"]
    r = client.post(f"{STA}/Things({tid})/Locations/$ref", json={"@iot.id": 99999}, headers=writer)
    assert r.status_code == 404
    r = client.post(
        f"{STA}/Things({tid})/Locations/$ref", json={"@iot.selfLink": "http://x/Sensors(1)"}, headers=writer
    )
    assert r.status_code == 400
    assert client.post(f"{STA}/Things({tid})/Locations/$ref", json={"@iot.id": 1}).status_code == 401


def _us(text: str) -> int:
    from countyos.sensing.service.times import parse_iso

    return parse_iso(text)


def test_multidatastream_components_have_rollups(client, db, thing, writer):
    """A MultiDatastream's numeric components are rolled up like datastreams (charts over any range)."""
    tid = thing["@iot.id"]
    body = {
        "name": "气象",
        "description": "temperature and humidity",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation",
        "unitOfMeasurements": [{"name": "degree", "symbol": "°C"}, {"name": "percent", "symbol": "%"}],
        "multiObservationDataTypes": ["OM_Measurement", "OM_Measurement"],
        "Thing": {"@iot.id": tid},
        "Sensor": {"name": "th", "description": "", "encodingType": "text/plain", "metadata": "t"},
        "ObservedProperties": [
            {"name": "temperature", "definition": "t", "description": ""},
            {"name": "humidity", "definition": "h", "description": ""},
        ],
        "Observations": [
            {"phenomenonTime": f"2026-05-01T08:{m:02d}:00Z", "result": [20 + m, 60 - m]} for m in range(0, 40, 10)
        ],
    }
    r = client.post(f"{STA}/MultiDatastreams", json=body, headers=writer)
    assert r.status_code == 201, r.text
    mds = r.json()["@iot.id"]
    token = token_for(db, person(db, ["dispatcher"]), ["sensing.read"])

    def hour(component: int) -> dict:
        r = client.get(
            f"/api/v1/sensing/multidatastreams/{mds}/series",
            params={
                "component": component,
                "level": "hour",
                "start": "2026-05-01T08:00:00Z",
                "end": "2026-05-01T09:00:00Z",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        (point,) = r.json()["points"]
        return point

    assert hour(0) == {"t": "2026-05-01T08:00:00Z", "n": 4, "min": 20, "max": 50, "avg": 35, "last": 50}
    assert hour(1)["min"] == 30 and hour(1)["last"] == 30
    last = client.get(f"{STA}/MultiDatastreams({mds})/Observations?$orderby=phenomenonTime desc&$top=1").json()
    assert client.delete(f"{STA}/Observations({last['value'][0]['@iot.id']})", headers=writer).status_code == 200
    assert hour(0)["n"] == 3 and hour(0)["max"] == 40 and hour(0)["last"] == 40
    # Retention: the raw observations go after the class's raw period (standard: 90 days), the rollups stay.
    from countyos.sensing.service import retention

    retention.prune(db, now=_us("2026-05-01T08:00:00Z") + 91 * 86_400_000_000)
    assert client.get(f"{STA}/MultiDatastreams({mds})/Observations").json()["value"] == []
    assert hour(0)["n"] == 3
