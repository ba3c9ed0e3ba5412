"""The UTC clock. Storage is always timezone-aware UTC; local time exists only at the edges."""

from __future__ import annotations

from datetime import UTC, datetime
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
