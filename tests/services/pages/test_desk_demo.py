"""The demo county has an application waiting at the desk for corrected materials and one accepted at
the window, so every desk page has something to show (and the page walk something to open)."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.demo import DemoContext
from countyos.org import demo as org_demo
from countyos.services import demo
from countyos.services.models import Application


def test_the_demo_has_desk_examples(db) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)  # without the year of applications
    with db.reading() as s:
        rows = s.execute(
            select(Application.applicant_name, Application.state, Application.submitted_role, Application.corrections,
                   Application.receipt_number.is_not(None)).order_by(Application.id)
        ).all()  # fmt: skip
    desk = [tuple(r) for r in rows if r[0] in ("雷春花", "周建国")]  # the other demo applications are others'
    assert desk == [
        ("雷春花", "correction_requested", "agent", 1, False),
        ("周建国", "in_progress", "window", 0, True),
    ]
