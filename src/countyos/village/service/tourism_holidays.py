"""Holiday reports (黄金周): by day and spot — visitors (the day's entries), the peak in park, the revenue
where reported — and the homestays' revenue and guests from their reports. Holidays are data
(``data/tourism_holidays.json``). Also the spot's own revenue report (one figure a day, replaced with audit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.models.tourism import Spot, SpotDaily
from countyos.village.schemas.tourism import HolidayReportOut, HolidayRowOut, RevenueIn
from countyos.village.service import tourism, tourism_stays
from countyos.village.service.tourism import DATA, field_error
from countyos.village.service.tourism_flow import local_day


@dataclass(frozen=True)
class Holiday:
    code: str
    name: str
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@cache
def holidays() -> dict[str, Holiday]:
    data: dict[str, Any] = json.loads((DATA / "tourism_holidays.json").read_text(encoding="utf-8"))
    return {
        h["code"]: Holiday(h["code"], h["name"], date.fromisoformat(h["start"]), date.fromisoformat(h["end"]))
        for h in data["holidays"]
    }


def holiday(code: str) -> Holiday:
    h = holidays().get(code)
    if h is None:
        raise NotFound(N_("No such holiday"))
    return h


def past_holidays(today: date) -> list[Holiday]:
    """The holidays that have begun, newest first."""
    return sorted((h for h in holidays().values() if h.start <= today), key=lambda h: h.start, reverse=True)


def report(session: Session, *, code: str) -> HolidayReportOut:
    h = holiday(code)
    spots = {s.id: s.name for s in session.scalars(select(Spot).order_by(Spot.name))}
    rows = session.scalars(
        select(SpotDaily).where(SpotDaily.day >= h.start, SpotDaily.day <= h.end).order_by(SpotDaily.day)
    ).all()
    out = [
        HolidayRowOut(
            day=r.day,
            spot=spots.get(r.spot_id, ""),
            visitors=r.entries,
            peak=r.peak,
            peak_at=r.peak_at,
            revenue=r.revenue,
        )
        for r in rows
    ]
    out.sort(key=lambda r: (r.day, r.spot))
    stays = tourism_stays.revenue_by_day(session, start=h.start, end=h.end)
    return HolidayReportOut(
        code=h.code,
        name=h.name,
        start=h.start,
        end=h.end,
        rows=out,
        visitors=sum(r.visitors for r in out),
        spot_revenue=round(sum(r.revenue or 0.0 for r in out), 2),
        homestay_revenue=round(sum(r for r, _ in stays.values()), 2),
        homestay_guests=sum(g for _, g in stays.values()),
    )


def by_day(rep: HolidayReportOut) -> list[dict[str, Any]]:
    """The report's days: visitors, the largest peak of any spot, spot revenue (None when none reported)."""
    days: dict[date, dict[str, Any]] = {}
    for r in rep.rows:
        d = days.setdefault(r.day, {"day": r.day, "visitors": 0, "peak": 0, "revenue": None})
        d["visitors"] += r.visitors
        d["peak"] = max(d["peak"], r.peak)
        if r.revenue is not None:
            d["revenue"] = (d["revenue"] or 0.0) + r.revenue
    return [days[k] for k in sorted(days)]


def report_revenue(session: Session, *, actor: Actor, spot_id: int, data: RevenueIn) -> SpotDaily:
    """The spot's revenue of a day (its manager or the bureau); a second report replaces the first."""
    spot = tourism.spot_to_report(session, actor, spot_id)
    today = local_day(utcnow())
    if data.day > today:
        raise field_error("day", N_("A report cannot be for a day still to come"))
    if data.day < today - timedelta(days=tourism_stays.MAX_REPORT_AGE_DAYS):
        raise field_error("day", N_("A report can be made or corrected up to 60 days back"))
    row = session.scalar(select(SpotDaily).where(SpotDaily.spot_id == spot.id, SpotDaily.day == data.day))
    if row is None:
        row = SpotDaily(spot_id=spot.id, day=data.day, entries=0, exits=0, peak=0, clipped=False)
        session.add(row)
    before = row.revenue
    row.revenue, row.revenue_by_id = data.revenue, actor.id
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.spot.revenue", target_type="village_spot", target_id=spot.id,
        detail={"day": data.day.isoformat(), "revenue": data.revenue, "before": before},
    )  # fmt: skip
    return row
