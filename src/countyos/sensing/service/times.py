"""Time in the volume tables is an integer: microseconds since 1970-01-01 UTC.

Devices send ISO 8601 text (SensorThings) or epoch numbers (seconds or milliseconds); both become µs
here, and µs become ISO 8601 text with a ``Z`` on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from countyos.core.clock import utcnow

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 86400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)

# Observations before this instant are refused as absurd (no county sensor network is older).
EARLIEST_US = 946_684_800 * US  # 2000-01-01T00:00:00Z
# How far ahead of the server's clock a device's clock may run.
FUTURE_SKEW_US = 5 * MINUTE_US


def to_us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def now_us() -> int:
    return to_us(utcnow())


def parse_iso(text: str) -> int:
    """ISO 8601 with a zone (``Z`` or an offset) → µs. A time without a zone is refused."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        raise ValueError("time without a time zone; add Z or an offset such as +08:00")
    return (dt - EPOCH) // _ONE_US


def epoch_to_us(value: float) -> int:
    """Epoch seconds or milliseconds (numbers above 10^11 are milliseconds) → µs."""
    if value > 100_000_000_000:
        return round(value * 1000)
    return round(value * US)


def any_to_us(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a time must be ISO 8601 text or an epoch number")
    if isinstance(value, int | float):
        return epoch_to_us(value)
    if isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, datetime):
        return to_us(value)
    raise ValueError("a time must be ISO 8601 text or an epoch number")


def iso(us: int | None) -> str | None:
    """µs → ``2026-05-01T08:00:00Z`` (milliseconds shown only when present)."""
    if us is None:
        return None
    dt = _NAIVE_EPOCH + timedelta(microseconds=us)
    if us % US == 0:
        return dt.isoformat(timespec="seconds") + "Z"
    if us % 1000 == 0:
        return dt.isoformat(timespec="milliseconds") + "Z"
    return dt.isoformat(timespec="microseconds") + "Z"


_MANY = 8


def iso_many(values: list[int]) -> list[str]:
    """:func:`iso` of many instants at once: numpy formats the column (~5x faster than one by one),
    then each text is cut to the precision :func:`iso` shows (seconds, milliseconds or µs)."""
    if len(values) < _MANY:
        return [iso(v) or "" for v in values]  # numpy's fixed cost is more than a few one by one
    us = np.asarray(values, dtype=np.int64)
    if not (us % US).any():  # whole seconds, as most sensors report: no cut to find
        return [t + "Z" for t in np.datetime_as_string(us.astype("datetime64[us]"), unit="s").tolist()]
    texts = np.datetime_as_string(us.astype("datetime64[us]"), unit="us").tolist()
    cuts = np.where(us % US == 0, 19, np.where(us % 1000 == 0, 23, 26)).tolist()
    return [t[:c] + "Z" for t, c in zip(texts, cuts, strict=True)]


def interval(start: int | None, end: int | None) -> str | None:
    if start is None:
        return None
    if end is None or end == start:
        return iso(start)
    return f"{iso(start)}/{iso(end)}"


def parse_interval(text: str) -> tuple[int, int | None]:
    """``t`` or ``t1/t2`` (SensorThings time instant or interval) → (start, end or None)."""
    if "/" in text:
        a, b = text.split("/", 1)
        return parse_iso(a), parse_iso(b)
    return parse_iso(text), None
