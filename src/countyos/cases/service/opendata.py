"""The cases domain's records as the data catalogue publishes them live (``data/service/live.py``):
aggregates only — cases per month, category and township, reported and closed — never a reporter,
a description or a position, so nothing personal can leave."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import Case, Category
from countyos.core.settings import get_settings

MONTHLY_HEADERS = ("月份", "案件类别", "乡镇街道代码", "上报数", "结案数")


def monthly(session: Session, *, since: datetime) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    """Cases reported since SINCE, counted per local month, category and township."""
    tz = ZoneInfo(get_settings().timezone)
    names = dict(session.execute(select(Category.id, Category.name)).all())
    reported: Counter[tuple[str, str, str]] = Counter()
    closed: Counter[tuple[str, str, str]] = Counter()
    stmt = select(Case.reported_at, Case.category_id, Case.township_code, Case.closed_at).where(
        Case.reported_at >= since, Case.merged_into_id.is_(None)
    )
    for at, category_id, township, closed_at in session.execute(stmt):
        key = (at.astimezone(tz).strftime("%Y-%m"), names.get(category_id, ""), township or "")
        reported[key] += 1
        if closed_at is not None:
            closed[key] += 1
    rows = ([m, c, t, str(n), str(closed[(m, c, t)])] for (m, c, t), n in sorted(reported.items()))
    return MONTHLY_HEADERS, rows
