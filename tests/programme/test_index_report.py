"""The 盆景 index: spend shared among a project's modules, weekly active users, records from the audit log, the
flag with the numbers that tripped it; the pages, the API and the workbook, for whom they are."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from countyos.core.clock import county_today
from countyos.core.errors import ValidationFailed
from countyos.ioc.models import UsageDaily
from countyos.ioc.service import usage
from countyos.org.service import audit
from countyos.programme.models.projects import Project, ProjectKind, Spend
from countyos.programme.service import index, index_modules
from tests.factories import FACTORY, login, person

SEGMENTS = {"eco": "eco", "cases": "cases", "m": "cases", "village": "village", "data": "data"}
MONTHS = ("2025-01", "2025-03")


def _project(s, code: str, modules: list[str], spend: list[tuple[date, int]], budget: int = 0) -> Project:
    p = Project(code=code, name=f"项目{code}", kind=ProjectKind.OPERATION, modules=modules, budget_fen=budget,
                funding_model="government")  # fmt: skip
    s.add(p)
    s.flush()
    for on, amount in spend:
        s.add(Spend(project_id=p.id, spent_on=on, amount_fen=amount))
    s.flush()
    return p


def _use(s, module: str, users: range, first: date, last: date, actions_per_day: int) -> None:
    """Each of USERS active on every weekday from FIRST to LAST in MODULE, with ACTIONS_PER_DAY actions each."""
    seen, counts = set(), {}
    d = first
    while d <= last:
        if d.weekday() < 5:
            for u in users:
                seen.add((d, module, u, "inspector"))
            counts[(d, module, "inspector", "action")] = actions_per_day * len(users)
            counts[(d, module, "inspector", "view")] = 2 * len(users)
        d += timedelta(days=1)
    usage.store_active(s, seen=seen)
    usage.store(s, counts=counts)


@pytest.fixture
def world(db):
    with db.unit_of_work() as s:
        # eco+village share one project's spend; cases is used a lot; eco hardly at all
        _project(s, "P-ECO", ["eco", "village"], [(date(2025, 1, 10), 30_000_001), (date(2025, 3, 5), 10_000_000)],
                 budget=100_000_000)  # fmt: skip
        _project(s, "P-CASES", ["cases"], [(date(2025, 2, 1), 20_000_000)])
        _use(s, "eco", range(1, 3), date(2025, 1, 1), date(2025, 3, 31), 1)  # 2 people
        _use(s, "cases", range(10, 30), date(2025, 1, 1), date(2025, 3, 31), 5)
        _use(s, "m", range(25, 35), date(2025, 1, 1), date(2025, 3, 31), 1)  # 25..29 also on "cases"
    return db


def test_weeks_belong_to_the_month_of_their_thursday():
    weeks = index.weeks_of([date(2025, 1, 1)])
    assert min(weeks) == date(2024, 12, 30)  # Thursday 2 January
    assert max(weeks) == date(2025, 1, 27)
    assert len(weeks) == 5


def test_period_is_bounded():
    assert len(index.period("2024-01", "2025-12")) == 24
    with pytest.raises(ValidationFailed):
        index.period("2023-01", "2025-12")
    with pytest.raises(ValidationFailed):
        index.period("2025-03", "2025-01")


def test_spend_is_shared_evenly_among_a_projects_modules(world):
    with world.reading() as s:
        r = index.report(s, segments=SEGMENTS, since=MONTHS[0], until=MONTHS[1])
    rows = {x.key: x for x in r.modules}
    assert rows["eco"].total.spend_fen == 20_000_001  # the odd fen goes to the first module
    assert rows["village"].total.spend_fen == 20_000_000
    assert rows["cases"].total.spend_fen == 20_000_000
    assert rows["eco"].total.budget_fen == rows["village"].total.budget_fen == 50_000_000
    assert [f.spend_fen for f in rows["eco"].months] == [15_000_001, 0, 5_000_000]
    projects = {x.label: x for x in r.projects}
    assert projects["项目P-ECO"].total.spend_fen == 40_000_001
    assert sum(x.total.spend_fen for x in r.modules) == sum(x.total.spend_fen for x in r.projects)


def test_active_users_are_distinct_per_week_across_a_modules_paths(world):
    with world.reading() as s:
        r = index.report(s, segments=SEGMENTS, since=MONTHS[0], until=MONTHS[1])
    rows = {x.key: x for x in r.modules}
    assert rows["cases"].total.active_weekly == 25.0  # 10..34: people on both paths once
    assert rows["cases"].total.active_by_role == {"inspector": 25.0}
    assert rows["eco"].total.active_weekly == 2.0
    assert rows["cases"].months[1].actions == 20 * 5 * 20 + 10 * 20  # February 2025: 20 weekdays


def test_a_module_with_spend_and_little_use_is_flagged_with_its_numbers(world):
    with world.reading() as s:
        r = index.report(s, segments=SEGMENTS, since=MONTHS[0], until=MONTHS[1])
    rows = {x.key: x for x in r.modules}
    flag = rows["eco"].flag
    assert flag is not None
    assert flag.spend_fen == 20_000_001 and flag.weekly_active_users == 2.0
    assert [(t.measure, t.value, t.limit) for t in flag.tripped] == [("weekly_active_users", 2.0, 5.0)]
    # one action a weekday each (64 weekdays × 2 people over 13 weeks × 2 people): enough, but too few people
    assert flag.actions_per_user_week == round(128 / 26, 2)
    assert rows["cases"].flag is None  # spend, and used
    village = rows["village"].flag
    assert village is not None and [t.measure for t in village.tripped] == [
        "weekly_active_users",
        "actions_per_user_week",
    ]
    assert rows["sensing"].flag is None  # no spend
    projects = {x.label: x for x in r.projects}
    assert projects["项目P-ECO"].flag is not None and projects["项目P-CASES"].flag is None


def test_one_project_only(world):
    with world.reading() as s:
        pid = next(p.project_id for p in index.report(s, segments=SEGMENTS, since="2025-01", until="2025-03").projects
                   if p.label == "项目P-CASES")  # fmt: skip
        r = index.report(s, segments=SEGMENTS, since="2025-01", until="2025-03", project_id=pid)
    assert [x.key for x in r.modules] == ["cases"] and len(r.projects) == 1


def test_records_created_are_counted_from_the_audit_log(db):
    month = index.month_key(county_today())
    with db.reading() as s:
        before = {x.key: x.total.records for x in index.report(s, segments=SEGMENTS, since=month, until=month).modules}
    with db.unit_of_work() as s:
        for _ in range(3):
            audit.record(s, actor=FACTORY, action="village.cert.issue", target_type="x", target_id=1)
        audit.record(s, actor=FACTORY, action="case.create", target_type="case", target_id=1)
        audit.record(s, actor=FACTORY, action="auth.login")  # not a record
    with db.reading() as s:
        after = {x.key: x.total for x in index.report(s, segments=SEGMENTS, since=month, until=month).modules}
    assert after["village"].records - before["village"] == 3
    assert after["village"].data_produced == after["village"].records
    assert after["cases"].records - before["cases"] == 1
    assert after["org"].records == before["org"]


def test_segments_are_derived_from_routes():
    routes = [("/eco/air", "countyos.eco.pages.air"), ("/api/v1/eco/x", "countyos.eco.api.x"),
              ("/odd", "countyos.web.system"), ("/{token}", "countyos.portal.pages.x")]  # fmt: skip
    found = index_modules.segments(routes)
    assert found["eco"] == "eco" and found["odd"] == "platform" and "{token}" not in found
    assert found["m"] == "cases" and found["sta"] == "sensing"  # from the file
    assert index_modules.module_of_action("case.create") == "cases"
    assert index_modules.module_of_action("eco.gep.run") == "eco"
    assert index_modules.module_of_action("whatever.x") == "platform"
    assert not index_modules.creates_record("auth.login") and index_modules.creates_record("user.create")


@pytest.mark.parametrize("role", ["leader", "operator_staff", "programme_office"])
def test_pages_and_api_for_the_index_roles(client, world, role):
    login(client, person(world, [role]))
    page = client.get("/programme/index", params={"since": "2025-01", "until": "2025-03"})
    assert page.status_code == 200, page.text
    assert 'id="index-modules"' in page.text and 'id="index-trend"' in page.text
    assert '<tr id="index-module-eco" class="flagged">' in page.text and '<tr id="index-module-cases">' in page.text
    api = client.get("/api/v1/programme/index", params={"since": "2025-01", "until": "2025-03"})
    assert api.status_code == 200
    eco = next(m for m in api.json()["modules"] if m["key"] == "eco")
    assert eco["flag"]["tripped"][0]["measure"] == "weekly_active_users" and eco["total"]["spend_fen"] == 20_000_001
    users = client.get("/programme/index/users", params={"module": "eco", "month": "2025-02"})
    assert users.status_code == 200 and 'id="index-users"' in users.text
    data = client.get("/api/v1/programme/index/users", params={"module": "eco", "month": "2025-02"}).json()
    assert data["count"] == 2
    breakdown = client.get("/programme/index/cases", params={"since": "2025-01", "until": "2025-03"})
    assert breakdown.status_code == 200 and 'id="index-breakdown"' in breakdown.text and "2,200" in breakdown.text


def test_excel_export(client, world):
    login(client, person(world, ["leader"]))
    r = client.get("/programme/index.xlsx", params={"since": "2025-01", "until": "2025-03"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.sheetnames) == 3
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    eco = next(x for x in rows if x[2] == 200000.01)
    assert eco[1] == 500000.0 and "盆景" in eco[-1]


@pytest.mark.parametrize("role", ["finance_officer", "dispatcher", "partner_developer"])
def test_others_are_refused(client, db, role):
    login(client, person(db, [role]))
    assert client.get("/programme/index").status_code == 403
    assert client.get("/api/v1/programme/index").status_code == 403
    assert client.get("/programme/index.xlsx").status_code == 403
    assert client.get("/api/v1/programme/index/users", params={"module": "eco"}).status_code == 403


def test_bad_queries_are_refused(client, db):
    login(client, person(db, ["leader"]))
    assert client.get("/api/v1/programme/index", params={"since": "2020-01", "until": "2025-01"}).status_code == 422
    assert client.get("/api/v1/programme/index", params={"since": "x"}).status_code == 422
    assert client.get("/api/v1/programme/index/users", params={"module": "nothing"}).status_code == 404
    for params in ({"until": "9999-12"}, {"since": "2025-13"}, {"project": 999999}):
        assert client.get("/api/v1/programme/index", params=params).status_code in (404, 422), params
    for params in ({"module": "eco", "week": "9999-12-31"}, {"module": "eco", "week": "2025-W60"}, {"module": ""}):
        assert client.get("/api/v1/programme/index/users", params=params).status_code == 422, params
        assert client.get("/programme/index/users", params=params).status_code == 422, params
    assert client.get("/programme/index/nothing").status_code == 404
    page = client.get("/programme/index", params={"since": "2020-01", "until": "2025-01"})
    assert page.status_code == 200 and "flash-error" in page.text


def test_usage_daily_rows_are_not_touched_by_the_index(world):
    with world.reading() as s:
        n = s.query(UsageDaily).count()
        index.report(s, segments=SEGMENTS, since=MONTHS[0], until=MONTHS[1])
        assert s.query(UsageDaily).count() == n


def test_pages_read_as_words(client, world):
    from tests.web.visible import raw_marks, visible_text

    login(client, person(world, ["operator_staff"]))
    codes = ("eco", "cases", "inspector", "platform", "2025-01", "2025-02", "2025-03")
    for url in (
        "/programme/index?since=2025-01&until=2025-03",
        "/programme/index/users?module=eco&month=2025-02",
        "/programme/index/eco?since=2025-01&until=2025-03",
        "/programme/index/platform?since=2025-01&until=2025-03",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert raw_marks(visible_text(page.text), codes=codes) == [], url
