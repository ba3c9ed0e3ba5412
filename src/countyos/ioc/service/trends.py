"""Trends of the operations view: cases per day and category, alarms per hour, rankings.

Every point is a grouped count of an indicator measure (``reported`` cases, ``raised`` alarms) in the
scope, and carries the drill that lists exactly the records it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import Narrow, Scope, tz
from countyos.sensing.service import ioc_queries as sensing_q

TOP_CATEGORIES = 6
OTHER = N_("Other categories")


@dataclass
class Series:
    key: str  # category id, or "" for the rest
    name: str
    data: list[int]
    urls: list[str]


@dataclass
class CaseTrend:
    days: list[date]
    series: list[Series]
    total: int


def cases_by_day(session: Session, *, actor: Actor, scope: Scope, now: datetime) -> CaseTrend:
    """Reported cases per local day, for the largest categories (and the rest together)."""
    counts = cases_q.count_by(
        session,
        actor=actor,
        measure="reported",
        s=ind.case_slice(session, scope, Narrow()),
        now=now,
        by=("day", "category"),
        tz=tz(),
    )
    days = scope.days
    index = {d.isoformat(): i for i, d in enumerate(days)}
    per_cat: dict[int, list[int]] = {}
    for (day, cat), n in counts.items():
        if day in index:
            per_cat.setdefault(int(cat), [0] * len(days))[index[day]] += n
    ranked = sorted(per_cat, key=lambda c: -sum(per_cat[c]))
    top, rest = ranked[:TOP_CATEGORIES], ranked[TOP_CATEGORIES:]
    names = cases_q.category_names(session, set(top))
    series = [
        Series(
            str(c),
            names.get(c, str(c)),
            per_cat[c],
            [
                ind.list_url("cases", "reported", replace(scope, category_id=c), Narrow(day=d)) if per_cat[c][i] else ""
                for i, d in enumerate(days)
            ],
        )
        for c in top
    ]
    if rest:
        data = [sum(per_cat[c][i] for c in rest) for i in range(len(days))]
        series.append(
            Series(
                "",
                OTHER,
                data,
                [
                    ind.list_url("cases", "reported", scope, Narrow(day=d)) if data[i] else ""
                    for i, d in enumerate(days)
                ],
            )
        )
    return CaseTrend(days, series, sum(counts.values()))


@dataclass
class AlarmTrend:
    labels: list[str]  # "YYYY-MM-DD HH" (hourly) or "YYYY-MM-DD" (daily)
    hourly: bool
    data: list[int]
    urls: list[str]
    total: int


def alarms_by_hour(session: Session, *, scope: Scope, now: datetime, max_hours: int = 31 * 24) -> AlarmTrend:
    """Alarms raised per local hour of the period (per day when the period is longer than a month)."""
    ss = ind.sensing_slice(session, scope, Narrow())
    hours = int((min(scope.end, _next_hour(now)) - scope.start).total_seconds() // 3600)
    hourly = hours <= max_hours
    dialect = session.get_bind().dialect.name
    offset_h = _tz_offset_hours()
    counts = sensing_q.alarm_count_by(
        session,
        measure="raised",
        s=ss,
        by="hour" if hourly else "day",
        tz_offset_hours=offset_h,
        dialect=dialect,
        tz=tz(),
    )
    labels: list[str] = []
    urls: list[str] = []
    data: list[int] = []
    if hourly:
        for h in range(max(hours, 0)):
            at = scope.start + timedelta(hours=h)
            local = at.astimezone(_zone())
            label = local.strftime("%Y-%m-%d %H")
            n = counts.get(label, 0)
            labels.append(label)
            data.append(n)
            urls.append(ind.list_url("alarms", "raised", scope, Narrow(day=local.date(), hour=local.hour)) if n else "")
    else:
        for d in scope.days:
            n = counts.get(d.isoformat(), 0)
            labels.append(d.isoformat())
            data.append(n)
            urls.append(ind.list_url("alarms", "raised", scope, Narrow(day=d)) if n else "")
    return AlarmTrend(labels, hourly, data, urls, sum(data))


def _zone() -> ZoneInfo:
    return ZoneInfo(tz())


def _tz_offset_hours() -> int:
    off = datetime(2020, 1, 1, tzinfo=_zone()).utcoffset()
    return int(off.total_seconds() // 3600) if off else 0


def _next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


# --- rankings (the cases evaluation, per department and township) ----------------------------------


@dataclass
class Ranked:
    key: str
    name: str
    reported: int
    closure_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    score: float | None
    grade: str | None
    url: str


def ranking(session: Session, *, actor: Actor, subject: str, scope: Scope, now: datetime) -> list[Ranked]:
    """Departments or townships by the evaluation's composite score and grade, for the cases of the
    scope; each row lists the cases it was computed from."""
    rows = cases_q.evaluate_slice(
        session, actor=actor, subject=subject, s=ind.case_slice(session, scope, Narrow()), now=now
    )
    out = []
    for r in rows:
        if subject == "department":
            url = ind.list_url("cases", "reported", scope, Narrow(department_id=int(r.key)))
        else:
            url = ind.list_url("cases", "reported", replace(scope, township_code=r.key))
        out.append(
            Ranked(
                r.key,
                r.name,
                r.counts.reported,
                r.rates.get("closure_rate"),
                r.rates.get("closed_on_time_rate"),
                r.rates.get("satisfaction_rate"),
                r.score,
                r.grade,
                url,
            )
        )
    return out


GRADE_HELP = N_("Composite score and grade of the cases evaluation (A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40)")
