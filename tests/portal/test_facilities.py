"""The public service directory as residents use it: nearest first from the phone's position (kept
nowhere), search by name and pinyin initials, kinds, closed facilities gone, the live figure and its
staleness, the small map picture."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Base, Database
from countyos.geo.models import Division
from countyos.geo.service import distance_m
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import FacilityIn
from countyos.portal.service import facilities as svc
from countyos.sensing.models import Latest
from countyos.sensing.service import devices
from countyos.sensing.service.times import to_us
from tests.factories import login, person
from tests.portal.notices_world import NoticesWorld, actor_of

API = "/api/v1/portal/facilities"


@pytest.fixture
def api(app) -> Iterator[TestClient]:
    """A client of the app, whose facilities API is under /api/v1."""
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def point_in(db: Database, code: str, dx: float = 0.0) -> tuple[float, float]:
    """A point inside the division CODE (its representative point, moved DX degrees east if still inside)."""
    with db.unit_of_work() as s:
        geom = s.scalars(select(Division.geom).where(Division.code == code)).one()
        p = geom.representative_point()
        return round(p.x + dx, 6), round(p.y, 6)


def add(
    db: Database, actor: Actor, name: str, kind: FacilityKind, at: tuple[float, float], **extra: object
) -> Facility:
    with db.unit_of_work() as s:
        f = svc.create(s, actor=actor, data=FacilityIn(kind=kind, name=name, lon=at[0], lat=at[1], **extra))  # type: ignore[arg-type]
        s.expunge(f)
        return f


@pytest.fixture
def directory(db: Database, notices_world: NoticesWorld) -> dict[str, Facility]:
    w = notices_world
    keeper = actor_of(db, w.town_publisher)
    return {
        "clinic": add(db, keeper, "大田村卫生室", FacilityKind.CLINIC, point_in(db, w.village), hours="8:00-17:00"),
        "hospital": add(
            db, keeper, "县人民医院", FacilityKind.HOSPITAL, point_in(db, w.village2), phone="0578-8121120"
        ),
        "pharmacy": add(db, keeper, "妙高大药房", FacilityKind.PHARMACY, point_in(db, w.other_village)),
        "toilet": add(db, keeper, "集镇公厕", FacilityKind.TOILET, point_in(db, w.town)),
    }


def test_nearest_first_from_a_position_that_is_kept_nowhere(
    db, notices_world: NoticesWorld, directory: dict[str, Facility], api: TestClient, caplog
) -> None:
    w = notices_world
    lon, lat = point_in(db, w.other_village)
    lon, lat = lon + 0.0001234, lat - 0.0004321  # a position no record holds
    needle_lon, needle_lat = f"{lon:.7f}", f"{lat:.7f}"
    expected = sorted(directory.values(), key=lambda f: distance_m(lon, lat, f.lon, f.lat))
    caplog.set_level(logging.DEBUG)
    got = api.get(API, params={"lon": needle_lon, "lat": needle_lat}).json()
    assert [i["name"] for i in got["items"]] == [f.name for f in expected]
    distances = [i["distance_m"] for i in got["items"]]
    assert distances == sorted(distances) and distances[0] < 200
    # the resident's page: nearest first, the distance shown, and the position in no link of the page
    resident = person(db, ["resident"], phone="13905781234")
    login(api, resident, expect_full=False)
    page = api.get("/portal/facilities", params={"lon": needle_lon, "lat": needle_lat})
    assert page.status_code == 200
    html = page.text
    assert html.index(expected[0].name) < html.index(expected[-1].name)
    assert " m</span>" in html or " km</span>" in html
    assert needle_lon[:9] not in html and needle_lat[:8] not in html
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    # the script asks only when tapped: the button is there, hidden until the script shows it
    assert 'id="pt-near" hidden' in html and "/static/js/portal-near.js" in html
    # kept nowhere: no row of any table, no log line holds it
    with db.unit_of_work() as s:
        for table in Base.metadata.sorted_tables:
            if table.name.startswith(("geo_", "sensing_observation")):
                continue
            text = repr(s.execute(select(table)).all())
            assert needle_lon[:10] not in text and needle_lat[:9] not in text, table.name
    logged = " ".join(r.getMessage() for r in caplog.records if r.name != "httpx")  # httpx: the test's client
    assert needle_lon[:10] not in logged and needle_lat[:9] not in logged


def test_without_a_position_by_kind_and_name(directory: dict[str, Facility], api: TestClient) -> None:
    got = api.get(API).json()
    assert got["total"] == 4 and all(i["distance_m"] is None for i in got["items"])
    assert [i["kind"] for i in got["items"]] == ["hospital", "clinic", "pharmacy", "toilet"]  # the kinds' order


def test_search_by_name_and_pinyin_initials(directory: dict[str, Facility], api: TestClient) -> None:
    def names(q: str) -> list[str]:
        return [i["name"] for i in api.get(API, params={"q": q}).json()["items"]]

    assert names("卫生室") == ["大田村卫生室"]
    assert names("xrmyy") == ["县人民医院"]  # all its initials
    assert names("wss") == ["大田村卫生室"]  # initials inside the name's
    assert names("yao") == ["妙高大药房"]  # its pinyin
    assert names("邮局") == []
    page = api.get("/portal/facilities", params={"q": "dtc"}).text
    assert "大田村卫生室" in page and "县人民医院" not in page


def test_kind_filter(directory: dict[str, Facility], api: TestClient) -> None:
    got = api.get(API, params={"kind": "pharmacy"}).json()
    assert [i["name"] for i in got["items"]] == ["妙高大药房"]
    assert api.get(API, params={"kind": "school"}).json()["total"] == 0
    page = api.get("/portal/facilities", params={"kind": "clinic"}).text
    assert "大田村卫生室" in page and "妙高大药房" not in page
    assert 'href="/portal/facilities?kind=pharmacy"' in page  # a chip per kind that has facilities
    assert 'href="/portal/facilities?kind=school"' not in page
    assert api.get(API, params={"limit": 51}).status_code == 422  # bounded page size


def test_a_closed_facility_leaves_the_public_pages_and_api(
    db, notices_world: NoticesWorld, directory: dict[str, Facility], api: TestClient
) -> None:
    clinic = directory["clinic"]
    assert api.get(f"{API}/{clinic.token}").json()["name"] == "大田村卫生室"
    assert api.get(f"/portal/facilities/{clinic.token}").status_code == 200
    with db.unit_of_work() as s:
        svc.act(s, actor=actor_of(db, notices_world.town_publisher), facility_id=clinic.id, action=svc.Action.CLOSE)
    assert "大田村卫生室" not in [i["name"] for i in api.get(API).json()["items"]]
    assert api.get(API, params={"q": "卫生室"}).json()["total"] == 0
    assert api.get(f"{API}/{clinic.token}").status_code == 404
    assert api.get(f"/portal/facilities/{clinic.token}").status_code == 404
    assert api.get(f"/portal/facilities/{clinic.token}/map.png").status_code == 404
    assert "大田村卫生室" not in api.get("/portal/facilities").text


def test_the_detail_page_and_its_map_picture(directory: dict[str, Facility], api: TestClient) -> None:
    hospital = directory["hospital"]
    page = api.get(f"/portal/facilities/{hospital.token}")
    assert page.status_code == 200
    assert 'href="tel:0578-8121120"' in page.text and "/geo/map" not in page.text
    assert len(page.content) < 100_000
    picture = api.get(f"/portal/facilities/{hospital.token}/map.png")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG") and len(picture.content) < 200_000
    again = api.get(f"/portal/facilities/{hospital.token}/map.png", headers={"If-None-Match": picture.headers["etag"]})
    assert again.status_code == 304


def test_the_live_figure_and_its_staleness(db, notices_world: NoticesWorld, api: TestClient) -> None:
    w = notices_world
    at = point_in(db, w.town)
    with db.unit_of_work() as s:
        thing = devices.register(
            s,
            actor=Actor(id=None, name="test"),
            spec=devices.DeviceSpec(
                "parking-01", "集镇停车场车位检测", "parking", at[0], at[1],
                metrics=(devices.MetricSpec("free", "空余车位", "count", "个", valid_min=0, valid_max=1000),),
            ),
        )  # fmt: skip
        (stream,) = devices.datastreams_of(s, thing_id=thing.id)
        stream_id = stream.id
        five_minutes_ago = to_us(utcnow() - timedelta(minutes=5))
        s.add(
            Latest(
                datastream_id=stream_id,
                phenomenon_us=five_minutes_ago,
                result=12.0,
                observation_id=1,
                reported_us=five_minutes_ago,
                changed_us=five_minutes_ago,
            )
        )
    parking = add(
        db, actor_of(db, w.town_publisher), "集镇停车场", FacilityKind.PARKING, at, datastream_id=stream_id,
        live_label="空余车位",
    )  # fmt: skip
    got = api.get(f"{API}/{parking.token}").json()["live"]
    assert got["label"] == "空余车位" and got["value"] == 12.0 and got["current"] is True and got["unit"] == "个"
    page = api.get(f"/portal/facilities/{parking.token}").text
    assert 'id="pt-live-value">12<' in page and ("5 分钟前" in page or "5 min ago" in page)
    old = to_us(utcnow() - timedelta(hours=5))
    with db.unit_of_work() as s:
        s.execute(update(Latest).where(Latest.datastream_id == stream_id).values(phenomenon_us=old))
    got = api.get(f"{API}/{parking.token}").json()["live"]
    assert got["current"] is False
    page = api.get(f"/portal/facilities/{parking.token}").text
    assert 'id="pt-live-none"' in page and 'id="pt-live-value"' not in page
    # a list answer carries no live figure (one read per facility page only)
    assert api.get(API).json()["items"][0]["live"] is None
