"""The Chinese working-time calendar: every deadline in CountyOS is computed here.

A day is a working day unless it is a weekend or a statutory holiday (法定节假日), and an adjusted
working day (调休上班, e.g. a Saturday before 春节) is a working day although it falls on a weekend.
The source is the ``chinese-calendar`` package; each year can be overridden or added by a small TOML
file (``workcal_data/<year>.toml`` in the package, plus any folder named by the ``calendar_dir``
setting) so that a county can ship next year's State Council notice without a code change::

    # 2027.toml
    provisional = false              # true: statutory days only, 调休 not yet announced
    mode = "replace"                 # or "amend": keep the library's days, change only those listed
    holidays = ["2027-01-01", ...]   # days off
    workdays = ["2027-02-14", ...]   # adjusted working days (调休上班)

Working time runs only inside the office hours of working days (default 08:30–12:00 and 13:30–17:30,
setting ``office_hours``). N working days are N × the length of one office day in working time, so
"start + 1 working day" is the same time of day on the next working day, and elapsed-time ratios
(the 80 % yellow warning) mean the same thing for hour and day limits.

All instants in and out are timezone-aware; calculations happen in the county's local time zone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

from countyos.core.clock import as_utc

PACKAGE_DATA = Path(__file__).resolve().parent / "workcal_data"
DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
MAX_SCAN_DAYS = 3700  # ten years: a calendar without working days fails instead of looping forever


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # 法定节假日
    ADJUSTED_WORKDAY = "adjusted_workday"  # 调休上班


class TimeUnit(StrEnum):
    """How a time limit is counted."""

    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日
    HOURS = "hours"  # natural hours, round the clock (emergencies)


@dataclass(frozen=True)
class YearOverride:
    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    provisional: bool
    source: str
    amend: bool = False


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"08:30-12:00,13:30-17:30"`` → ((08:30, 12:00), (13:30, 17:30)); periods ascending, disjoint."""
    periods: list[tuple[time, time]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError as exc:
            raise ValueError(f"office hours period {part!r} is not HH:MM-HH:MM") from exc
        periods.append((a, b))
    _check_periods(periods)
    return tuple(periods)


def _check_periods(periods: Sequence[tuple[time, time]]) -> None:
    if not periods:
        raise ValueError("office hours need at least one period")
    last_end: time | None = None
    for a, b in periods:
        if not a < b:
            raise ValueError(f"office hours period {a}-{b} ends before it starts")
        if last_end is not None and a < last_end:
            raise ValueError("office hours periods must be in order and must not overlap")
        last_end = b


def load_year_file(path: Path) -> YearOverride:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    year = int(data.get("year", path.stem))

    def dates(key: str) -> frozenset[date]:
        out = set()
        for v in data.get(key, []):
            d = v if isinstance(v, date) else date.fromisoformat(str(v))
            if d.year != year:
                raise ValueError(f"{path.name}: {key} entry {d} is not in {year}")
            out.add(d)
        return frozenset(out)

    holidays, workdays = dates("holidays"), dates("workdays")
    both = holidays & workdays
    if both:
        raise ValueError(f"{path.name}: {min(both)} is listed both as holiday and as working day")
    mode = str(data.get("mode", "replace"))
    if mode not in ("replace", "amend"):
        raise ValueError(f"{path.name}: mode must be replace or amend, not {mode!r}")
    return YearOverride(year, holidays, workdays, bool(data.get("provisional", False)), str(path), mode == "amend")


def load_overrides(dirs: Iterable[Path]) -> dict[int, YearOverride]:
    """Year files from each folder in turn; a later folder replaces an earlier one's year."""
    out: dict[int, YearOverride] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.toml")):
            ov = load_year_file(path)
            out[ov.year] = ov
    return out


class WorkCalendar:
    def __init__(
        self,
        *,
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: str = "Asia/Shanghai",
        data_dirs: Sequence[Path] = (PACKAGE_DATA,),
        overrides: dict[int, YearOverride] | None = None,
    ) -> None:
        _check_periods(office_hours)
        self.office_hours = tuple(office_hours)
        self.tz = ZoneInfo(tz)
        self.overrides = load_overrides(data_dirs) if overrides is None else overrides
        self.day_length = sum(
            (datetime.combine(date.min, b) - datetime.combine(date.min, a) for a, b in self.office_hours), timedelta()
        )
        self._kinds: dict[date, DayKind] = {}

    # -- days ---------------------------------------------------------------------------------------

    def day_kind(self, d: date) -> DayKind:
        kind = self._kinds.get(d)
        if kind is None:
            kind = self._kinds[d] = self._compute_kind(d)
        return kind

    def _compute_kind(self, d: date) -> DayKind:
        weekend = d.weekday() >= 5
        ov = self.overrides.get(d.year)
        if ov is not None:
            if d in ov.holidays:
                return DayKind.HOLIDAY
            if d in ov.workdays:
                return DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY
            if not ov.amend or not self._library_knows(d):
                return DayKind.WEEKEND if weekend else DayKind.WORKDAY
        if self._library_knows(d):
            if chinese_calendar.is_workday(d):
                return DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY
            return DayKind.WEEKEND if weekend and d not in chinese_calendar.holidays else DayKind.HOLIDAY
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY

    @staticmethod
    def _library_knows(d: date) -> bool:
        try:
            chinese_calendar.is_workday(d)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, d: date) -> bool:
        return self.day_kind(d) in (DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY)

    def is_covered(self, year: int) -> bool:
        """True when the year's holidays are known (library or a non-provisional data file)."""
        ov = self.overrides.get(year)
        if ov is not None and not ov.provisional:
            return True
        return self._library_knows(date(year, 6, 1))

    # -- instants -----------------------------------------------------------------------------------

    def _local(self, t: datetime) -> datetime:
        if t.tzinfo is None:
            raise ValueError("naive datetime given; pass a timezone-aware instant")
        return t.astimezone(self.tz)

    def _periods(self, d: date) -> Iterator[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return
        for a, b in self.office_hours:
            yield datetime.combine(d, a, tzinfo=self.tz), datetime.combine(d, b, tzinfo=self.tz)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed after ``start`` (UTC)."""
        if amount < timedelta(0):
            raise ValueError("working time to add must not be negative")
        t = self._local(start)
        remaining = amount
        if remaining == timedelta(0):
            return as_utc(start)
        d = t.date()
        for _ in range(MAX_SCAN_DAYS):
            for p_start, p_end in self._periods(d):
                s = max(p_start, t)
                if s >= p_end:
                    continue
                available = p_end - s
                if remaining <= available:
                    return as_utc(s + remaining)
                remaining -= available
            d += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next ten years")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_working_time(start, timedelta(hours=hours))

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.add_working_time(start, self.day_length * days)

    def add(self, start: datetime, amount: float, unit: TimeUnit | str) -> datetime:
        """``start`` + a time limit in the given unit."""
        unit = TimeUnit(unit)
        if unit is TimeUnit.HOURS:
            if amount < 0:
                raise ValueError("time to add must not be negative")
            return as_utc(start) + timedelta(hours=amount)
        if unit is TimeUnit.WORKING_DAYS:
            return self.add_working_days(start, amount)
        return self.add_working_hours(start, amount)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        if end < start:
            return -self.working_time_between(end, start)
        a, b = self._local(start), self._local(end)
        total = timedelta(0)
        d = a.date()
        while d <= b.date():
            for p_start, p_end in self._periods(d):
                lo, hi = max(p_start, a), min(p_end, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def elapsed(self, start: datetime, end: datetime, unit: TimeUnit | str) -> timedelta:
        """Time between two instants counted the way a limit in ``unit`` is counted."""
        if TimeUnit(unit) is TimeUnit.HOURS:
            return as_utc(end) - as_utc(start)
        return self.working_time_between(start, end)

    def next_working_instant(self, t: datetime) -> datetime:
        """``t`` itself inside office hours, else the start of the next office period."""
        local = self._local(t)
        d = local.date()
        for _ in range(MAX_SCAN_DAYS):
            for p_start, p_end in self._periods(d):
                if local < p_end:
                    return as_utc(max(p_start, local))
            d += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next ten years")


@lru_cache(maxsize=4)
def _calendar_for(office_hours: str, tz: str, extra_dir: str | None) -> WorkCalendar:
    dirs = [PACKAGE_DATA] + ([Path(extra_dir)] if extra_dir else [])
    return WorkCalendar(office_hours=parse_office_hours(office_hours), tz=tz, data_dirs=dirs)


def calendar() -> WorkCalendar:
    """The county's calendar from settings (office hours, time zone, extra data folder)."""
    from countyos.core.settings import get_settings

    s = get_settings()
    return _calendar_for(s.office_hours, s.timezone, str(s.calendar_dir) if s.calendar_dir else None)


def add_working_hours(start: datetime, hours: float) -> datetime:
    return calendar().add_working_hours(start, hours)


def add_working_days(start: datetime, days: float) -> datetime:
    return calendar().add_working_days(start, days)


def working_time_between(start: datetime, end: datetime) -> timedelta:
    return calendar().working_time_between(start, end)
