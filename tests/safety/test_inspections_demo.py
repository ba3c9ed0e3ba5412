"""The demo's key places and their year of inspections load on the demo county (遂昌县 with grids): places in
every township with masked phones, inspections at their grade's frequency, hazards as cases, most closed
after a re-inspection with their cases, two overdue and one major open."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.cases.service import categories
from countyos.core.clock import county_today
from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.safety import demo_inspections
from countyos.safety.models.inspections import Hazard, HazardLevel, HazardState, Inspection, Place
from countyos.safety.service import inspections_hazards as hazards
from tests.factories import FACTORY, department, login, person
from tests.geo.conftest import County, county, geo_county_baseline

__all__ = ["county", "geo_county_baseline"]


def test_demo_loads_places_a_year_of_inspections_and_hazards(db: Database, client: TestClient, county: County) -> None:
    aqjc, grid = person(db, ["safety_inspector"]), person(db, ["inspector"])
    ctx = DemoContext()
    ctx.user_ids.update({"aqjc": aqjc.id, "grid": grid.id})
    bureau = department(db, "县应急管理局")
    ctx.department_ids["县应急管理局"] = bureau
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        categories.ensure_default_limits(s)
        demo_inspections.load(s, ctx)
        demo_inspections.load(s, ctx)  # a second run adds nothing
    today = county_today()
    with db.reading() as s:
        places = list(s.scalars(select(Place)))
        assert len(places) == len(demo_inspections.PLACES)
        assert all(p.responsible_phone_masked and "*" in p.responsible_phone_masked for p in places)
        assert len({p.township_code for p in places}) >= 5 and all(p.grid_code for p in places)
        n = s.scalar(select(func.count()).select_from(Inspection)) or 0
        assert 120 <= n <= 260, n
        with_findings = s.scalar(select(func.count()).select_from(Inspection).where(Inspection.hazards > 0)) or 0
        assert 0.08 <= with_findings / n <= 0.25, with_findings / n
        found = list(s.scalars(select(Hazard)))
        assert all(h.case_id is not None for h in found)
        closed = [h for h in found if h.state is HazardState.CLOSED]
        assert len(closed) >= 0.6 * len(found)
        assert all(not s.get(Case, h.case_id).is_open for h in closed)
        overdue = [h for h in found if hazards.is_overdue(h, today)]
        assert len(overdue) == 2
        assert any(h.level is HazardLevel.MAJOR and h.state is not HazardState.CLOSED for h in found)
        still_open = [s.get(Case, h.case_id) for h in found if h.state is not HazardState.CLOSED]
        assert still_open and all(c is not None and c.suggested_department_id == bureau for c in still_open)
        assert all(p.next_due_on and p.next_due_on > today - timedelta(days=400) for p in places)
        place_id, hazard_id = places[0].id, found[0].id
    assert any("Safety inspections" in note for note in ctx.notes)
    login(client, person(db, ["emergency_officer"]))
    for url in (
        "/safety/places",
        f"/safety/places/{place_id}",
        "/safety/hazards",
        "/safety/hazards/stats",
        f"/safety/hazards/{hazard_id}",
        "/safety/checklists",
    ):
        assert client.get(url).status_code == 200, url
