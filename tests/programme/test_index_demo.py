"""The index demo loads on the small world: a year of use by the demo's people, fast; with the projects demo's
spend, the ecology module (spend, two people) is flagged and no other module is."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.demo import DemoContext
from countyos.ioc.models import UsageDaily, UsageUserDaily
from countyos.programme import demo_index, demo_projects
from countyos.programme.models.modules import Phase
from countyos.programme.service import index, index_modules
from countyos.programme.service.modules import SPECS
from tests.factories import login, person


def test_the_demo_year_of_use_flags_the_ecology_module(db, client):
    ctx = DemoContext()
    for name in [*demo_index.PROFILES, demo_index.GEP_USER]:
        ctx.user_ids[name] = person(db, ["inspector"], username=f"demo_{name}").id
    with db.unit_of_work() as s:
        for n in (1, 2, 3):
            s.add(Phase(number=n, name=f"{n}期"))
        s.flush()
        demo_projects.load(s, DemoContext())
        demo_index.load(s, ctx)
    segments = index_modules.segments([(f"/{x.code}", f"countyos.{x.code}.pages") for x in SPECS])
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(UsageUserDaily)) > 5000
        assert s.scalar(select(func.count()).select_from(UsageDaily)) > 1000
        r = index.report(s, segments=segments)
    flagged = {row.key for row in r.modules if row.flag is not None}
    assert flagged == {"eco"}
    rows = {row.key: row for row in r.modules}
    assert rows["eco"].total.active_weekly < 5 and rows["cases"].total.active_weekly >= 5
    assert all(f.active_weekly > 0 for f in rows["services"].months)  # a trend in every month
    assert any("盆景" in n for n in ctx.notes)
    login(client, person(db, ["leader"]))
    page = client.get("/programme/index")
    assert page.status_code == 200 and '<tr id="index-module-eco" class="flagged">' in page.text
