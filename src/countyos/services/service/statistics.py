"""Leader statistics of applications (办件): 办件量, 即办率, 按期办结率, 网办率, 平均跑动次数 by department,
township and period, with the ids behind every number.

Every figure is a set of applications chosen by one measure of ``ioc_queries`` (the operations view
counts with the same conditions), so a number and its list cannot disagree:

* 办件量 — ``submitted``: submitted in the period (county days);
* 即办率 — ``immediate`` ÷ ``accepted``: concluded at the moment of acceptance ÷ accepted;
* 按期办结率 — ``on_time`` ÷ ``concluded``: concluded by the 承诺办结时间 ÷ concluded (准予 or 不予);
* 网办率 — ``online`` ÷ ``submitted``: submitted online (电脑端, 移动端) ÷ submitted;
* 平均跑动次数 — the sum of the 到办事现场次数 of the matter versions applied under ÷ ``submitted``.

A township is where an application was submitted: its 便民服务中心 window or one of its villages'
代办点; everything else (the county 政务服务中心, online) is one row of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from countyos.core.clock import to_local, utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.service import departments
from countyos.services import numbering
from countyos.services.service import ioc_queries as q

READ = "services.statistics.read"
PERIOD_KINDS: dict[str, str] = {
    "month": N_("Month"),
    "quarter": N_("Quarter"),
    "year": N_("Year"),
    "range": N_("Chosen dates"),
}
GROUPS: dict[str, str] = {"department": N_("Department"), "township": N_("Township")}
MAX_RANGE_DAYS = 3 * 366
TREND_MONTHS = 12
# The measures whose ids the statistics keep (each a list on the records page).
FIGURE_MEASURES = ("submitted", "accepted", "immediate", "concluded", "on_time", "online", "rejected", "overdue")
# rate → (part, whole)
RATES: dict[str, tuple[str, str]] = {
    "immediate_rate": ("immediate", "accepted"),
    "on_time_rate": ("on_time", "concluded"),
    "online_rate": ("online", "submitted"),
}
CENTRE_AND_ONLINE = N_("County service centre and online")
NO_DEPARTMENT = N_("No responsible department")


def tz() -> str:
    return numbering.county_tz()


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), ZoneInfo(tz())).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """A period in the county's days: ``since`` to ``until`` inclusive."""

    kind: str
    since: date
    until: date

    @property
    def start(self) -> datetime:
        return _midnight(self.since)

    @property
    def end(self) -> datetime:
        return _midnight(self.until + timedelta(days=1))

    def params(self) -> dict[str, str]:
        return {"period": self.kind, "since": self.since.isoformat(), "until": self.until.isoformat()}

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.since.year}年{self.since.month}月"
        if self.kind == "quarter":
            return f"{self.since.year}年第{(self.since.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.since.year}年"
        return f"{self.since.isoformat()} – {self.until.isoformat()}"


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def today(now: datetime | None = None) -> date:
    return to_local(now or utcnow(), tz()).date()


def _date(value: str | date | None, field_name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) > 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        msg = N_("Give a date as YYYY-MM-DD")
        raise ValidationFailed(msg, errors=[{"field": field_name, "message": gettext(msg)}]) from None


def period(
    kind: str | None = None,
    *,
    on: str | date | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    now: datetime | None = None,
) -> Period:
    """The month, quarter or year holding ``on`` (default today, county time), or the chosen dates."""
    kind = kind or "month"
    if kind not in PERIOD_KINDS:
        msg = N_("Choose a month, a quarter, a year or dates")
        raise ValidationFailed(msg, errors=[{"field": "period", "message": gettext(msg)}])
    if kind == "range":
        a, b = _date(since, "since"), _date(until, "until")
        if a is None or b is None:
            msg = N_("Give the first and the last day")
            raise ValidationFailed(msg, errors=[{"field": "since" if a is None else "until", "message": gettext(msg)}])
        if b < a or (b - a).days >= MAX_RANGE_DAYS:
            msg = N_("The last day must be on or after the first, at most three years later")
            raise ValidationFailed(msg, errors=[{"field": "until", "message": gettext(msg)}])
        return Period(kind, a, b)
    d = _date(on, "on") or _date(since, "since") or today(now)
    if kind == "month":
        return Period(kind, d.replace(day=1), _month_end(d))
    if kind == "quarter":
        first = date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, first, _month_end(date(first.year, first.month + 2, 1)))
    return Period(kind, date(d.year, 1, 1), date(d.year, 12, 31))


@dataclass
class Figures:
    """The applications behind each measure (ids, oldest first) and the sum of their 到现场次数."""

    ids: dict[str, list[int]] = field(default_factory=lambda: {m: [] for m in FIGURE_MEASURES})
    visits: int = 0  # over the submitted ones

    def count(self, measure: str) -> int:
        return len(self.ids[measure])

    def rate(self, name: str) -> float | None:
        """A rate in percent (2 decimals), or the average visits; None when its whole is 0."""
        if name == "visits":
            n = self.count("submitted")
            return round(self.visits / n, 2) if n else None
        part, whole = RATES[name]
        w = self.count(whole)
        return round(100.0 * self.count(part) / w, 2) if w else None


@dataclass
class Row:
    key: int | None  # department or township id; None: no department / the county centre and online
    name: str  # a message id when ``key`` is None
    figures: Figures


@dataclass
class Statistics:
    period: Period
    group: str
    total: Figures
    rows: list[Row]
    trend: list[tuple[str, Figures]]  # (YYYY-MM, figures of that month), the 12 months ending with the period


def _collect(session: Session, s: q.AppSlice, now: datetime, key: Any) -> tuple[dict[Any, Figures], Figures]:
    """Figures of the slice grouped by ``key(fact)`` (None: not grouped) and in total."""
    groups: dict[Any, Figures] = defaultdict(Figures)
    total = Figures()
    for measure in FIGURE_MEASURES:
        for fact in q.facts(session, measure=measure, s=s, now=now):
            total.ids[measure].append(fact[0])
            if measure == "submitted":
                total.visits += int(fact[4] or 0)
            g = groups[key(fact)]
            g.ids[measure].append(fact[0])
            if measure == "submitted":
                g.visits += int(fact[4] or 0)
    return groups, total


def place_of(towns: dict[int, tuple[str, tuple[int, ...]]]) -> dict[int, int]:
    """Submitting department id → township id."""
    return {i: t for t, (_n, ids) in towns.items() for i in ids}


def slice_of(
    session: Session, *, p: Period, department_id: int | None = None, township_id: int | None = None,
    matter_id: int | None = None, centre: bool = False,
) -> q.AppSlice:  # fmt: skip
    """The slice of a period, optionally one department, township (``centre``: the county centre and online)."""
    places: tuple[int, ...] | None = None
    if township_id is not None:
        places = q.townships(session).get(township_id, ("", (-1,)))[1]
    elif centre:
        places = ()
    return q.AppSlice(p.start, p.end, department_id, places, matter_id)


def compute(
    session: Session,
    *,
    p: Period,
    group: str = "department",
    department_id: int | None = None,
    township_id: int | None = None,
    now: datetime | None = None,
) -> Statistics:
    """The period's figures in total and per department or township, and the 12-month trend."""
    now = now or utcnow()
    if group not in GROUPS:
        raise ValidationFailed(N_("Group by department or township"))
    towns = q.townships(session)
    where = place_of(towns)
    s = slice_of(session, p=p, department_id=department_id, township_id=township_id)
    if group == "department":
        groups, total = _collect(session, s, now, lambda f: f[1])
        names = {d.id: d.name for d in departments.all_active(session)}
        rows = [Row(k, names.get(k, "") if k is not None else NO_DEPARTMENT, g) for k, g in groups.items()]
    else:
        groups, total = _collect(session, s, now, lambda f: where.get(f[2]))
        rows = [Row(k, towns[k][0] if k is not None else CENTRE_AND_ONLINE, g) for k, g in groups.items()]
        rows += [Row(t, name, Figures()) for t, (name, _ids) in towns.items() if t not in groups]
    rows.sort(key=lambda r: (-r.figures.count("submitted"), r.key is None, r.name))
    return Statistics(p, group, total, rows, trend(session, p=p, s=s, now=now))


def months_before(p: Period, n: int = TREND_MONTHS) -> list[date]:
    """The first days of the ``n`` months ending with the period's last month."""
    y, m = p.until.year, p.until.month
    out = []
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def trend(session: Session, *, p: Period, s: q.AppSlice, now: datetime) -> list[tuple[str, Figures]]:
    """Figures of each of the 12 months ending with the period's last month (county months)."""
    months = months_before(p)
    first = months[0]
    whole = Period("range", first, _month_end(months[-1]))
    ts = replace(s, start=whole.start, end=whole.end)
    zone = ZoneInfo(tz())
    groups, _total = _collect(session, ts, now, lambda f: f[3].astimezone(zone).strftime("%Y-%m") if f[3] else None)
    return [(m.strftime("%Y-%m"), groups.get(m.strftime("%Y-%m"), Figures())) for m in months]


def measures_of(name: str) -> Iterable[str]:
    """The measures behind a figure's name (a rate's part and whole)."""
    if name in RATES:
        return RATES[name]
    if name == "visits":
        return ("submitted",)
    return (name,)
