"""The demo's tourism part loads on the sensing demo: three spots counted by the gate counters, homestays
with reports, culture resources, and a full 2026 National Day report."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.demo import DemoContext
from countyos.sensing.demo import load as load_sensing
from countyos.village import demo_tourism
from countyos.village.models.tourism import HeritageItem, Homestay, HomestayReport, Spot, SpotCounter
from countyos.village.service import tourism_holidays
from tests.factories import login, person
from tests.village.tourism_helpers import fake_geo

__all__ = ["fake_geo"]


def test_demo_loads_spots_stays_culture_and_a_full_national_day(db, client, fake_geo):
    scenic, minsu = person(db, ["scenic_manager"]), person(db, ["scenic_manager"])
    ctx = DemoContext()
    ctx.user_ids.update({"scenic": scenic.id, "minsu": minsu.id})
    with db.unit_of_work() as s:
        load_sensing(s, ctx)
        demo_tourism.load(s, ctx)
    with db.reading() as s:
        spots = {x.name: x for x in s.scalars(select(Spot))}
        assert set(spots) == {"神龙谷", "南尖岩", "汤显祖纪念馆"}
        assert spots["神龙谷"].manager_id == scenic.id
        gorge = spots["神龙谷"].id
        assert s.scalar(select(func.count()).select_from(SpotCounter)) == 3
        assert s.scalar(select(func.count()).select_from(Homestay)) == 15
        assert s.scalar(select(func.count()).select_from(HomestayReport)) >= 15 * 60
        assert s.scalar(select(Homestay.name).where(Homestay.keeper_id == minsu.id)) is not None
        assert s.scalar(select(func.count()).select_from(HeritageItem)) == 5
        rep = tourism_holidays.report(s, code="2026-national-day")
        assert len(rep.rows) == 7 * 3 and rep.visitors > 0 and rep.spot_revenue > 0 and rep.homestay_revenue > 0
        assert {r.day.isoformat() for r in rep.rows} == {f"2026-10-0{d}" for d in range(1, 8)}
    assert any("Tourism" in n for n in ctx.notes)
    login(client, person(db, ["tourism_officer"]))
    for url in (
        "/village/tourism",
        f"/village/tourism/spots/{gorge}",
        "/village/tourism/homestays",
        "/village/tourism/events",
        "/village/tourism/culture",
        "/village/tourism/holidays/2026-national-day",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get("/portal/scenic")
    assert page.status_code == 200 and "神龙谷" in page.text
