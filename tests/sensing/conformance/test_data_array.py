"""OGC SensorThings API v1.1, conformance class A.6 Data Array extension
(http://www.opengis.net/spec/iot_sensing/1.1/req/data-array): ``CreateObservations`` answers a
self link or ``"error"`` per row, and ``$resultFormat=dataArray`` reads observations back the same
way. A malformed request is a 400 naming the field; a bad row is an ``"error"`` and stores nothing."""

from __future__ import annotations

import pytest

from tests.sensing.sta_helpers import machine

STA = "/sta/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@pytest.fixture
def writer(db):
    return machine(db)


@pytest.fixture
def stream(client, writer) -> int:
    body = {
        "name": "雨量站",
        "description": "rain gauge",
        "Locations": [
            {
                "name": "北界",
                "description": "",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [119.21, 28.62]},
            }
        ],
        "Datastreams": [
            {
                "name": "降雨量",
                "description": "rain",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {"name": "millimetre", "symbol": "mm", "definition": ""},
                "Sensor": {"name": "tipping bucket", "description": "", "encodingType": "text/plain", "metadata": "t"},
                "ObservedProperty": {"name": "rain", "definition": "http://example.org/rain", "description": ""},
            }
        ],
    }
    r = client.post(f"{STA}/Things", json=body, headers=writer)
    assert r.status_code == 201, r.text
    return client.get(f"{STA}/Datastreams").json()["value"][0]["@iot.id"]


def test_create_observations_answers_a_link_or_error_per_row(client, writer, stream):
    foi = client.post(
        f"{STA}/FeaturesOfInterest",
        json={
            "name": "catchment",
            "description": "",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [119.2, 28.6]},
        },
        headers=writer,
    ).json()["@iot.id"]
    body = [
        {
            "Datastream": {"@iot.id": stream},
            "components": ["phenomenonTime", "result", "resultTime", "FeatureOfInterest/id"],
            "dataArray": [
                ["2026-05-01T00:00:00Z", 1.5, "2026-05-01T00:00:05Z", foi],
                ["2026-05-01T09:00:00+08:00", 2.5, None, foi],  # 01:00Z
                ["2026-05-01T02:00:00", 3.5, None, foi],  # no zone: which instant? refused
                ["2026-05-01T03:00:00Z", 4.5, None],  # too short
                ["2026-05-01T00:00:00Z", 1.5, None, foi],  # already stored
                ["2026-05-01T04:00:00Z", 5.5, None, 99999],  # no such FeatureOfInterest
            ],
        }
    ]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=writer)
    assert r.status_code == 201
    links = r.json()
    assert [link == "error" for link in links] == [False, False, True, True, True, True]
    assert all(link.startswith(f"http://testserver{STA}/Observations(") for link in links[:2])
    first = client.get(links[0].replace("http://testserver", "")).json()
    assert (first["phenomenonTime"], first["result"], first["resultTime"]) == (
        "2026-05-01T00:00:00Z",
        1.5,
        "2026-05-01T00:00:05Z",
    )
    assert client.get(links[0].replace("http://testserver", "") + "/FeatureOfInterest").json()["@iot.id"] == foi


def test_data_array_result_format_reads_back_what_was_sent(client, writer, stream):
    rows = [[f"2026-05-01T0{h}:00:00Z", h / 2] for h in range(4)]
    body = [{"Datastream": {"@iot.id": stream}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    assert client.post(f"{STA}/CreateObservations", json=body, headers=writer).status_code == 201
    got = client.get(
        f"{STA}/Datastreams({stream})/Observations",
        params={"$resultFormat": "dataArray", "$select": "phenomenonTime,result", "$orderby": "phenomenonTime"},
    ).json()
    (group,) = got["value"]
    assert group["Datastream@iot.navigationLink"].endswith(f"Datastreams({stream})")
    assert group["components"] == ["phenomenonTime", "result"]
    assert group["dataArray"] == rows


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"components": ["result"], "dataArray": []}, [{"field": "", "message": "CreateObservations takes a list"}]),
        (
            [{"components": ["phenomenonTime", "result"], "dataArray": [["2026-05-01T00:00:00Z", 1]]}],
            [{"field": "[0]", "message": "each item needs exactly one of Datastream or MultiDatastream"}],
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "colour"], "dataArray": []}],
            [{"field": "[0]", "message": "unknown components: colour"}],
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": "result", "dataArray": []}],
            [{"field": "[0].components", "message": "Input should be a valid list"}],
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": {"a": 1}}],
            [{"field": "[0].dataArray", "message": "Input should be a valid list"}],
        ),
    ],
    ids=["not-a-list", "no-stream", "unknown-component", "components-text", "rows-object"],
)
def test_malformed_requests_are_400_naming_the_field(client, writer, stream, body, errors):
    r = client.post(f"{STA}/CreateObservations", json=body, headers=writer)
    assert r.status_code == 400, r.text
    got = r.json().get("errors") or [{"field": "", "message": r.json()["detail"].split(" of {")[0]}]
    assert got == errors
    assert client.get(f"{STA}/Observations?$count=true").json()["@iot.count"] == 0
