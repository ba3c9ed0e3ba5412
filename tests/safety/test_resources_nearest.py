"""Nearest-first resources: by straight line, and along a small road network where the order along the
roads differs from the straight-line order; a resource off the network falls back to the straight line;
a one-way road is driven one way only; the API is bounded."""

from __future__ import annotations

from shapely.geometry import LineString

from countyos.geo.service.crs import distance_m
from countyos.safety.models.traffic import RoadSegment
from countyos.safety.schemas.resources import ShelterIn, TeamIn
from countyos.safety.service import resources
from countyos.safety.service import resources_registry as registry
from tests.factories import login, person
from tests.safety.plans_helpers import KEEPER

P = (119.0, 28.0)
EAST = (119.0102, 28.0)  # about 1 km east, reached by a long detour
NORTH = (119.0, 28.0135)  # about 1.5 km north, on a straight road
FAR = (119.2, 28.2)  # on a road of its own, not connected


def _road(s, a: tuple[float, float], b: tuple[float, float], *, oneway: bool = False) -> None:
    s.add(
        RoadSegment(
            name="测试路",
            geom=LineString([a, b]),
            length_m=distance_m(*a, *b),
            start_lon=a[0],
            start_lat=a[1],
            end_lon=b[0],
            end_lat=b[1],
            oneway=oneway,
        )
    )


def _resources(s) -> None:
    registry.save_shelter(s, actor=KEEPER, data=ShelterIn(name="东避难所", lon=EAST[0], lat=EAST[1], capacity=100))
    registry.save_shelter(s, actor=KEEPER, data=ShelterIn(name="北避难所", lon=NORTH[0], lat=NORTH[1], capacity=300))
    registry.save_team(s, actor=KEEPER, data=TeamIn(name="远处队伍", kind="volunteer", lon=FAR[0], lat=FAR[1]))


def test_straight_line_order(db):
    with db.unit_of_work() as s:
        _resources(s)
        rows = resources.nearest(s, lon=P[0], lat=P[1])
        assert [r.name for r in rows] == ["东避难所", "北避难所", "远处队伍"]
        assert all(r.by == "straight" for r in rows)
        assert 950 < rows[0].distance_m < 1050
        assert [r.name for r in resources.nearest(s, lon=P[0], lat=P[1], kinds=["team"])] == ["远处队伍"]
        assert len(resources.nearest(s, lon=P[0], lat=P[1], limit=1)) == 1


def test_along_roads_the_order_differs_and_unconnected_falls_back(db):
    south, south_east = (119.0, 27.98), (119.0102, 27.98)
    with db.unit_of_work() as s:
        _resources(s)
        _road(s, P, NORTH)
        _road(s, P, south)
        _road(s, south, south_east)
        _road(s, south_east, EAST)
        _road(s, (119.19, 28.2), FAR)  # a road of its own
        s.flush()
        rows = resources.nearest(s, lon=P[0], lat=P[1], by="road")
        by_name = {r.name: r for r in rows}
        assert [r.name for r in rows][:2] == ["北避难所", "东避难所"]
        assert by_name["东避难所"].by == "road" and by_name["东避难所"].distance_m > 5000
        assert by_name["北避难所"].by == "road" and 1400 < by_name["北避难所"].distance_m < 1600
        assert by_name["远处队伍"].by == "straight"


def test_one_way_roads_are_driven_one_way(db):
    with db.unit_of_work() as s:
        _resources(s)
        _road(s, NORTH, P, oneway=True)  # towards P only
        _road(s, P, EAST)
        s.flush()
        rows = {r.name: r for r in resources.nearest(s, lon=P[0], lat=P[1], by="road")}
        assert rows["东避难所"].by == "road"
        assert rows["北避难所"].by == "straight"  # not reachable from P along the one-way road


def test_the_api_is_bounded(db, client):
    with db.unit_of_work() as s:
        _resources(s)
    login(client, person(db, ["emergency_officer"]))
    url = "/api/v1/safety/resources/nearest"
    ok = client.get(url, params={"lon": P[0], "lat": P[1], "kinds": ["shelter"], "limit": 5})
    assert ok.status_code == 200, ok.text
    assert [r["name"] for r in ok.json()] == ["东避难所", "北避难所"]
    assert client.get(url, params={"lon": 200, "lat": 0}).status_code == 422
    assert client.get(url, params={"lon": 0, "lat": 0, "limit": 51}).status_code == 422
    assert client.get(url, params={"lon": 0, "lat": 0, "by": "air"}).status_code == 422
