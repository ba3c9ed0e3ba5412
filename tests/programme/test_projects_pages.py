"""The projects part's pages: every page renders in Chinese, forms come back with each error beside its
field and what was typed, the phone is masked until asked for (audited), the Excel export neutralises
formulas, the front page links every figure to its records."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from countyos.org.models import AuditEvent
from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.models.projects import Project
from countyos.programme.schemas.projects import SpendIn
from countyos.programme.service import projects as svc
from tests import factories
from tests.programme.projects_helpers import OFFICE, credit_code, office_login, project_in, world


def test_every_page_renders_in_chinese(client, db) -> None:
    w = world(db)
    office_login(client, db)
    for url in (
        "/programme",
        "/programme/projects",
        "/programme/projects/new",
        f"/programme/projects/{w.project_id}",
        f"/programme/projects/{w.project_id}/edit",
        "/programme/contracts",
        "/programme/contracts/new",
        f"/programme/contracts/{w.contract_id}",
        "/programme/orgs",
        "/programme/orgs/new",
        f"/programme/orgs/{w.org_id}",
        "/programme/orgs?kind=operator",
        "/programme/projects?state=planned",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert 'lang="zh' in r.text, url
        assert ">planned<" not in r.text and ">draft<" not in r.text and ">operator<" not in r.text, url
    page = client.get(f"/programme/projects/{w.project_id}").text
    assert "一次性购买" in page and "5,000,000.00" in page
    assert f"/programme/contracts/{w.contract_id}/kpis" in page
    assert f"/programme/assessments?contract={w.contract_id}" in page
    assert f"/programme/payments?contract={w.contract_id}" in page
    assert f"/programme/index?project={w.project_id}" in page


def test_the_project_form_shows_errors_beside_fields(client, db) -> None:
    world(db)
    csrf = office_login(client, db)
    typed = {
        "code": "XM-2026-001",
        "name": "重复编号",
        "kind": "construction",
        "budget_yuan": "12.345",
        "funding_model": "gov_one_off",
        "csrf_token": csrf,
    }
    r = client.post("/programme/projects/new", data={**typed, "modules": ["sensing"]})
    assert r.status_code == 422
    assert 'id="error-budget_fen"' in r.text and "重复编号" in r.text
    assert '<option value="sensing" selected>' in r.text  # what was chosen is kept
    r = client.post("/programme/projects/new", data={**typed, "budget_yuan": "1,200,000.50"})
    assert r.status_code == 422 and 'id="error-code"' in r.text
    r = client.post(
        "/programme/projects/new",
        data={**typed, "code": "XM-NEW", "budget_yuan": "1,200,000.50", "modules": ["cases", "ioc"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.reading() as s:
        p = s.scalar(select(Project).where(Project.code == "XM-NEW"))
        assert p is not None and p.budget_fen == 120_000_050 and p.modules == ["cases", "ioc"]


def test_spend_and_actions_on_the_project_page(client, db) -> None:
    w = world(db)
    csrf = office_login(client, db)
    r = client.post(
        f"/programme/projects/{w.project_id}/spend",
        data={"spent_on": "2026-01-31", "amount_yuan": "abc", "csrf_token": csrf},
    )
    assert r.status_code == 422 and 'id="error-amount_fen"' in r.text and 'value="abc"' in r.text
    r = client.post(
        f"/programme/projects/{w.project_id}/spend",
        data={"spent_on": "2026-01-31", "amount_yuan": "2500.5", "note": "一月运维", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "2,500.50" in client.get(f"/programme/projects/{w.project_id}").text
    r = client.post(
        f"/programme/projects/{w.project_id}/actions",
        data={"action": "build", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(f"/programme/projects/{w.project_id}/actions", data={"action": "build", "csrf_token": csrf})
    assert r.status_code == 409 and 'id="pp-action-error"' in r.text


def test_the_contract_form_checks_the_formula_json(client, db) -> None:
    w = world(db)
    csrf = office_login(client, db)
    page = client.get(f"/programme/contracts/{w.contract_id}").text
    assert "&#34;full_at&#34;: 90" in page or '"full_at": 90' in page  # the defaults shown
    typed = {
        "code": "HT-2026-009",
        "title": "运营服务",
        "project_id": str(w.project_id),
        "party_id": str(w.org_id),
        "starts_on": "2025-12-01",
        "ends_on": "2027-11-30",
        "amount_yuan": "100000",
        "period": "month",
        "formula": "{not json",
        "csrf_token": csrf,
    }
    r = client.post("/programme/contracts/new", data=typed)
    assert r.status_code == 422 and 'id="error-formula"' in r.text and "{not json" in r.text
    r = client.post("/programme/contracts/new", data={**typed, "formula": '{"full_at": 50, "zero_below": 70}'})
    assert r.status_code == 422 and 'id="error-formula"' in r.text
    r = client.post("/programme/contracts/new", data={**typed, "ends_on": "2025-01-01", "formula": ""})
    assert r.status_code == 422 and 'id="error-ends_on"' in r.text
    r = client.post(
        "/programme/contracts/new", data={**typed, "formula": '{"base": "instalment"}'}, follow_redirects=False
    )
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    r = client.post(
        f"/programme/contracts/{cid}/instalments",
        data={"due_on": "2026-01-01", "amount_yuan": "100000.01", "csrf_token": csrf},
    )
    assert r.status_code == 422 and 'id="error-amount_fen"' in r.text
    r = client.post(f"/programme/contracts/{cid}/actions", data={"action": "activate", "csrf_token": csrf})
    assert r.status_code == 409 and 'id="pc-action-error"' in r.text


def test_the_phone_is_masked_until_shown_and_the_view_is_audited(client, db) -> None:
    w = world(db)
    csrf = office_login(client, db)
    page = client.get(f"/programme/orgs/{w.org_id}").text
    assert "138****5678" in page and "13812345678" not in page
    assert "138****5678" in client.get("/programme/orgs").text
    r = client.post(f"/programme/orgs/{w.org_id}/phone", data={"csrf_token": csrf})
    assert r.status_code == 200 and "13812345678" in r.text
    with db.reading() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "programme.projects.org.phone_view"))
    bad = client.post(
        "/programme/orgs/new",
        data={"name": "某公司", "kind": "vendor", "uscc": "123", "contact_phone": "12", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'id="error-uscc"' in bad.text and 'id="error-contact_phone"' in bad.text
    ok = client.post(
        "/programme/orgs/new",
        data={"name": "某公司", "kind": "vendor", "uscc": credit_code(42), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_the_export_neutralises_formulas(client, db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        svc.create_project(s, actor=OFFICE, data=project_in(code="XM-EVIL", name='=HYPERLINK("http://x")'))
        svc.add_spend(s, actor=OFFICE, project_id=w.project_id, data=SpendIn(spent_on=date(2026, 1, 2), amount_fen=150))
    office_login(client, db)
    r = client.get("/programme/projects.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "项目编号" or rows[0][0] == "Project code"
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    main = next(row for row in rows[1:] if row[0] == "XM-2026-001")
    assert main[6] == 5_000_000 and main[7] == 1.5


def test_the_front_page_links_each_figure(client, db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        s.add(
            Assessment(
                contract_id=w.contract_id,
                period_start=date(2026, 10, 1),
                period_end=date(2026, 11, 1),
                state=AssessmentState.APPROVED,
                total_score=92.5,
                payable_fen=5_000_000,
            )
        )
        s.add(
            Assessment(
                contract_id=w.contract_id,
                period_start=date(2026, 11, 1),
                period_end=date(2026, 12, 1),
                state=AssessmentState.COMPUTED,
                total_score=88.0,
                payable_fen=4_000_000,
            )
        )
    person = factories.person(db, ["operator_staff"])
    factories.login(client, person)
    page = client.get("/programme")
    assert page.status_code == 200
    row = re.search(rf'<tr id="pf-project-{w.project_id}">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "88.0" in row.group(0) and "50,000.00" in row.group(0)  # latest score; only approved/locked paid
    assert f"/programme/assessments?contract={w.contract_id}" in row.group(0)
    assert f"/programme/payments?contract={w.contract_id}" in row.group(0)
    assert f"/programme/projects/{w.project_id}#spend" in row.group(0)
