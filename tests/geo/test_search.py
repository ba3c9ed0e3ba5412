"""Address and place search (GET /api/v1/geo/search): result shape, ranking, free-text addresses,
what anonymous callers see, and the bounds of the query."""

from __future__ import annotations

import pytest

from countyos.geo.service import locate
from tests.factories import person, token_for


@pytest.fixture
def reader(db, county):
    p = person(db, ["handler"])
    return {"Authorization": f"Bearer {token_for(db, p, ['geo.read'])}"}


def test_exact_name_as_people_write_it_comes_first_with_path_and_point(client, db, reader):
    hits = client.get("/api/v1/geo/search", params={"q": "石练村"}, headers=reader).json()
    first = hits[0]
    assert first["kind"] == "village" and first["code"] == "331123106226" and first["name"] == "石练村委会"
    assert first["path"] == ["遂昌县", "石练镇"] and first["precise"] is False and first["approximate"] is True
    assert first["kind_name"] in ("Village", "村（社区）")
    with db.reading() as s:  # the point lies inside the village it names
        assert locate(s, lon=first["lon"], lat=first["lat"]).village_code == "331123106226"
    assert set(first) == {
        "kind", "kind_name", "code", "name", "path", "lon", "lat", "precise", "approximate", "bbox",
    }  # fmt: skip


def test_ranking_starts_with_before_contains_and_townships_before_villages(client, reader):
    names = [h["name"] for h in client.get("/api/v1/geo/search?q=石练", headers=reader).json()]
    assert names[:3] == ["石练镇", "石练村委会", "石练镇居民委员会"]  # township, then shorter village names
    kinds = [h["kind"] for h in client.get("/api/v1/geo/search?q=大柘", headers=reader).json()]
    assert kinds[0] == "township"
    contains = [h["name"] for h in client.get("/api/v1/geo/search?q=柘", headers=reader).json()]
    assert contains.index("柘溪上村委会") < contains.index("大柘镇居民委员会")  # starts with 柘 before contains


def test_free_text_address_is_placed_in_the_village_it_names(client, reader):
    q = "石练镇石练村老街12号旁边"
    first = client.get("/api/v1/geo/search", params={"q": q}, headers=reader).json()[0]
    assert first["kind"] == "address" and first["name"] == q and first["code"] == "331123106226"
    assert first["path"] == ["遂昌县", "石练镇", "石练村委会"]


def test_codes_find_grids_for_readers_but_not_for_the_public(client, reader):
    hits = client.get("/api/v1/geo/search?q=331123001", headers=reader).json()
    assert hits[0]["kind"] == "township" and hits[0]["code"] == "331123001"
    grids = client.get("/api/v1/geo/search?q=331123106226&limit=20", headers=reader).json()
    assert [h["kind"] for h in grids][:1] == ["village"] and any(h["kind"] == "grid" for h in grids)
    g = next(h for h in grids if h["kind"] == "grid")
    assert g["code"].startswith("331123106226") and g["path"] == ["遂昌县", "石练镇", "石练村委会"]
    public = client.get("/api/v1/geo/search?q=331123106226&limit=20").json()
    assert public and {h["kind"] for h in public} == {"village"}


def test_results_and_query_are_bounded(client, reader):
    assert len(client.get("/api/v1/geo/search?q=村&limit=20", headers=reader).json()) == 20
    assert len(client.get("/api/v1/geo/search?q=村", headers=reader).json()) == 10
    assert client.get("/api/v1/geo/search?q=村&limit=21", headers=reader).status_code == 422
    assert client.get("/api/v1/geo/search", params={"q": "村" * 51}, headers=reader).status_code == 422
    assert client.get("/api/v1/geo/search?q=", headers=reader).status_code == 422
    assert client.get("/api/v1/geo/search", params={"q": "%_%"}, headers=reader).json() == []  # LIKE escaped
    assert client.get("/api/v1/geo/search", params={"q": "火星基地"}, headers=reader).json() == []


def test_components_are_places_for_readers_with_a_surveyed_point(client, db, reader):
    from shapely.geometry import Point

    from countyos.core.actor import Actor
    from countyos.geo.service import components

    with db.unit_of_work() as s:
        town = locate(s, lon=119.2700, lat=28.5900)
        c = components.create(
            s,
            actor=Actor(id=None, name="test"),
            item=components.ComponentIn(class_code="03001", geom=Point(119.2700, 28.5900), name="北街公共厕所"),
        )
        code = c.code
    hits = client.get("/api/v1/geo/search", params={"q": "北街公共厕所"}, headers=reader).json()
    first = hits[0]
    assert (first["kind"], first["code"], first["precise"]) == ("component", code, True)
    assert (first["lon"], first["lat"]) == (119.27, 28.59)
    assert first["path"] == ["遂昌县", town.township_name, town.village_name]
    public = client.get("/api/v1/geo/search", params={"q": "北街公共厕所"}).json()
    assert all(h["kind"] != "component" for h in public)


def test_kinds_are_named_in_the_interface_language(client, reader):
    zh = client.get("/api/v1/geo/search?q=石练", headers=reader).json()
    assert [h["kind_name"] for h in zh[:2]] == ["乡镇（街道）", "村（社区）"]
    en = client.get("/api/v1/geo/search?q=石练&lang=en").json()  # a citizen who chose English
    assert [h["kind_name"] for h in en[:2]] == ["Township", "Village"]
