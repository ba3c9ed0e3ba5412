"""The kpis pages in Chinese: a contract's KPIs (add with errors beside fields, change, remove, the weights'
sum), the assessments list with filters, one assessment with each number a link to its records, assessing
again with a reason and approving."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from countyos.core.i18n import use_locale
from countyos.programme.models.kpis import Assessment, AssessmentState, ContractKpi
from countyos.programme.models.projects import Contract
from countyos.programme.service import kpis_assess
from tests.factories import login, person
from tests.programme.kpis_helpers import OFFICE, add_kpi, data_resources, programme

NOW = datetime(2026, 5, 3, 4, 0, tzinfo=UTC)


def test_contract_kpis_page_add_change_remove(client, db) -> None:
    p = programme(db)
    csrf = login(client, person(db, ["programme_office"]))
    url = f"/programme/contracts/{p.contract_id}/kpis"
    page = client.get(url)
    assert page.status_code == 200 and 'id="kpi-form"' in page.text
    bad = client.post(url, data={"csrf_token": csrf, "kpi": "on_time_rate", "target": "abc", "weight": "50",
                                 "scoring_kind": "linear"})  # fmt: skip
    assert bad.status_code == 422
    assert 'id="error-new-target"' in bad.text and 'value="abc"' in bad.text
    bad = client.post(url, data={"csrf_token": csrf, "kpi": "on_time_rate", "target": "90", "weight": "50",
                                 "scoring_kind": "steps", "scoring_steps": ""})  # fmt: skip
    assert bad.status_code == 422 and 'id="error-new-scoring"' in bad.text
    steps = {"scoring_kind": "steps", "scoring_steps": "95:100，90:80"}
    ok = client.post(url, data={"csrf_token": csrf, "kpi": "on_time_rate", "target": "90", "weight": "60", **steps},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    client.post(url, data={"csrf_token": csrf, "kpi": "data_fresh", "target": "90", "weight": "30",
                           "scoring_kind": "linear", "scoring_zero_at": "60"})  # fmt: skip
    page = client.get(url).text
    assert re.search(r'id="kpi-weight-sum">90<', page) and "100" in page
    with db.reading() as s:
        kpis = list(s.scalars(select(ContractKpi).where(ContractKpi.contract_id == p.contract_id)))
        assert kpis[0].scoring == {"kind": "steps", "zero_at": None, "steps": [[95.0, 100.0], [90.0, 80.0]]}
        kid = kpis[1].id
    r = client.post(f"{url}/{kid}", data={"csrf_token": csrf, "kpi": "data_fresh", "target": "95", "weight": "40",
                                         "scoring_kind": "target"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert re.search(r'id="kpi-weight-sum">100<', client.get(url).text)
    r = client.post(f"{url}/{kid}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert s.get(ContractKpi, kid) is None


def test_assessment_pages_link_records_reassess_and_approve(client, db) -> None:
    p = programme(db)
    data_resources(db, p.operator_dept)
    add_kpi(db, p.contract_id, "data_fresh", target=90, weight=70)
    add_kpi(db, p.contract_id, "on_time_rate", target=90, weight=30, scoring={"kind": "target"})
    with db.unit_of_work() as s:
        aid = kpis_assess.assess(s, actor=OFFICE, contract=s.get_one(Contract, p.contract_id),
                                 period_start=date(2026, 3, 1), now=NOW).id  # fmt: skip
    csrf = login(client, person(db, ["programme_office", "leader"]))  # the leader's role opens /ioc/list
    listing = client.get("/programme/assessments", params={"contract": p.contract_id, "state": "computed"})
    assert listing.status_code == 200 and f'href="/programme/assessments/{aid}"' in listing.text
    with use_locale("zh_CN"):
        assert kpis_assess.period_label("month", date(2026, 3, 1)) in listing.text  # 2026年3月
    assert f'href="/programme/assessments/{aid}"' not in client.get("/programme/assessments?state=approved").text
    page = client.get(f"/programme/assessments/{aid}")
    assert page.status_code == 200
    links = re.findall(r'href="(/ioc/list\?[^"]+)"', page.text)
    assert any("measure=fresh" in u for u in links) and any("measure=published" in u for u in links)
    for u in links:
        assert client.get(u.replace("&amp;", "&")).status_code == 200
    r = client.post(f"/programme/assessments/{aid}/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    refused = client.post(f"/programme/assessments/{aid}/assess", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 409 and 'id="error-reason"' in refused.text
    ok = client.post(f"/programme/assessments/{aid}/assess", data={"csrf_token": csrf, "reason": "补录数据后重算"},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    page = client.get(f"/programme/assessments/{aid}").text
    assert "补录数据后重算" in page and 'id="assessment-amendments"' in page
    with db.reading() as s:
        assert s.get_one(Assessment, aid).state == AssessmentState.APPROVED


def test_operator_staff_see_their_assessments_only(client, db) -> None:
    p = programme(db)
    with db.unit_of_work() as s:
        theirs = kpis_assess.assess(s, actor=OFFICE, contract=s.get_one(Contract, p.other_contract_id),
                                    period_start=date(2026, 1, 1), now=NOW).id  # fmt: skip
    login(client, person(db, ["operator_staff"], department_id=p.operator_dept))
    assert client.get(f"/programme/assessments/{theirs}").status_code == 404
    assert "测试建设合同" not in client.get("/programme/assessments").text
    assert client.get(f"/programme/contracts/{p.contract_id}/kpis").status_code == 200
