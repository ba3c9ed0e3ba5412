"""按效付费 in the browser, from a contract's KPI to a locked payment and a change after locking (zh-CN,
each person in their own browser, through the pages only):

1. the programme office's ``xmb`` opens /programme, a project, its contract and the contract's KPI page; a
   KPI's change with a target that is no number is refused beside the field with what was typed kept, then
   a valid target is saved;
2. on /programme/assessments ``xmb`` picks the contract's latest computed assessment (the demo leaves the
   last two months computed), assesses it again (the new target is scored), checks each KPI row's value,
   target, weight and score, follows a value's link to the operations view's list (as many records as the
   row counts) and approves it;
3. the finance officer ``czj`` opens /programme/payments?contract=…, locks the approved row, tries to change
   the locked payable without a reason (refused beside the field, nothing written), then with a reason: the
   change is listed with who, when, why, before → after; the PDF and Excel of the table download;
4. no English, raw code or ISO time on any of those pages (the page walk's check, ``walk.raw_codes``)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, shoot
from tests.browser.walk import SEEN_JS, _record_names, raw_codes

pytestmark = pytest.mark.browser

REASON = "运营公司提交设备离线证明，经核实后调整本期应付金额"
# names of the programme's records: data, read the same in both languages
PROGRAMME_NAMES_SQL = (
    "SELECT name FROM programme_org",
    "SELECT name FROM programme_project",
    "SELECT title FROM programme_contract",
    "SELECT code FROM programme_contract",
    "SELECT code FROM programme_project",
    "SELECT reason FROM programme_amendment",
)


def _db(b: Browsing) -> str:
    return b.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")


def _query(b: Browsing, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(_db(b)) as con:
        return con.execute(sql, args).fetchall()


def _names(b: Browsing) -> frozenset[str]:
    extra = {str(n) for sql in PROGRAMME_NAMES_SQL for (n,) in _query(b, sql) if n}
    return _record_names(_db(b)) | extra


def _zh(page: Page, wrong: list[str], names: frozenset[str], *texts: str) -> None:
    """The page is in Chinese: TEXTS are on it, and nothing a person sees is English, a raw code or an ISO
    time. Collected: the flow goes on, the test fails at its end with the whole list."""
    seen: list[str] = page.evaluate(SEEN_JS)
    body = page.locator("main").first.inner_text() if page.locator("main").count() else "\n".join(seen)
    wrong += [f"{t!r} is not on {page.url}" for t in texts if t not in body]
    wrong += [f"{p} on {page.url}" for p in raw_codes(seen, "zh_CN", names=names)]


def _problems(page: Page, *expected: str) -> list[str]:
    """What went wrong in the browser, but for the refusals the test asked for (HTTP 422 of EXPECTED paths)."""
    found: list[str] = page.problems.take()  # type: ignore[attr-defined]
    return [p for p in found if not ("422" in p and any(path in p for path in expected))]


def _yuan(fen: int) -> str:
    whole, part = divmod(fen, 100)
    return f"{whole:,}.{part:02d}"


def _pick(b: Browsing) -> tuple[int, int, int, int]:
    """An active contract's latest computed assessment with a KPI that counted records: (project, contract,
    assessment, the KPI to change)."""
    rows = _query(
        b,
        "SELECT c.project_id, c.id, a.id, s.kpi_id FROM programme_assessment a "
        "JOIN programme_contract c ON c.id = a.contract_id JOIN programme_score s ON s.assessment_id = a.id "
        "WHERE c.state = 'active' AND a.state = 'computed' AND s.count > 0 AND s.records_url <> '' "
        "ORDER BY a.period_start DESC, c.id, s.kpi_id LIMIT 1",
    )
    assert rows, "the demo leaves no computed assessment of an active contract with counted records"
    project_id, contract_id, assessment_id, kpi_id = rows[0]
    return int(project_id), int(contract_id), int(assessment_id), int(kpi_id)  # type: ignore[call-overload]


def test_assessment_from_kpi_to_locked_payment(browsing: Browsing) -> None:
    project_id, contract_id, assessment_id, kpi_id = _pick(browsing)
    ((target,),) = _query(browsing, "SELECT target FROM programme_kpi WHERE id = ?", kpi_id)
    new_target = f"{float(target) - 0.5:g}" if float(target) >= 1 else f"{float(target):g}"  # type: ignore[arg-type]
    names = _names(browsing)
    wrong: list[str] = []

    # 1. the programme office: /programme → the project → its contract → the contract's KPIs
    xmb = browsing.as_user("xmb")
    xmb.goto("/programme")
    _zh(xmb, wrong, names)
    xmb.locator(f"a[href='/programme/projects/{project_id}']").first.click()
    xmb.wait_for_url(f"**/programme/projects/{project_id}")
    _zh(xmb, wrong, names)
    xmb.locator(f"#pp-contract-{contract_id} a[href='/programme/contracts/{contract_id}']").first.click()
    xmb.wait_for_url(f"**/programme/contracts/{contract_id}")
    _zh(xmb, wrong, names)
    xmb.locator(f"a[href='/programme/contracts/{contract_id}/kpis']").first.click()
    xmb.wait_for_url(f"**/programme/contracts/{contract_id}/kpis")
    _zh(xmb, wrong, names, "权重")
    row = xmb.locator(f"#kpi-{kpi_id}")
    expect(row).to_be_visible()
    row.locator("summary").click()
    form = row.locator(f"form[action='/programme/contracts/{contract_id}/kpis/{kpi_id}']")
    form.locator("input[name=target]").fill("九十五")
    form.locator("button[type=submit]").click()
    xmb.wait_for_load_state()
    error = xmb.locator(f"#error-{kpi_id}-target")
    expect(error).to_be_visible()
    expect(xmb.locator(f"#kpi-{kpi_id} input[name=target]")).to_have_value("九十五")  # what was typed is kept
    _zh(xmb, wrong, names)
    shoot(xmb, "programme-kpi-refused")
    assert _query(browsing, "SELECT target FROM programme_kpi WHERE id = ?", kpi_id) == [(target,)]
    row = xmb.locator(f"#kpi-{kpi_id}")
    if not row.locator("details").evaluate("d => d.open"):
        row.locator("summary").click()
    form = row.locator(f"form[action='/programme/contracts/{contract_id}/kpis/{kpi_id}']")
    form.locator("input[name=target]").fill(new_target)
    form.locator("button[type=submit]").click()
    xmb.wait_for_url(f"**/programme/contracts/{contract_id}/kpis")
    expect(xmb.locator(f"#kpi-{kpi_id} td").nth(2)).to_contain_text(new_target)
    assert _query(browsing, "SELECT target FROM programme_kpi WHERE id = ?", kpi_id) == [(float(new_target),)]
    assert _problems(xmb, f"/programme/contracts/{contract_id}/kpis/{kpi_id}") == []

    # 2. the assessments: the contract's computed one, assessed again, each KPI row, a value's records, approve
    xmb.goto("/programme/assessments")
    xmb.select_option("#assessment-filters select[name=contract]", str(contract_id))
    xmb.select_option("#assessment-filters select[name=state]", "computed")
    xmb.locator("#assessment-filters button[type=submit]").click()
    xmb.wait_for_load_state()
    _zh(xmb, wrong, names)
    link = xmb.locator(f"#assessment-table a[href='/programme/assessments/{assessment_id}']")
    expect(link).to_have_count(1)
    link.click()
    url = f"/programme/assessments/{assessment_id}"
    xmb.wait_for_url(f"**{url}")
    xmb.locator("#assess-form button[type=submit]").click()
    xmb.wait_for_url(f"**{url}")
    expect(xmb.locator(".flash").first).to_be_visible()
    ((state, scored_target),) = _query(
        browsing,
        "SELECT a.state, s.target FROM programme_assessment a JOIN programme_score s ON s.assessment_id = a.id "
        "WHERE a.id = ? AND s.kpi_id = ?",
        assessment_id,
        kpi_id,
    )
    assert state == "computed" and scored_target == float(new_target), (state, scored_target)
    scores = xmb.locator("#score-table tbody tr")
    n = scores.count()
    assert n >= 1
    ((kpis_of_contract,),) = _query(browsing, "SELECT count(*) FROM programme_kpi WHERE contract_id = ?", contract_id)
    assert n == kpis_of_contract, (n, kpis_of_contract)
    for i in range(n):
        cells = [c.strip() for c in scores.nth(i).locator("td").all_inner_texts()]
        label = cells[0]
        value, _counted, shown_target, shown_weight, _rule, score = cells[2:8]
        if value in ("", "—"):
            wrong.append(f"the KPI {label!r} shows no value on {xmb.url}")
        if shown_target in ("", "—") or shown_weight in ("", "—"):
            wrong.append(f"the KPI {label!r} shows no target or weight on {xmb.url}: {cells}")
        if not re.fullmatch(r"\d+\.\d{2}", score):
            wrong.append(f"the KPI {label!r} shows no score on {xmb.url}: {score!r}")
    expect(xmb.locator("#assessment-state")).to_have_text("已测算")
    _zh(xmb, wrong, names, "审核通过")
    shoot(xmb, "programme-assessment-computed")
    # the changed KPI's row: its value links to the operations view's list of the records it counted
    ((records_url, count),) = _query(
        browsing,
        "SELECT records_url, count FROM programme_score WHERE assessment_id = ? AND kpi_id = ?",
        assessment_id,
        kpi_id,
    )
    value_link = xmb.locator(f"#score-table td:nth-child(3) a[href='{records_url}']").first
    counted_link = xmb.locator(f"#score-table td:nth-child(4) a[href='{records_url}']").first
    shown_count = counted_link.inner_text().strip()
    assert shown_count == str(count), (shown_count, count)
    value_link.click()
    xmb.wait_for_url("**/ioc/list?**")
    total = xmb.locator("#ioc-list-total").inner_text().strip()
    if total != shown_count:  # collected: the approval and the payment still run
        leader = browsing.as_user("leader")  # sees every case
        leader.goto(records_url)
        wrong.append(
            f"{records_url} lists {total} records for xmb, the assessment page counts {shown_count} "
            f"(the leader's list holds {leader.locator('#ioc-list-total').inner_text().strip()})"
        )
    else:
        expect(xmb.locator("#ioc-list tbody tr[data-id]").first).to_be_visible()
    _zh(xmb, wrong, names)
    shoot(xmb, "programme-assessment-records")
    xmb.goto(url)
    xmb.once("dialog", lambda d: d.accept())
    xmb.locator(f"form[action='{url}/approve'] button[type=submit]").click()
    xmb.wait_for_url(f"**{url}")
    assert _query(browsing, "SELECT state FROM programme_assessment WHERE id = ?", assessment_id) == [("approved",)]
    ((xmb_name,),) = _query(browsing, "SELECT display_name FROM org_user WHERE username = 'xmb'")
    expect(xmb.locator("#assessment-state")).to_have_text("已审核")
    expect(xmb.locator("main")).to_contain_text(str(xmb_name))  # approved by, by name
    _zh(xmb, wrong, names, str(xmb_name))
    shoot(xmb, "programme-assessment-approved")
    assert _problems(xmb) == []

    # 3. finance: the payment table, lock, a change without a reason (refused), then with one
    czj = browsing.as_user("czj")
    czj.goto(f"/programme/payments?contract={contract_id}")
    line = czj.locator(f"#payment-{assessment_id}")
    expect(line).to_be_visible()
    _zh(czj, wrong, names, str(xmb_name))
    czj.locator(f"#lock-{assessment_id} button[type=submit]").click()
    czj.wait_for_url(f"**/programme/payments?contract={contract_id}")
    ((state, payable, base),) = _query(
        browsing, "SELECT state, payable_fen, base_fen FROM programme_assessment WHERE id = ?", assessment_id
    )
    assert state == "locked", state
    ((czj_name,),) = _query(browsing, "SELECT display_name FROM org_user WHERE username = 'czj'")
    expect(czj.locator(f"#payment-{assessment_id}")).to_contain_text(str(czj_name))  # locked by, by name
    expect(czj.locator(f"#payment-{assessment_id} .badge")).to_have_text("已锁定")
    payable, base = int(payable), int(base)  # type: ignore[call-overload]
    new_fen = payable - 12_345 if payable >= 12_345 else min(payable + 12_345, base)
    new_yuan = f"{new_fen // 100}.{new_fen % 100:02d}"
    czj.locator(f"#amend-{assessment_id} summary").click()
    adjust = czj.locator(f"#adjust-{assessment_id}")
    adjust.locator("input[name=payable_yuan]").fill(new_yuan)
    adjust.locator("button[type=submit]").click()
    czj.wait_for_load_state()
    expect(czj.locator(f"#error-reason-adjust-{assessment_id}")).to_be_visible()
    expect(czj.locator(f"#adjust-{assessment_id} input[name=payable_yuan]")).to_have_value(new_yuan)
    assert _query(browsing, "SELECT payable_fen FROM programme_assessment WHERE id = ?", assessment_id) == [(payable,)]
    assert _query(browsing, "SELECT count(*) FROM programme_amendment WHERE assessment_id = ?", assessment_id) == [(0,)]
    _zh(czj, wrong, names)
    shoot(czj, "programme-payment-refused")
    adjust = czj.locator(f"#adjust-{assessment_id}")
    adjust.locator("textarea[name=reason]").fill(REASON)
    adjust.locator("button[type=submit]").click()
    czj.wait_for_url(f"**/programme/payments?contract={contract_id}")
    assert _query(browsing, "SELECT payable_fen FROM programme_assessment WHERE id = ?", assessment_id) == [(new_fen,)]
    expect(czj.locator(f"#payment-{assessment_id}")).to_contain_text(_yuan(new_fen))
    _zh(czj, wrong, names)
    shoot(czj, "programme-payment-adjusted")
    czj.locator(f"#amendments-{assessment_id}").click()
    czj.wait_for_url(f"**/programme/assessments/{assessment_id}/amendments")
    amended = czj.locator(".payment-amendments tbody tr")
    expect(amended).to_have_count(1)
    cells = [c.strip() for c in amended.first.locator("td").all_inner_texts()]
    at, by, _what, why, before, after = cells
    assert re.search(r"\d", at), cells  # when
    assert by == str(czj_name), cells  # who, by name
    assert why == REASON, cells
    assert (before, after) == (_yuan(payable), _yuan(new_fen)), cells
    _zh(czj, wrong, names, str(czj_name), REASON)
    shoot(czj, "programme-payment-amendments")

    # the exports of the contract's payment table
    czj.goto(f"/programme/payments?contract={contract_id}")
    for selector, kind, magic in (
        ("#payments-pdf", "application/pdf", b"%PDF"),
        ("#payments-xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ):
        href = czj.locator(selector).get_attribute("href") or ""
        assert f"contract={contract_id}" in href, href
        got = czj.request.get(href)
        assert got.status == 200, (href, got.status)
        assert got.headers["content-type"].startswith(kind), (href, got.headers["content-type"])
        assert got.body().startswith(magic), href
    assert _problems(czj, f"/programme/assessments/{assessment_id}/adjust") == []
    assert wrong == [], "\n".join(wrong)
