"""The demo's facilities load on the demo county's divisions: every kind, each inside the county and
kept by a department, found by the public list."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.demo import DemoContext
from countyos.portal import demo_facilities
from countyos.portal.models import Facility, FacilityKind
from tests.portal.notices_world import NoticesWorld


def test_the_demo_facilities(db, notices_world: NoticesWorld, client) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        demo_facilities.load(s, ctx)
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(Facility)))
        assert len(rows) == len(demo_facilities.SPECS) == 40
        assert {f.kind for f in rows} == set(FacilityKind) - {FacilityKind.OTHER}
        assert all(f.active and f.department_id and f.division_code for f in rows)
        assert all(f.division_code.startswith(notices_world.county) for f in rows if f.division_code)
        assert len({f.name for f in rows}) == len(rows)
    with db.unit_of_work() as s:
        demo_facilities.load(s, ctx)  # a second run adds nothing
        assert len(list(s.scalars(select(Facility)))) == 40
    page = client.get("/portal/facilities", params={"q": "xrmyy"})
    assert "县人民医院" in page.text
    assert ctx.notes
