"""The demo's traffic part loads on the sensing demo: a connected road network of 60–120 segments, 8 lots (3
counted by parking-01..03), 6 incidents of which 2 are published now; its pages answer."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.demo import DemoContext
from countyos.safety import demo_traffic
from countyos.safety.models.traffic import IncidentState, ParkingLot, RoadIncident, RoadSegment
from countyos.sensing.demo import load as load_sensing
from tests.factories import login, person
from tests.geo.conftest import bare_county, geo_bare_county_baseline
from tests.village.tourism_helpers import fake_geo

__all__ = ["bare_county", "fake_geo", "geo_bare_county_baseline"]


def components(segments: list[RoadSegment]) -> int:
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def find(p: tuple[float, float]) -> tuple[float, float]:
        parent.setdefault(p, p)
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for s in segments:
        a = (round(s.start_lon, 6), round(s.start_lat, 6))
        b = (round(s.end_lon, 6), round(s.end_lat, 6))
        parent[find(a)] = find(b)
    return len({find(p) for p in list(parent)})


def test_demo_loads_a_connected_network_lots_and_incidents(db, client, fake_geo):
    ctx = DemoContext()
    jtj = person(db, ["traffic_officer"])
    ctx.user_ids["jtj"] = jtj.id
    with db.unit_of_work() as s:
        load_sensing(s, ctx)
        demo_traffic.load(s, ctx)
    with db.reading() as s:
        segments = list(s.scalars(select(RoadSegment)))
        road_id = segments[0].id
        assert 60 <= len(segments) <= 120
        assert components(segments) == 1
        assert {x.road_class.value for x in segments} >= {"national", "expressway", "county", "township"}
        assert all(x.length_m > 0 for x in segments)
        lots = list(s.scalars(select(ParkingLot)))
        lot_id = lots[0].id
        assert len(lots) == 8
        sensed = {x.name for x in lots if x.datastream_id is not None}
        assert sensed == {"县城中心停车场", "神龙谷景区停车场", "县人民医院停车场"}
        states = dict(s.execute(select(RoadIncident.state, func.count()).group_by(RoadIncident.state)).all())
        assert states == {IncidentState.PUBLISHED: 2, IncidentState.ENDED: 4}
        assert all(i.created_by == jtj.id for i in s.scalars(select(RoadIncident)))
    assert any("Traffic" in n for n in ctx.notes)
    notices = client.get("/api/v1/safety/traffic/notices").json()
    assert len(notices) == 2 and all(n["road"] for n in notices)
    parking = client.get("/api/v1/safety/traffic/parking").json()
    assert len(parking) == 7
    login(client, person(db, ["traffic_officer"]))
    for url in ("/safety/traffic", "/safety/traffic/roads", "/safety/traffic/parking", "/safety/traffic/incidents",
                f"/safety/traffic/roads/{road_id}", f"/safety/traffic/parking/{lot_id}"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert client.get("/portal/roads").status_code == 200


def test_demo_roads_join_the_township_seats_of_the_bootstrapped_county(db, client, bare_county):
    with db.unit_of_work() as s:
        seats = demo_traffic._seats(s)
        segments = demo_traffic.load_roads(s)
        n, parts = len(segments), components(segments)
    assert seats != demo_traffic.FALLBACK_SEATS and len(seats) >= 10
    assert 60 <= n <= 120 and parts == 1
    login(client, person(db, ["traffic_officer"]))
    page = client.get("/safety/traffic")
    assert page.status_code == 200 and page.text.count("<polyline") >= n
