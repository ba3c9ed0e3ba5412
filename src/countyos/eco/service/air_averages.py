"""Averages and their validity (GB 3095-2012 表4, HJ 663-2013 §4), pure: the minimums are data
(``data/hj633_aqi.json`` → ``validity``). An invalid value is None, never 0.

- an hourly value needs at least 45 minutes of data: a sensing hourly rollup's count of observations
  times the device's reporting interval (``expected_interval_s``; 60 s when the device has none),
- a 24-hour average (and the day's O3 1-hour maximum) needs at least 20 valid hours,
- an O3 8-hour moving average needs at least 6 valid hours of its 8 (the hour itself and the 7 before),
- the day's maximum 8-hour average needs at least 14 valid 8-hour averages of the day's 17 windows
  (00–07 … 16–23 local time).
"""

from __future__ import annotations

from collections.abc import Sequence

from countyos.eco.service.aqi import validity


def minutes_of(count: int, interval_s: int | None) -> float:
    """Minutes of the hour covered by COUNT observations reported every INTERVAL_S seconds (at most 60)."""
    step = interval_s or validity()["default_interval_s"]
    return float(min(60.0, count * step / 60.0))


def hour_value(count: int, total: float | None, interval_s: int | None) -> float | None:
    """The hour's average, or None when fewer than 45 minutes of data were reported."""
    if count <= 0 or total is None or minutes_of(count, interval_s) < validity()["hour_minutes"]:
        return None
    return total / count


def _valid(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def day_mean(hours: Sequence[float | None]) -> float | None:
    """24-hour average of the day's hourly values, or None with fewer than 20 valid hours."""
    ok = _valid(hours)
    return sum(ok) / len(ok) if len(ok) >= validity()["day_hours"] else None


def day_max(hours: Sequence[float | None]) -> float | None:
    """The day's largest hourly value (O3 1-hour maximum), or None with fewer than 20 valid hours."""
    ok = _valid(hours)
    return max(ok) if len(ok) >= validity()["day_hours"] else None


def moving_8h(window: Sequence[float | None]) -> float | None:
    """The O3 8-hour moving average of a window of 8 hourly values, or None with fewer than 6 valid."""
    if len(window) != 8:
        raise ValueError("an 8-hour window has 8 values")
    ok = _valid(window)
    return sum(ok) / len(ok) if len(ok) >= validity()["o3_8h_hours"] else None


def day_o3_8h(windows: Sequence[float | None]) -> float | None:
    """The day's maximum 8-hour average, or None with fewer than 14 valid 8-hour averages."""
    ok = _valid(windows)
    return max(ok) if len(ok) >= validity()["o3_8h_day_windows"] else None


def windows_of_day(hours: Sequence[float | None]) -> list[float | None]:
    """The 17 O3 8-hour averages of one local day from its 24 hourly values (windows 00–07 … 16–23)."""
    if len(hours) != 24:
        raise ValueError("a day has 24 hourly values")
    return [moving_8h(hours[i : i + 8]) for i in range(17)]
