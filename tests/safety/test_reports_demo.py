"""The reports demo on a small world: the past flood event of plan SC-FX gets its reports (the first 25
minutes after the start, one follow-up 40 minutes late, the final two days after closing) and its review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from countyos.core.demo import DemoContext
from countyos.safety import demo_reports
from countyos.safety.models.plans import Plan
from countyos.safety.service import reports, reports_review
from tests.safety.reports_helpers import T0, build, event


def test_the_demo_reports_and_review(db) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        demo_reports.load(s, ctx)  # no flood event yet: nothing, no error
    w = build(db)
    closed = T0 + timedelta(hours=20)
    event_id = event(db, w, closed_at=closed)
    with db.unit_of_work() as s:
        s.execute(update(Plan).values(code="SC-FX"))
    ctx.user_ids = {"yjj": w.commander.id}
    with db.unit_of_work() as s:
        demo_reports.load(s, ctx)
        demo_reports.load(s, ctx)  # twice: nothing more
    with db.unit_of_work() as s:
        rows = reports.of_event(s, event_id=event_id)
        review = reports_review.review(s, event_id=event_id)
    assert [r.number for r in rows if r.kind.value == "followup"] == [1, 2, 3]  # 6 h apart while it lasted
    assert all(r.sent_at is not None for r in rows)
    assert rows[0].sent_at == T0 + timedelta(minutes=25)
    assert rows[-1].kind.value == "final" and rows[-1].sent_at == closed + timedelta(days=2)
    assert rows[-1].loss_wan == 85 and rows[-1].evacuated == 326 and rows[-1].deaths == 0
    late = sorted(x.late_minutes for x in review.reports if x.late_minutes)
    assert late == [40] and "雨量站" in review.lessons
