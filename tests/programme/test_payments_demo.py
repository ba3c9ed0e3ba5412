"""The payments demo: the finance officer locks the approved assessments of periods ended more than three
months ago, leaves the recent ones, and changes one locked month with a recorded reason; a second run
changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.clock import county_today
from countyos.core.demo import DemoContext
from countyos.programme import demo_payments
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState
from countyos.programme.models.projects import Contract
from tests.programme.payments_helpers import World, pay_world

__all__ = ["pay_world"]


def test_demo_locks_the_old_approved_and_amends_one(db, pay_world: World) -> None:
    today = county_today()
    old_start = demo_payments.months_back(today, 5)
    recent_start = demo_payments.months_back(today, 1)
    with db.unit_of_work() as s:
        c = s.get(Contract, pay_world.contract_id)
        assert c is not None
        for start, total in ((old_start, 80.0), (recent_start, 86.0)):
            end = demo_payments.months_back(start, -1)
            s.add(
                Assessment(contract_id=c.id, period_start=start, period_end=end, state=AssessmentState.APPROVED,
                           total_score=total, base_fen=10_000_000, deduction_fen=500_000, payable_fen=9_500_000,
                           approved_by_id=pay_world.office.id)
            )  # fmt: skip
    ctx = DemoContext()
    ctx.user_ids["czj"] = pay_world.finance.id
    with db.unit_of_work() as s:
        demo_payments.load(s, ctx)
    with db.unit_of_work() as s:
        demo_payments.load(s, ctx)  # a second run changes nothing
    with db.reading() as s:
        old = s.scalar(select(Assessment).where(Assessment.period_start == old_start))
        recent = s.scalar(select(Assessment).where(Assessment.period_start == recent_start))
        assert old is not None and recent is not None
        assert old.state == AssessmentState.LOCKED and old.locked_by_id == pay_world.finance.id
        assert recent.state == AssessmentState.APPROVED  # within three months: left for the finance officer
        assert s.get(Assessment, pay_world.computed).state == AssessmentState.COMPUTED
        amendments = s.scalars(select(Amendment)).all()
        assert len(amendments) == 1 and amendments[0].reason == demo_payments.REASON
        changed = s.get(Assessment, amendments[0].assessment_id)
        assert changed.state == AssessmentState.LOCKED
        assert amendments[0].after["payable_fen"] == changed.payable_fen > amendments[0].before["payable_fen"]
        assert s.scalar(select(func.count()).select_from(Amendment)) == 1
