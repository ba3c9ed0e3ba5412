"""The cases published live to the data catalogue: counts per month, category and township only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from countyos.cases.lifecycle import Action
from countyos.cases.service import opendata
from tests.cases.test_lifecycle import act, report


def test_monthly_counts_reported_and_closed_without_personal_fields(db, world) -> None:
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    first, _ = report(db, world, at=now)
    report(db, world, at=now)
    act(db, world.intake, first, Action.SELF_CLOSE, now, comment="现场已处理")
    with db.reading() as s:
        headers, rows = opendata.monthly(s, since=now - timedelta(days=40))
        rows = list(rows)
    assert headers == opendata.MONTHLY_HEADERS
    assert len(rows) == 1
    month, category, township, reported, closed = rows[0]
    assert (month, reported, closed) == (now.strftime("%Y-%m"), "2", "1") and category and township
