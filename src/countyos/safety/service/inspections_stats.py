"""Figures of the hidden dangers: found and closed by month (county days) and by kind of place, by level,
overdue, and 整改率 (closed / found, percent, of those found in the period); counts by state for the lists."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.clock import county_day, county_today
from countyos.safety.models.inspections import Hazard, HazardState, Place


def stats(session: Session, *, since: datetime, until: datetime, today: date | None = None) -> dict[str, object]:
    """Hazards found and closed by month and by place kind, by level, and 整改率 (closed / found, percent)
    of those found in [SINCE, UNTIL)."""
    today = today or county_today()
    rows = session.execute(
        select(Hazard.found_at, Hazard.closed_at, Hazard.state, Hazard.level, Hazard.deadline_on, Place.kind)
        .join(Place, Place.id == Hazard.place_id)
        .where(Hazard.found_at >= since, Hazard.found_at < until)
    ).all()
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"found": 0, "closed": 0})
    levels: dict[str, int] = defaultdict(int)
    found = closed = overdue = 0
    for found_at, closed_at, state, level, deadline, kind in rows:
        found += 1
        months[county_day(found_at).strftime("%Y-%m")][0] += 1
        kinds[kind]["found"] += 1
        levels[str(level)] += 1
        if state == HazardState.CLOSED and closed_at is not None:
            closed += 1
            months[county_day(closed_at).strftime("%Y-%m")][1] += 1
            kinds[kind]["closed"] += 1
        elif deadline < today:
            overdue += 1
    return {
        "found": found,
        "closed": closed,
        "open": found - closed,
        "overdue": overdue,
        "rectification_rate": round(100.0 * closed / found, 1) if found else None,
        "by_month": [{"month": m, "found": v[0], "closed": v[1]} for m, v in sorted(months.items())],
        "by_kind": dict(kinds),
        "by_level": dict(levels),
    }


def counts_by_state(session: Session, *, today: date | None = None) -> dict[str, int]:
    today = today or county_today()
    out = {str(s): 0 for s in HazardState}
    for state, n in session.execute(select(Hazard.state, func.count()).group_by(Hazard.state)):
        out[str(state)] = int(n)
    out["overdue"] = int(
        session.scalar(select(func.count()).where(Hazard.state != HazardState.CLOSED, Hazard.deadline_on < today)) or 0
    )
    return out
