"""The UTC clock. Storage is always timezone-aware UTC; local time exists only at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC (SQLite returns naive values) and convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime, tz: str = "Asia/Shanghai") -> datetime:
    return as_utc(value).astimezone(ZoneInfo(tz))


def county_zone() -> ZoneInfo:
    """The county's time zone (``settings.timezone``): local days, deadlines and what people read."""
    from countyos.core.settings import get_settings

    return ZoneInfo(get_settings().timezone)


def county_today() -> date:
    """Today in the county (its local day, not UTC's)."""
    return utcnow().astimezone(county_zone()).date()


def county_day(at: datetime) -> date:
    """The county's local day of an instant."""
    return as_utc(at).astimezone(county_zone()).date()


def county_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of the county's local DAY (a day is not 24 hours where clocks change)."""
    zone = county_zone()
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
