"""What the operations view is looking at: a period (in local days), a township and a category.

Every number, chart, ranking, map layer and list on the page is computed for one ``Scope``; a drill
(``Narrow``) only ever narrows it (one department, one grid, one day, one hour, one severity).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from countyos.core.clock import to_local, utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings

PERIODS: dict[str, str] = {
    "today": N_("Today"),
    "week": N_("This week"),
    "month": N_("This month"),
    "30d": N_("Last 30 days"),
    "year": N_("This year"),
    "custom": N_("Chosen dates"),
}
MAX_DAYS = 3660


def tz() -> str:
    return get_settings().timezone


def local_midnight(d: date) -> datetime:
    """The UTC instant of local midnight starting day ``d``."""
    return datetime.combine(d, time(0), ZoneInfo(tz())).astimezone(UTC)


def today(now: datetime | None = None) -> date:
    return to_local(now or utcnow(), tz()).date()


@dataclass(frozen=True)
class Scope:
    period: str
    since: date  # first local day
    until: date  # last local day (inclusive)
    township_code: str | None = None
    category_id: int | None = None

    @property
    def start(self) -> datetime:
        return local_midnight(self.since)

    @property
    def end(self) -> datetime:
        return local_midnight(self.until + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]

    def previous(self) -> Scope:
        """The period of the same length just before this one (for comparisons)."""
        n = (self.until - self.since).days + 1
        return replace(
            self, period="custom", since=self.since - timedelta(days=n), until=self.since - timedelta(days=1)
        )

    def params(self) -> dict[str, str]:
        """The query parameters that select this scope (for links)."""
        out = {"period": self.period}
        if self.period == "custom":
            out.update(since=self.since.isoformat(), until=self.until.isoformat())
        if self.township_code:
            out["township"] = self.township_code
        if self.category_id is not None:
            out["category"] = str(self.category_id)
        return out


def period_bounds(period: str, on: date) -> tuple[date, date]:
    if period == "today":
        return on, on
    if period == "week":
        return on - timedelta(days=on.weekday()), on
    if period == "month":
        return on.replace(day=1), on
    if period == "30d":
        return on - timedelta(days=29), on
    if period == "year":
        return on.replace(month=1, day=1), on
    raise ValidationFailed(N_("Unknown period %(p)s"), p=period)


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(N_("%(name)s is not a date (YYYY-MM-DD)"), name=name) from None


def resolve(
    *,
    period: str | None = None,
    since: Any = None,
    until: Any = None,
    township: str | None = None,
    category: Any = None,
    now: datetime | None = None,
) -> Scope:
    """A scope from query parameters; dates without a period mean a chosen range."""
    on = today(now)
    s, u = _date(since, "since"), _date(until, "until")
    p = period or ("custom" if s or u else "30d")
    if p not in PERIODS:
        raise ValidationFailed(N_("Unknown period %(p)s"), p=p)
    if p == "custom":
        u = u or on
        s = s or u
        if s > u:
            raise ValidationFailed(N_("The start date is after the end date"))
        if (u - s).days >= MAX_DAYS:
            raise ValidationFailed(N_("Choose at most %(n)s days"), n=MAX_DAYS)
    else:
        s, u = period_bounds(p, on)
    township = (township or "").strip() or None
    if township is not None and not (township.isdigit() and len(township) == 9):
        raise ValidationFailed(N_("A township code has 9 digits"))
    cat: int | None = None
    if category not in (None, ""):
        try:
            cat = int(category)
        except (TypeError, ValueError):
            raise ValidationFailed(N_("Unknown category")) from None
    return Scope(p, s, u, township, cat)


@dataclass(frozen=True)
class Narrow:
    """A drill inside the scope: one department, grid, local day or hour, or alarm severity."""

    department_id: int | None = None
    grid_code: str | None = None
    day: date | None = None
    hour: int | None = None  # with ``day``: that hour of that day
    thing_id: int | None = None  # alarms of one device

    def params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.thing_id is not None:
            out["thing"] = str(self.thing_id)
        if self.department_id is not None:
            out["department"] = str(self.department_id)
        if self.grid_code:
            out["grid"] = self.grid_code
        if self.day:
            out["day"] = self.day.isoformat()
        if self.hour is not None:
            out["hour"] = str(self.hour)
        return out

    def window(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """The scope's [start, end) narrowed to the day or hour (empty when outside)."""
        if self.day is None:
            return start, end
        lo = local_midnight(self.day)
        hi = lo + timedelta(days=1)
        if self.hour is not None:
            lo = lo + timedelta(hours=self.hour)
            hi = lo + timedelta(hours=1)
        lo, hi = max(lo, start), min(hi, end)
        return (lo, hi) if lo < hi else (start, start)


def _int(value: Any, message: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(message) from None


def narrow_from(
    *, department: Any = None, grid: str | None = None, day: Any = None, hour: Any = None, thing: Any = None
) -> Narrow:
    dep = _int(department, N_("Unknown department"))
    thing_id = _int(thing, N_("Unknown device"))
    h: int | None = None
    if hour not in (None, ""):
        try:
            h = int(hour)
        except (TypeError, ValueError):
            h = -1
        if not 0 <= h <= 23:
            raise ValidationFailed(N_("An hour is 0 to 23"))
    d = _date(day, "day")
    if h is not None and d is None:
        raise ValidationFailed(N_("An hour needs a day"))
    grid = (grid or "").strip() or None
    if grid is not None and not (grid.isdigit() and len(grid) == 15):
        raise ValidationFailed(N_("A grid code has 15 digits"))
    return Narrow(dep, grid, d, h, thing_id)
