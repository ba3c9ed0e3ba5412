"""The demo county's 电子监察: an overdue application under 督办, one past 80 % answered by 市场监管局
(both untouched at the 审查 step for days), one sent back for correction twice."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.demo import DemoContext
from countyos.org import demo as org_demo
from countyos.services import demo
from countyos.services.models import Application, SupervisionRule, SupervisionWarning
from countyos.services.service import supervision


def test_demo_warnings(db, client) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)  # without the year of applications
    with db.reading() as s:
        rows = s.execute(
            select(SupervisionWarning, SupervisionRule.code, Application.number)
            .join(SupervisionRule, SupervisionRule.id == SupervisionWarning.rule_id)
            .join(Application, Application.id == SupervisionWarning.application_id)
            .order_by(SupervisionRule.code, SupervisionWarning.id)
        ).all()
        market = ctx.department_ids["县市场监督管理局"]
        rows = [r for r in rows if r[0].department_id == market]  # other demo applications may warn elsewhere
        got = [(code, w.level, w.state, w.department_id) for w, code, _n in rows]
        assert got == [
            ("JC01", "yellow", "answered", market),
            ("JC02", "red", "supervised", market),
            ("JC03", "yellow", "open", market),  # both wait at the 审查 step for days
            ("JC03", "yellow", "open", market),
            ("JC04", "yellow", "open", market),
        ]
        red = rows[1][0]
        assert red.supervision == "已超期，请于两个工作日内办结并说明原因"
    with db.unit_of_work() as s:
        assert supervision.sweep(s)["raised"] == 0  # the jobs find nothing new
    assert any("/services/supervision" in n for n in ctx.notes)
