"""巡河率/巡林率, problems and their closure, overdue chiefs; every figure with the filter of its records.

Duties come from ``data/chief_duties.json``: for a role and level, a unit (``week`` Monday–Sunday,
``xun`` 旬 = days 1–10, 11–20, 21–end, ``month``, ``quarter``) and the patrols it needs (``count``).
Dates are the county's local dates.

- A unit is **due** for an assignment when the assignment covers all of it, it has ended (its last
  day is before AS_OF) and its last day falls in the period asked about.
- It is **done** when it holds at least ``count`` finished patrols of that assignment that are not
  flagged (a patrol belongs to the unit of the local date it started on). Extra patrols in one unit
  make up for no other unit, so the rate is at most 100 %.
- 巡河率 = done ÷ due (None when nothing is due).
- Problems: those found in the period; **closed** when their case has been closed (结案); closure rate
  = closed ÷ problems.
- A serving chief is **overdue** when the latest unit that has ended by AS_OF (and that the
  assignment covers) is not done.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import county_zone, to_local, utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.eco.models.rivers import ChiefLevel, PatrolState, RiverChief, RiverPatrol, RiverProblem
from countyos.eco.service import rivers
from countyos.eco.service.rivers_patrols import closed_cases, config

PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|\d{2}))?$")


@dataclass(frozen=True)
class Period:
    text: str
    start: date
    end: date  # last day

    def utc_bounds(self) -> tuple[datetime, datetime]:
        tz = county_zone()
        lo = datetime.combine(self.start, time(), tz)
        hi = datetime.combine(self.end + timedelta(days=1), time(), tz)
        return lo, hi


def parse_period(text: str) -> Period:
    """``2026`` (year), ``2026-Q4`` (quarter) or ``2026-11`` (month)."""
    m = PERIOD.match(text.strip())
    if not m:
        raise ValidationFailed(N_("A period is a year (2026), a quarter (2026-Q4) or a month (2026-11)"),
                               errors=[{"field": "period", "message": "not a period"}])  # fmt: skip
    year = int(m.group(1))
    part = m.group(2)
    if year < 2000 or year > 2100:
        raise ValidationFailed(N_("A period is a year (2026), a quarter (2026-Q4) or a month (2026-11)"))
    if part is None:
        return Period(text.strip(), date(year, 1, 1), date(year, 12, 31))
    if part.startswith("Q"):
        q = int(part[1])
        first = date(year, 3 * q - 2, 1)
        last_month = 3 * q
        return Period(text.strip(), first, date(year, last_month, calendar.monthrange(year, last_month)[1]))
    month = int(part)
    if not 1 <= month <= 12:
        raise ValidationFailed(N_("A period is a year (2026), a quarter (2026-Q4) or a month (2026-11)"))
    return Period(text.strip(), date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def current_period(kind: str = "month", today: date | None = None) -> str:
    d = today or local_today()
    if kind == "year":
        return str(d.year)
    if kind == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return f"{d.year}-{d.month:02d}"


def local_today() -> date:
    return to_local(utcnow(), get_settings().timezone).date()


def local_date(at: datetime) -> date:
    return to_local(at, get_settings().timezone).date()


def duty(c: RiverChief) -> tuple[str, int]:
    spec = config()["duties"][str(c.role)][str(c.level)]
    return str(spec["unit"]), int(spec["count"])


def unit_of(unit: str, d: date) -> tuple[date, date]:
    """The unit (first and last day) holding D."""
    if unit == "week":
        first = d - timedelta(days=d.weekday())
        return first, first + timedelta(days=6)
    last_of_month = calendar.monthrange(d.year, d.month)[1]
    if unit == "xun":
        if d.day <= 10:
            return d.replace(day=1), d.replace(day=10)
        if d.day <= 20:
            return d.replace(day=11), d.replace(day=20)
        return d.replace(day=21), d.replace(day=last_of_month)
    if unit == "month":
        return d.replace(day=1), d.replace(day=last_of_month)
    if unit == "quarter":
        m0 = 3 * ((d.month - 1) // 3) + 1
        m1 = m0 + 2
        return date(d.year, m0, 1), date(d.year, m1, calendar.monthrange(d.year, m1)[1])
    raise ValueError(unit)


def units_between(unit: str, first: date, last: date) -> list[tuple[date, date]]:
    """The units whose last day lies in [FIRST, LAST], in order."""
    out = []
    u = unit_of(unit, first)
    while u[0] <= last:
        if first <= u[1] <= last:
            out.append(u)
        u = unit_of(unit, u[1] + timedelta(days=1))
    return out


def covers(c: RiverChief, u: tuple[date, date]) -> bool:
    return c.starts_on <= u[0] and (c.ends_on is None or c.ends_on >= u[1])


def unit_label(unit: str, u: tuple[date, date]) -> str:
    if unit == "month":
        return f"{u[0].year}-{u[0].month:02d}"
    if unit == "quarter":
        return f"{u[0].year}-Q{(u[0].month - 1) // 3 + 1}"
    return f"{u[0].isoformat()}~{u[1].isoformat()}"


@dataclass
class ChiefRate:
    chief: RiverChief
    unit: str
    count: int
    due: int = 0
    done: int = 0
    missed: list[str] = field(default_factory=list)
    problems: int = 0
    closed: int = 0
    overdue: bool = False
    current_done: bool = False  # the running unit already has its patrols

    @property
    def rate(self) -> float | None:
        return round(self.done / self.due, 4) if self.due else None

    @property
    def closure_rate(self) -> float | None:
        return round(self.closed / self.problems, 4) if self.problems else None


def _patrol_days(session: Session, chief_ids: list[int], since: date) -> dict[int, list[date]]:
    """Local start dates of the counted patrols (finished, not flagged) of these chiefs from SINCE."""
    if not chief_ids:
        return {}
    tz = county_zone()
    lo = datetime.combine(since, time(), tz)
    out: dict[int, list[date]] = defaultdict(list)
    rows = session.execute(
        select(RiverPatrol.chief_id, RiverPatrol.started_at).where(
            RiverPatrol.chief_id.in_(chief_ids), RiverPatrol.state == PatrolState.FINISHED,
            RiverPatrol.flagged.is_(False), RiverPatrol.started_at >= lo,
        )
    )  # fmt: skip
    for cid, at in rows:
        out[int(cid)].append(local_date(at))
    return out


def rates(
    session: Session,
    *,
    period: Period,
    level: ChiefLevel | None = None,
    area_id: int | None = None,
    user_id: int | None = None,
    as_of: date | None = None,
) -> list[ChiefRate]:
    """One row per assignment in force at some time of the period (and, for ``overdue``, as of AS_OF)."""
    today = as_of or local_today()
    stmt = select(RiverChief).where(
        RiverChief.starts_on <= period.end, RiverChief.ends_on.is_(None) | (RiverChief.ends_on >= period.start)
    )
    if level is not None:
        stmt = stmt.where(RiverChief.level == level)
    if area_id is not None:
        stmt = stmt.where(RiverChief.area_id == area_id)
    if user_id is not None:
        stmt = stmt.where(RiverChief.user_id == user_id)
    chiefs = list(session.scalars(stmt.order_by(RiverChief.level, RiverChief.area_id, RiverChief.id)))
    earliest = min([period.start - timedelta(days=100), today - timedelta(days=100)])
    days = _patrol_days(session, [c.id for c in chiefs], earliest)
    out = []
    for c in chiefs:
        unit, count = duty(c)
        r = ChiefRate(chief=c, unit=unit, count=count)
        per_unit: dict[date, int] = defaultdict(int)
        for d in days.get(c.id, []):
            per_unit[unit_of(unit, d)[0]] += 1
        last_ended = today - timedelta(days=1)
        for u in units_between(unit, period.start, min(period.end, last_ended)):
            if not covers(c, u):
                continue
            r.due += 1
            if per_unit.get(u[0], 0) >= count:
                r.done += 1
            else:
                r.missed.append(unit_label(unit, u))
        serving_now = c.starts_on <= today and (c.ends_on is None or c.ends_on >= today)
        if serving_now:
            prev = unit_of(unit, unit_of(unit, today)[0] - timedelta(days=1))
            r.overdue = covers(c, prev) and per_unit.get(prev[0], 0) < count
            r.current_done = per_unit.get(unit_of(unit, today)[0], 0) >= count
        out.append(r)
    _problems(session, out, period)
    return out


def _problems(session: Session, rows: list[ChiefRate], period: Period) -> None:
    if not rows:
        return
    lo, hi = period.utc_bounds()
    by_chief = {r.chief.id: r for r in rows}
    probs = session.execute(
        select(RiverProblem.chief_id, RiverProblem.case_id).where(
            RiverProblem.chief_id.in_(list(by_chief)), RiverProblem.found_at >= lo, RiverProblem.found_at < hi
        )
    )
    probs_l = list(probs)
    closed = closed_cases(session, [cid for _, cid in probs_l if cid is not None])
    for chief_id, case_id in probs_l:
        r = by_chief[int(chief_id)]
        r.problems += 1
        if case_id is not None and case_id in closed:
            r.closed += 1


@dataclass
class LevelRate:
    level: ChiefLevel
    chiefs: int = 0
    due: int = 0
    done: int = 0
    problems: int = 0
    closed: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.done / self.due, 4) if self.due else None

    @property
    def closure_rate(self) -> float | None:
        return round(self.closed / self.problems, 4) if self.problems else None


def by_level(rows: list[ChiefRate]) -> list[LevelRate]:
    out = {lv: LevelRate(level=lv) for lv in ChiefLevel}
    for r in rows:
        lr = out[r.chief.level]
        lr.chiefs += 1
        lr.due += r.due
        lr.done += r.done
        lr.problems += r.problems
        lr.closed += r.closed
        lr.overdue += int(r.overdue)
    return list(out.values())


def area_status(session: Session, *, as_of: date | None = None) -> dict[int, str]:
    """Per area: ``none`` (no chief serving), ``overdue`` (a chief missed the last unit), ``due`` (a
    chief has not yet patrolled in the running unit) or ``ok``."""
    today = as_of or local_today()
    rows = rates(session, period=Period("", today, today), as_of=today)
    out: dict[int, str] = {}
    rank = {"none": 0, "ok": 1, "due": 2, "overdue": 3}
    for r in rows:
        c = r.chief
        if not (c.starts_on <= today and (c.ends_on is None or c.ends_on >= today)):
            continue
        s = "overdue" if r.overdue else ("ok" if r.current_done else "due")
        if rank[s] > rank[out.get(c.area_id, "none")]:
            out[c.area_id] = s
    for a in rivers.list_areas(session, active=True, limit=5000):
        out.setdefault(a.id, "none")
    return out


def links(period: str, **filters: Any) -> tuple[str, str]:
    q = "&".join(f"{k}={v}" for k, v in filters.items() if v is not None)
    tail = f"period={period}" + (f"&{q}" if q else "")
    return f"/eco/rivers/patrols?{tail}", f"/eco/rivers/problems?{tail}"
