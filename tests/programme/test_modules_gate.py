"""A switched-off module is gone for people and machines — its pages, API, public pages, menu entries, tiles on
the operations view — while the OpenAPI document still lists it; switched back on, everything it had is back."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.eco.models.water import WaterSection
from countyos.ioc.service import indicators
from tests.programme.modules_helpers import bearer, leader, menu_links, switch  # noqa: F401

SECTION = {
    "code": "MOD-001",
    "name": "模块测试断面",
    "water_name": "松阴溪",
    "waterbody": "river",
    "lon": 119.21,
    "lat": 28.55,
    "level": "county",
    "target_class": "II",
}


def test_an_off_module_answers_404_to_pages_api_and_public_pages_and_keeps_its_records(db, leader):  # noqa: F811
    client = leader
    keeper = bearer(db, ["eco_monitor"], ["eco.monitor.read", "eco.monitor.manage"])
    made = client.post("/api/v1/eco/water/sections", json=SECTION, headers=keeper)
    assert made.status_code == 201, made.text
    before = {
        "/eco/water": 200,
        "/eco/monitor": 200,
        "/village/batches": 200,
        "/portal/scenic": 200,
    }
    for url, status in before.items():
        assert client.get(url).status_code == status, url
    assert client.get("/api/v1/eco/water/sections", headers=keeper).status_code == 200
    anonymous = client.__class__(client.app, base_url="http://testserver")
    assert anonymous.post("/api/v1/eco/air/aqi", json={}).status_code == 422  # there, and the input refused
    assert "模块测试断面" in client.get("/eco/water").text

    switch(db, "village", False, note="二期再开")
    switch(db, "eco", False)
    for url in before:
        assert client.get(url).status_code == 404, url
    r = client.get("/api/v1/eco/water/sections", headers=keeper)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    # a write of a module that is off is refused before its input is even read
    assert client.post("/api/v1/eco/water/sections", json={}, headers=keeper).status_code == 404
    # the public ones too: no sign-in
    assert anonymous.get("/portal/scenic").status_code == 404
    assert anonymous.post("/api/v1/eco/air/aqi", json={}).status_code == 404
    assert anonymous.get("/t/NO-SUCH-CODE").status_code == 404
    # the platform's own pages are there
    assert client.get("/programme/roadmap").status_code == 200
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WaterSection).where(WaterSection.code == "MOD-001")) == 1

    switch(db, "eco", True)
    switch(db, "village", True)
    for url, status in before.items():
        assert client.get(url).status_code == status, url
    listed = client.get("/api/v1/eco/water/sections", headers=keeper).json()
    assert [s["code"] for s in listed if s["code"] == "MOD-001"] == ["MOD-001"]
    assert "模块测试断面" in client.get("/eco/water").text


def test_the_openapi_document_still_lists_an_off_module(db, client):
    switch(db, "eco", False)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/eco/water/sections" in paths
    assert any(p.startswith("/api/v1/village/") for p in paths)


def test_its_menu_entries_go_and_come_back(db, leader):  # noqa: F811
    client = leader
    links = menu_links(client.get("/").text)
    assert {"/eco/monitor", "/eco/water", "/village/batches", "/programme/roadmap"} <= links
    switch(db, "village", False)
    switch(db, "eco", False)
    links = menu_links(client.get("/").text)
    assert not any(u.startswith(("/eco/", "/village/")) for u in links), links
    assert "/programme/roadmap" in links
    switch(db, "eco", True)
    links = menu_links(client.get("/").text)
    assert "/eco/water" in links and "/village/batches" not in links


def test_its_tiles_leave_the_operations_view(db, leader):  # noqa: F811
    client = leader

    def sources() -> set[str]:
        r = client.get("/api/v1/ioc/indicators")
        assert r.status_code == 200, r.text
        return {t["source"] for t in r.json()["tiles"]}

    assert {"eco", "village", "safety"} <= sources()
    switch(db, "safety", False)
    switch(db, "eco", False)
    got = sources()
    assert "eco" not in got and "safety" not in got and {"village", "cases"} <= got
    with db.reading() as s:
        assert {i.source for i in indicators.shown(s)} == got
    switch(db, "eco", True)
    switch(db, "safety", True)
    assert {"eco", "village", "safety"} <= sources()
