"""The demo's plans and resources load on the sensing demo: SC-FX with v1 superseded and v2 in force
(its level IV rule above 4.0 m, never below the simulator's 3.6 m wave), SC-DZ on the rain gauge,
exercises in 2026, warehouses with expiring stock, teams, shelters and experts; the pages show them."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.demo import DemoContext
from countyos.safety import demo_plans
from countyos.safety.models.plans import PlanRule, ResponseLevel, VersionState
from countyos.safety.models.resources import Expert, Shelter, StockLine, Team, Warehouse
from countyos.safety.service import plans, plans_exercises
from countyos.safety.service import resources_registry as registry
from countyos.sensing.demo import load as load_sensing
from countyos.sensing.models import Rule
from tests.factories import department, login, person

DEPARTMENTS = [
    "县水利局",
    "县应急管理局",
    "县自然资源和规划局",
    "县交通运输局",
    "县公安局",
    "县卫生健康局",
    "大柘镇人民政府",
    "妙高街道办事处",
    "北界镇人民政府",
]


def test_demo_loads_plans_exercises_and_resources(db, client):
    for name in DEPARTMENTS:
        department(db, name)
    yjj = person(db, ["emergency_officer"])
    ctx = DemoContext()
    ctx.user_ids["yjj"] = yjj.id
    with db.unit_of_work() as s:
        load_sensing(s, ctx)
        demo_plans.load(s, ctx)
    with db.reading() as s:
        fx = plans.get_by_code(s, code="SC-FX")
        assert fx is not None
        versions = plans.versions_of(s, plan_id=fx.id)
        assert [v.state for v in versions] == [VersionState.SUPERSEDED, VersionState.PUBLISHED]
        version, body = plans.published_body(s, fx) or (None, None)
        assert version is not None and version.number == 2 and body is not None
        assert [spec.level for spec in body.levels] == [
            ResponseLevel.IV,
            ResponseLevel.III,
            ResponseLevel.II,
            ResponseLevel.I,
        ]
        live = s.execute(
            select(PlanRule.level, Rule.condition)
            .join(Rule, Rule.id == PlanRule.rule_id)
            .where(PlanRule.version_id == version.id, Rule.enabled.is_(True))
        ).all()
        iv = [c for lv, c in live if lv == ResponseLevel.IV]
        assert iv and iv[0]["of"]["value"] == 4.0 and iv[0]["seconds"] == 600
        assert all(c["of"]["value"] > 3.6 for _, c in live)
        dz = plans.get_by_code(s, code="SC-DZ")
        assert dz is not None and plans.published_body(s, dz) is not None
        assert plans_exercises.count_by_year(s).get(2026, 0) >= 3
        assert s.scalar(select(func.count()).select_from(Warehouse)) == 3
        assert s.scalar(select(func.count()).select_from(StockLine)) >= 35
        summary = registry.stock_summary(s)
        assert sum(x["expired"] for x in summary.values()) >= 1 and sum(x["expiring"] for x in summary.values()) >= 1
        assert s.scalar(select(func.count()).select_from(Team)) == 5
        assert s.scalar(select(func.count()).select_from(Shelter)) == 8
        assert s.scalar(select(func.count()).select_from(Expert)) == 6
        fx_id = fx.id
    login(client, person(db, ["emergency_officer"]))
    for url in (
        "/safety/plans",
        f"/safety/plans/{fx_id}",
        f"/safety/plans/{fx_id}/versions/2",
        f"/safety/plans/{fx_id}/draft",
        "/safety/exercises",
        "/safety/resources",
        "/safety/resources/warehouse",
        "/safety/resources/team",
        "/safety/resources/shelter",
        "/safety/resources/expert",
        "/safety/resources/nearest?lon=119.27&lat=28.59",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
