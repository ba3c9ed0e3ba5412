"""数据沉淀: figures per department and month, staleness against the update cycle, each number opening
its records; the home page's queues and the operations view's data tile count the same records."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.data import home
from countyos.data.service import ioc_queries, overview
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import Scope, period_bounds, today
from tests.data.test_sharing import _publish
from tests.factories import login


def test_figures_staleness_and_the_records_behind_them(client, db, office, tmp_path) -> None:
    daily = _publish(
        db, tmp_path, office, name="jiage", code="331123-SCJG-0002", title="农产品价格", update_cycle="daily"
    )
    _publish(db, tmp_path, office, name="qiye-dengji", code="331123-SCJG-0001", update_cycle="yearly")
    now = utcnow()
    with db.reading() as s:
        assert overview.stale_ids(s, now=now) == []
        later = now + timedelta(days=3)  # the daily price list is stale after two days; the yearly one is not
        assert overview.stale_ids(s, now=later) == [daily]
        figures = overview.by_department(s, now=later)
        market = next(f for f in figures if f.department_id == office.market)
        assert (market.resources, market.published, market.rows, market.loads, market.stale) == (2, 2, 4, 2, 1)
        assert market.quality == 1.0
        assert sum(m["loads"] for m in overview.by_month(s, now=now)) == 2
        provider = Actor(id=office.provider.id, name="p", permissions=frozenset({"data.catalogue.manage"}),
                         department_id=office.market)  # fmt: skip
        queues = {q.key: q for q in home.queues(s, provider, later)}
        assert queues["data_stale"].count == 1 and str(office.market) in queues["data_stale"].url
        everyone = Actor(id=None, name="t", permissions=frozenset({"ioc.view"}))
        scope = Scope("today", *period_bounds("today", today(later)))
        tile = ind.evaluate(s, actor=everyone, ind=ind.get("data_stale"), scope=scope, now=later)
        listed = ind.records(s, actor=everyone, source="data", measure="stale", scope=scope, now=later, limit=100)
        assert tile.count == len(listed) == ioc_queries.count(s, measure="stale", now=later) == 1
    with time_machine.travel(later, tick=False):
        login(client, office.bureau)
        page = client.get("/data/overview")
        assert page.status_code == 200 and 'id="data-by-department"' in page.text
        assert f"/data/resources?provider_id={office.market}&amp;stale=1" in page.text
        listed_page = client.get("/data/resources", params={"provider_id": office.market, "stale": "1"})
        assert "农产品价格" in listed_page.text and "企业登记信息" not in listed_page.text
