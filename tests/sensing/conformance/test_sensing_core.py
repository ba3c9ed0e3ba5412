"""OGC SensorThings API 1.1, conformance class A.1 Sensing Core (reads): the service root, every
entity set with its mandatory properties, the ``@iot.id`` / ``@iot.selfLink`` /
``…@iot.navigationLink`` annotations, and navigation between related entities."""

from __future__ import annotations

import pytest

from tests.sensing.sta_world import STA

BASE = f"http://testserver{STA}"

# Entity set → (mandatory properties of SensorThings 1.1 §8.2, navigation properties incl. the
# MultiDatastream extension)
MODEL = {
    "Things": ({"name", "description"}, {"Locations", "HistoricalLocations", "Datastreams", "MultiDatastreams"}),
    "Locations": ({"name", "description", "encodingType", "location"}, {"Things", "HistoricalLocations"}),
    "HistoricalLocations": ({"time"}, {"Thing", "Locations"}),
    "Datastreams": (
        {"name", "description", "unitOfMeasurement", "observationType"},
        {"Thing", "Sensor", "ObservedProperty", "Observations"},
    ),
    "MultiDatastreams": (
        {"name", "description", "unitOfMeasurements", "observationType", "multiObservationDataTypes"},
        {"Thing", "Sensor", "ObservedProperties", "Observations"},
    ),
    "Sensors": ({"name", "description", "encodingType", "metadata"}, {"Datastreams", "MultiDatastreams"}),
    "ObservedProperties": ({"name", "definition", "description"}, {"Datastreams", "MultiDatastreams"}),
    "Observations": (
        {"phenomenonTime", "result", "resultTime"},
        {"Datastream", "MultiDatastream", "FeatureOfInterest"},
    ),
    "FeaturesOfInterest": ({"name", "description", "encodingType", "feature"}, {"Observations"}),
}
COUNTS = {
    "Things": 2,
    "Locations": 2,
    "HistoricalLocations": 2,
    "Datastreams": 3,
    "MultiDatastreams": 0,
    "Sensors": 3,
    "ObservedProperties": 3,
    "Observations": 9,
    "FeaturesOfInterest": 2,
}


def test_service_root_lists_every_entity_set_and_the_conformance_classes(client, sta):
    root = client.get(STA).json()
    assert {e["name"]: e["url"] for e in root["value"]} == {name: f"{BASE}/{name}" for name in MODEL}
    conformance = root["serverSettings"]["conformance"]
    for cls in ("datamodel", "resource-path/resource-path-to-entities", "request-data"):
        assert f"http://www.opengis.net/spec/iot_sensing/1.1/req/{cls}" in conformance


@pytest.mark.parametrize("entity_set", list(MODEL))
def test_every_entity_has_its_properties_and_annotations(client, sta, entity_set):
    mandatory, navs = MODEL[entity_set]
    body = client.get(f"{STA}/{entity_set}").json()
    assert set(body) == {"value"}
    assert len(body["value"]) == COUNTS[entity_set]
    for entity in body["value"]:
        assert isinstance(entity["@iot.id"], int)
        self_link = f"{BASE}/{entity_set}({entity['@iot.id']})"
        assert entity["@iot.selfLink"] == self_link
        assert mandatory <= set(entity), mandatory - set(entity)
        links = {
            k.removesuffix("@iot.navigationLink"): v for k, v in entity.items() if k.endswith("@iot.navigationLink")
        }
        assert links == {nav: f"{self_link}/{nav}" for nav in navs}
        assert client.get(entity["@iot.selfLink"].replace("http://testserver", "")).json() == entity


def test_navigation_links_lead_to_the_related_entities(client, sta):
    level = client.get(f"{STA}/Datastreams({sta.level})").json()
    thing = client.get(level["Thing@iot.navigationLink"].replace("http://testserver", "")).json()
    assert (thing["@iot.id"], thing["name"]) == (sta.gauge, "妙高溪水位站")
    streams = client.get(thing["Datastreams@iot.navigationLink"].replace("http://testserver", "")).json()
    assert sorted(d["@iot.id"] for d in streams["value"]) == sorted([sta.level, sta.battery])
    sensor = client.get(level["Sensor@iot.navigationLink"].replace("http://testserver", "")).json()
    assert sensor["name"] == "radar"
    prop = client.get(level["ObservedProperty@iot.navigationLink"].replace("http://testserver", "")).json()
    assert prop["definition"] == "http://example.org/water level"
    obs = client.get(level["Observations@iot.navigationLink"].replace("http://testserver", "")).json()["value"]
    assert sorted(o["result"] for o in obs) == [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    located = client.get(f"{STA}/Things({sta.rain})/Locations").json()["value"]
    assert [(x["name"], x["location"]) for x in located] == [
        ("北界村", {"type": "Point", "coordinates": [119.21, 28.62]})
    ]
    history = client.get(f"{STA}/Things({sta.rain})/HistoricalLocations?$expand=Locations($select=name)").json()
    assert [[x["name"] for x in h["Locations"]] for h in history["value"]] == [["北界村"]]


def test_observation_times_and_units_are_as_stored(client, sta):
    first = client.get(f"{STA}/Datastreams({sta.rainfall})/Observations?$orderby=phenomenonTime&$top=1").json()
    (obs,) = first["value"]
    assert (obs["phenomenonTime"], obs["result"], obs["resultTime"]) == ("2026-05-02T10:00:00Z", 0.0, None)
    stream = client.get(f"{STA}/Datastreams({sta.rainfall})").json()
    assert stream["unitOfMeasurement"] == {
        "name": "millimetre",
        "symbol": "mm",
        "definition": "http://example.org/millimetre",
    }
    assert stream["phenomenonTime"] == "2026-05-02T10:00:00Z/2026-05-02T12:00:00Z"


def test_an_entity_that_does_not_exist_is_404(client, sta):
    r = client.get(f"{STA}/Things(999999)")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{STA}/Datastreams(999999)/Observations").json() == {"value": []}
