"""The demo's roadmap: three phases (急用先行 first) with goals, every module placed on a phase with its go-live
day and switched on by the system administrator; the pages show it."""

from __future__ import annotations

from datetime import date

from countyos.core.demo import DemoContext
from countyos.programme import demo_modules
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases
from tests.factories import login, person


def test_the_demo_roadmap(db, client):
    admin = person(db, ["sysadmin"])
    office = person(db, ["programme_office"])
    ctx = DemoContext()
    ctx.user_ids.update({"sysadmin": admin.id, "xmb": office.id})
    with db.unit_of_work() as s:
        demo_modules.load(s, ctx)
    with db.reading() as s:
        assert modules.disabled(s) == frozenset()  # the demo shows every domain
        road = phases.roadmap(s, today=date(2026, 12, 5))
        assert [st.phase.number for st in road.stages] == [1, 2, 3]
        assert [st.status for st in road.stages] == [
            phases.PhaseStatus.DONE,
            phases.PhaseStatus.RUNNING,
            phases.PhaseStatus.PLANNED,
        ]
        assert "急用先行" in road.stages[0].phase.name and all(st.phase.goal for st in road.stages)
        assert {"cases", "sensing", "services", "safety"} <= {v.spec.code for v in road.stages[0].modules}
        assert {"data", "portal", "eco", "village"} <= {v.spec.code for v in road.stages[1].modules}
        assert road.unplaced == []
        views = modules.views(s)
        assert all(v.state is not None and v.state.planned_on for v in views)
        switched = [v for v in views if v.spec.code in modules.SWITCHABLE]
        assert all(v.state is not None and v.state.switched_by_id == admin.id for v in switched)
        eco = next(v for v in views if v.spec.code == "eco")
        assert eco.state is not None and eco.state.switched_at is not None
        assert eco.state.switched_at.date() in (date(2026, 5, 1), date(2026, 4, 30))  # 09:00 in the county
    login(client, office)
    page = client.get("/programme/roadmap")
    assert page.status_code == 200 and "一期 急用先行" in page.text and "三期 融合深化" in page.text
