"""The demo county's catalogue: about 60 matters across departments, mostly published, searchable."""

from __future__ import annotations

from collections import Counter

from countyos.core.demo import DemoContext
from countyos.core.paging import PageParams
from countyos.org import demo as org_demo
from countyos.services import demo
from countyos.services.models import MatterStatus
from countyos.services.service import catalogue, search


def test_demo_catalogue(db, client) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)  # the year of applications has tests of its own
    with db.reading() as s:
        matters = catalogue.all_matters(s)
        assert len(matters) == len(demo.matters()) == 60
        assert Counter(m.status for m in matters) == {
            MatterStatus.PUBLISHED: 57,
            MatterStatus.DRAFT: 2,
            MatterStatus.WITHDRAWN: 1,
        }
        versions = [catalogue.current(m) for m in matters]
        assert len({v.department_id for v in versions}) == 12
        assert all(2 <= len(v.steps) <= 3 and len(v.materials) >= 2 for v in versions)
        assert sorted(v.number for v in versions)[-1] == 2  # one matter has a second version
        rows, _ = search.search(s, search.MatterFilter(q="nczjdsp"), PageParams(limit=5))
        assert [r.name for r in rows] == ["农村宅基地审批"]
    assert any(username == "zwfw" for username, _n, _r, _d in org_demo.PEOPLE)
    page = client.get("/services", params={"q": "cjrlxbt"})
    assert page.status_code == 200 and "残疾人两项补贴申请" in page.text
