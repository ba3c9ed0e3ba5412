"""REQUIRED by the issue: each KPI's value equals the operations view's figure for the same scope and period.

For every catalogue entry, a contract KPI (whole county, and one township) is assessed over a month of the
generated history (cases, devices, alarms) plus data-catalogue records, and each score's value, count and
whole are compared with GET /api/v1/ioc/indicators for the same since/until/township; the score's links
open the records it counted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.programme.models.kpis import ContractKpi, Score
from countyos.programme.models.projects import Contract
from countyos.programme.service import kpis_assess, kpis_catalogue
from tests.factories import login, person
from tests.ioc.conftest import History, history, world  # noqa: F401  (fixtures)
from tests.programme.kpis_helpers import OFFICE, add_kpi, data_resources, programme

MARCH = date(2026, 3, 1)


def test_every_kpi_equals_the_operations_view_figure(client, db, history: History) -> None:  # noqa: F811
    p = programme(db, starts_on=date(2026, 2, 1))
    data_resources(db, p.operator_dept)
    town = history.townships[0]
    for k in kpis_catalogue.KPIS:
        add_kpi(db, p.contract_id, k.code, target=k.target, weight=5)
        add_kpi(db, p.contract_id, k.code, target=k.target, weight=5, township_code=town)
    with db.unit_of_work() as s:
        c = s.get_one(Contract, p.contract_id)
        a = kpis_assess.assess(s, actor=OFFICE, contract=c, period_start=MARCH, now=utcnow())
        aid = a.id
    login(client, person(db, ["leader"]))
    tiles = {
        t: {x["code"]: x for x in client.get("/api/v1/ioc/indicators", params={
            "since": "2026-03-01", "until": "2026-03-31", **({"township": t} if t else {})}).json()["tiles"]}
        for t in (None, town)
    }  # fmt: skip
    with db.reading() as s:
        rows = [
            (sc, kpi.kpi, kpi.township_code)
            for sc, kpi in s.execute(
                select(Score, ContractKpi)
                .join(ContractKpi, ContractKpi.id == Score.kpi_id)
                .where(Score.assessment_id == aid)
            )
        ]
        s.expunge_all()
    assert len(rows) == 2 * len(kpis_catalogue.KPIS)
    seen_data = 0
    for sc, code, township in rows:
        tile = tiles[township][kpis_catalogue.BY_CODE[code].indicator]
        expected = tile["rate"] if tile["whole"] is not None else float(tile["count"])
        assert sc.value == expected, code
        assert (sc.count, sc.whole) == (tile["count"], tile["whole"]), code
        assert sc.records_url == tile["url"]
        assert sc.whole_url == tile["whole_url"]
        if sc.value is not None and sc.count:
            seen_data += 1
            listed = client.get(sc.records_url.replace("/ioc/list", "/api/v1/ioc/records", 1)).json()
            assert listed["total"] == sc.count, code
            assert client.get(sc.records_url).status_code == 200
    assert seen_data >= 6  # cases, devices and data had records in March


def test_data_freshness_and_ratings_measures_add_up(client, db) -> None:
    dept = __import__("tests.factories", fromlist=["department"]).department(db, "测试数据局")
    data_resources(db, dept)
    login(client, person(db, ["leader"]))
    tiles = {x["code"]: x for x in client.get("/api/v1/ioc/indicators", params={"period": "30d"}).json()["tiles"]}
    fresh, stale = tiles["data_fresh_rate"], tiles["data_stale"]
    assert fresh["whole"] == tiles["data_published"]["count"]
    assert fresh["count"] + stale["count"] == fresh["whole"]
    fresh_list = client.get(fresh["api_url"] + "&limit=500").json()
    titles = {r["title"] for r in fresh_list["items"]}
    assert {"测试资源0", "测试资源1", "测试资源4"} <= titles
    assert not {"测试资源2", "测试资源3", "测试资源5"} & titles
    assert "services_good_rate" in tiles and "applications_on_time_rate" in tiles
