"""Assessments: computed ones are recomputed freely, approved and locked ones only with a reason (an
amendment each time, audited); approval by the table; the job is idempotent; a contract's KPIs through the
API (draft and active contracts, errors beside fields, the weights' sum); operating-company staff see only
their contracts; the pages render in Chinese."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from countyos.core.errors import ActionForbidden, Conflict, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.programme import jobs_kpis
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState
from countyos.programme.models.projects import Contract, ContractState
from countyos.programme.service import kpis_assess
from tests.factories import login, person
from tests.programme.kpis_helpers import FINANCE, OFFICE, add_kpi, data_resources, programme

NOW = datetime(2026, 5, 3, 4, 0, tzinfo=UTC)
FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)


def _assess(db, contract_id: int, start: date, reason: str | None = None) -> int:
    with db.unit_of_work() as s:
        c = s.get_one(Contract, contract_id)
        return kpis_assess.assess(s, actor=OFFICE, contract=c, period_start=start, now=NOW, reason=reason).id


def test_recompute_rules_and_amendments(db) -> None:
    p = programme(db)
    data_resources(db, p.operator_dept, now=NOW)
    add_kpi(db, p.contract_id, "data_fresh", target=90, weight=60, scoring={"kind": "linear", "zero_at": 0})
    add_kpi(db, p.contract_id, "on_time_rate", target=90, weight=40)  # no cases: no data
    aid = _assess(db, p.contract_id, MAR)
    assert _assess(db, p.contract_id, MAR) == aid  # computed: again freely, same row
    with db.reading() as s:
        a = s.get_one(Assessment, aid)
        assert a.state == AssessmentState.COMPUTED and a.period_end == APR
        assert a.total_score == pytest.approx(60 / 90 * 100, abs=0.01)  # 3 of 5 fresh = 60 %, reweighted
        assert a.base_fen > 0 and a.payable_fen <= a.base_fen
    with db.unit_of_work() as s:
        kpis_assess.approve(s, actor=OFFICE, assessment=s.get_one(Assessment, aid), now=NOW)
    with pytest.raises(Conflict):
        _assess(db, p.contract_id, MAR)
    with pytest.raises(Conflict):
        _assess(db, p.contract_id, MAR, reason="   ")
    _assess(db, p.contract_id, MAR, reason="数据源补录")
    with db.unit_of_work() as s:
        s.get_one(Assessment, aid).state = AssessmentState.LOCKED  # as the payments part locks it
    with pytest.raises(Conflict):
        _assess(db, p.contract_id, MAR)
    _assess(db, p.contract_id, MAR, reason="财政复核")
    with db.reading() as s:
        ams = list(s.scalars(select(Amendment).where(Amendment.assessment_id == aid).order_by(Amendment.id)))
        assert [(m.what, m.reason) for m in ams] == [("reassess", "数据源补录"), ("reassess", "财政复核")]
        assert set(ams[0].before) >= {"total_score", "payable_fen"} and ams[0].after["total_score"] is not None
        assert s.get_one(Assessment, aid).state == AssessmentState.LOCKED
        mine = (AuditEvent.target_id == str(aid), AuditEvent.target_type == "programme_assessment")
        actions = list(s.scalars(select(AuditEvent.action).where(*mine)))
        assert actions.count("programme.kpis.reassess") == 3 and "programme.kpis.approve" in actions


def test_approve_only_once_and_only_by_assess_permission(db) -> None:
    p = programme(db)
    aid = _assess(db, p.contract_id, MAR)
    with db.unit_of_work() as s, pytest.raises(ActionForbidden):
        kpis_assess.approve(s, actor=FINANCE, assessment=s.get_one(Assessment, aid), now=NOW)
    with db.unit_of_work() as s:
        a = kpis_assess.approve(s, actor=OFFICE, assessment=s.get_one(Assessment, aid), now=NOW)
        assert a.state == AssessmentState.APPROVED and a.approved_at == NOW
    with db.unit_of_work() as s, pytest.raises(Conflict):
        kpis_assess.approve(s, actor=OFFICE, assessment=s.get_one(Assessment, aid), now=NOW)


def test_only_ended_periods_of_the_contract(db) -> None:
    p = programme(db)
    for bad in (date(2026, 1, 1), date(2026, 5, 1), date(2026, 3, 2)):
        with pytest.raises(ValidationFailed):
            _assess(db, p.contract_id, bad)
    assert _assess(db, p.contract_id, FEB)  # the partial first month


def test_the_job_is_idempotent_and_leaves_approved_ones(db) -> None:
    p = programme(db)
    add_kpi(db, p.contract_id, "on_time_rate", target=90, weight=100)
    with db.unit_of_work() as s:
        assert jobs_kpis.assess_due(s, now=NOW) == 3 + 1  # Feb, Mar, Apr; the quarterly contract: Q1
    with db.unit_of_work() as s:
        feb = s.scalar(
            select(Assessment).where(Assessment.contract_id == p.contract_id, Assessment.period_start == FEB)
        )
        assert feb is not None
        kpis_assess.approve(s, actor=OFFICE, assessment=feb, now=NOW)
    with db.unit_of_work() as s:
        assert jobs_kpis.assess_due(s, now=NOW) == 3  # Mar, Apr and Q1 recomputed; Feb left
    with db.reading() as s:
        assert s.scalar(select(func.count(Assessment.id)).where(Assessment.contract_id == p.contract_id)) == 3
    with db.unit_of_work() as s:
        s.get_one(Contract, p.contract_id).state = ContractState.DRAFT
        s.get_one(Contract, p.other_contract_id).state = ContractState.DRAFT
    with db.unit_of_work() as s:
        assert jobs_kpis.assess_due(s, now=NOW) == 0


def test_contract_kpis_api(client, db) -> None:
    p = programme(db)
    csrf = login(client, person(db, ["programme_office"]))
    client.headers["X-CSRF-Token"] = csrf
    url = f"/api/v1/programme/contracts/{p.contract_id}/kpis"
    cat = client.get("/api/v1/programme/kpi-catalogue").json()
    assert {"on_time_rate", "data_fresh"} <= {e["code"] for e in cat}
    r = client.post(url, json={"kpi": "on_time_rate", "target": 90, "weight": 60,
                               "scoring": {"kind": "steps", "steps": [[95, 100], [90, 80]]}})  # fmt: skip
    assert r.status_code == 201, r.text
    kid = r.json()["id"]
    assert client.post(url, json={"kpi": "data_fresh", "target": 90, "weight": 40}).status_code == 201
    bad = client.post(url, json={"kpi": "nonsense", "target": 1, "weight": 1})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kpi"
    bad = client.post(url, json={"kpi": "on_time_rate", "target": 1, "weight": 1, "township_code": "999999999"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "township_code"
    assert client.post(url, json={"kpi": "on_time_rate", "target": 1, "weight": 0}).status_code == 422
    got = client.get(url).json()
    assert got["weight_sum"] == 100 and [k["kpi"] for k in got["items"]] == ["on_time_rate", "data_fresh"]
    r = client.put(f"{url}/{kid}", json={"kpi": "on_time_rate", "target": 92, "weight": 50})
    assert r.status_code == 200 and r.json()["target"] == 92
    assert client.get(url).json()["weight_sum"] == 90
    # assess and approve through the API
    a = client.post(f"/api/v1/programme/contracts/{p.contract_id}/assess", json={"period_start": "2026-03-01"})
    assert a.status_code == 200, a.text
    body = a.json()
    assert body["state"] == "computed" and len(body["scores"]) == 2
    r = client.post(f"/api/v1/programme/assessments/{body['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    again = client.post(f"/api/v1/programme/contracts/{p.contract_id}/assess", json={"period_start": "2026-03-01"})
    assert again.status_code == 409
    # a KPI scored in an approved assessment stays
    assert client.delete(f"{url}/{kid}").status_code == 409
    listing = client.get("/api/v1/programme/assessments", params={"contract": p.contract_id, "limit": 10}).json()
    assert listing["total"] == 1 and listing["items"][0]["period_label"]
    assert client.get("/api/v1/programme/assessments", params={"limit": 1000}).status_code == 422
    with db.unit_of_work() as s:
        s.get_one(Contract, p.contract_id).state = ContractState.ENDED
    assert client.post(url, json={"kpi": "data_fresh", "target": 90, "weight": 10}).status_code == 409


def test_operating_company_sees_only_its_contracts(client, db) -> None:
    p = programme(db)
    mine = _assess(db, p.contract_id, MAR)
    theirs = _assess(db, p.other_contract_id, date(2026, 1, 1))
    client.headers["X-CSRF-Token"] = login(client, person(db, ["operator_staff"], department_id=p.operator_dept))
    items = client.get("/api/v1/programme/assessments").json()["items"]
    assert [i["id"] for i in items] == [mine]
    assert client.get(f"/api/v1/programme/assessments/{theirs}").status_code == 404
    assert client.get(f"/api/v1/programme/contracts/{p.other_contract_id}/kpis").status_code == 404
    assert client.post(f"/api/v1/programme/assessments/{mine}/approve").status_code == 403
    client.cookies.clear()
    login(client, person(db, ["leader"]))
    assert {i["id"] for i in client.get("/api/v1/programme/assessments").json()["items"]} == {mine, theirs}
