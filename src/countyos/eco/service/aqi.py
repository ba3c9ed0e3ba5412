"""The air quality index of HJ 633-2012, pure: no database, no clock.

The breakpoint table, the two special cases, the levels with their colours and the data-validity
minimums are data (``data/hj633_aqi.json``, with its source). Each pollutant's sub-index is

    IAQI = (IAQI_hi − IAQI_lo) / (BP_hi − BP_lo) × (C − BP_lo) + IAQI_lo

computed exactly (decimal concentrations as fractions) and rounded up to an integer (HJ 633 §5,
进位取整). AQI is the largest sub-index; 首要污染物 (primary) are the pollutants whose sub-index is the
AQI when the AQI is above 50 (all of them on a tie, none at 50 or below); 超标污染物 (exceeding) those
above 100.

Special cases (表1 注): SO2 1-hour above 800 µg/m³ has no 1-hour sub-index, the 24-hour one is
reported; O3 8-hour above 800 µg/m³ has no 8-hour sub-index, the 1-hour one is reported. Above the
last breakpoint a sub-index is 500 and the pollutant is listed in ``capped`` (never extrapolated).

Real-time (hourly) AQI: SO2, NO2, CO and O3 from their 1-hour tables, PM10 and PM2.5 from their
24-hour tables with the hour's concentration. Daily AQI: the 24-hour values, the day's O3 1-hour
maximum (``o3_1h``) and maximum 8-hour moving average (``o3_8h``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA = Path(__file__).resolve().parent.parent / "data" / "hj633_aqi.json"
POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
Averaging = Literal["hour", "day"]

# result key → (pollutant, averaging time of its table)
HOURLY: dict[str, tuple[str, str]] = {
    "so2": ("so2", "1h"),
    "no2": ("no2", "1h"),
    "co": ("co", "1h"),
    "o3": ("o3", "1h"),
    "pm10": ("pm10", "24h"),
    "pm25": ("pm25", "24h"),
}
DAILY: dict[str, tuple[str, str]] = {
    "so2": ("so2", "24h"),
    "no2": ("no2", "24h"),
    "co": ("co", "24h"),
    "pm10": ("pm10", "24h"),
    "pm25": ("pm25", "24h"),
    "o3_1h": ("o3", "1h"),
    "o3_8h": ("o3", "8h"),
}
MAX_CONCENTRATION = 100_000.0  # a bound on input (µg/m³; mg/m³ for CO), far above any table


@cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Level:
    level: int
    max_aqi: int
    name_zh: str  # 一级 … 六级
    category_zh: str  # 优 … 严重污染
    colour: str
    colour_zh: str
    severity: str | None  # an exceedance's alarm severity; None: within the limit


@cache
def levels() -> tuple[Level, ...]:
    return tuple(Level(**row) for row in table()["levels"])


def level_of(aqi: int) -> Level:
    for lv in levels():
        if aqi <= lv.max_aqi:
            return lv
    return levels()[-1]


def validity() -> dict[str, int]:
    out: dict[str, int] = table()["validity"]
    return out


def breakpoints(pollutant: str, averaging: str) -> list[int]:
    try:
        bps: list[int] = table()["breakpoints"][pollutant][averaging]
    except KeyError:
        raise ValueError(f"no HJ 633 table for {pollutant} {averaging}") from None
    return bps


def _exact(concentration: float) -> Fraction:
    if isinstance(concentration, bool) or not math.isfinite(concentration) or concentration < 0:
        raise ValueError("a concentration is a finite number of at least 0")
    return Fraction(repr(float(concentration)))


def beyond_top(pollutant: str, averaging: str, concentration: float) -> bool:
    """Above the last breakpoint of the table (and not a special case): the sub-index is capped at 500."""
    return _exact(concentration) > breakpoints(pollutant, averaging)[-1] and not _not_applicable(
        pollutant, averaging, concentration
    )


def _not_applicable(pollutant: str, averaging: str, concentration: float) -> bool:
    rule = table()["special"].get(pollutant)
    return bool(rule and rule["averaging"] == averaging and _exact(concentration) > rule["above"])


def iaqi(pollutant: str, averaging: str, concentration: float) -> int | None:
    """The sub-index of one concentration on one table (``1h``, ``24h`` or ``8h``), rounded up; None
    where HJ 633 gives none (SO2 1-hour above 800, O3 8-hour above 800: see :func:`hourly_aqi`)."""
    bps = breakpoints(pollutant, averaging)
    c = _exact(concentration)
    if _not_applicable(pollutant, averaging, concentration):
        return None
    steps: list[int] = table()["iaqi"]
    if c > bps[-1]:
        return int(table()["beyond_top"]["iaqi"])
    for i in range(1, len(bps)):
        lo, hi = bps[i - 1], bps[i]
        if c <= hi:
            value = Fraction(steps[i] - steps[i - 1], hi - lo) * (c - lo) + steps[i - 1]
            return math.ceil(value)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class AirIndex:
    """An hourly or daily air quality index with everything HJ 633 reports beside it."""

    averaging: Averaging
    concentrations: dict[str, float]
    iaqi: dict[str, int]
    aqi: int | None
    primary: tuple[str, ...]
    exceeding: tuple[str, ...]
    level: int | None
    level_name: str | None
    category: str | None
    colour: str | None
    capped: tuple[str, ...] = ()
    substituted: dict[str, str] = field(default_factory=dict)  # key → the table reported instead

    @property
    def severity(self) -> str | None:
        return level_of(self.aqi).severity if self.aqi is not None else None


def _combine(
    averaging: Averaging,
    concentrations: dict[str, float],
    sub: dict[str, int],
    capped: list[str],
    substituted: dict[str, str],
    order: tuple[str, ...],
) -> AirIndex:
    if not sub:
        return AirIndex(averaging, concentrations, {}, None, (), (), None, None, None, None, (), substituted)
    aqi = max(sub.values())
    primary = tuple(k for k in order if sub.get(k) == aqi) if aqi > int(table()["primary_above"]) else ()
    exceeding = tuple(k for k in order if k in sub and sub[k] > int(table()["exceeding_above"]))
    lv = level_of(aqi)
    return AirIndex(
        averaging, concentrations, {k: sub[k] for k in order if k in sub}, aqi, primary, exceeding,
        lv.level, lv.name_zh, lv.category_zh, lv.colour, tuple(capped), substituted,
    )  # fmt: skip


def _clean(values: dict[str, float | None], keys: dict[str, tuple[str, str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        if k not in keys:
            raise ValueError(f"unknown pollutant {k}")
        if v is None:
            continue  # missing or invalid: no sub-index, never 0
        _exact(v)
        if v > MAX_CONCENTRATION:
            raise ValueError("a concentration is out of range")
        out[k] = float(v)
    return out


def hourly_aqi(values: dict[str, float | None], *, so2_24h: float | None = None) -> AirIndex:
    """Real-time AQI of one hour from the hour's concentrations (µg/m³, CO mg/m³; None: invalid).

    SO2 above 800 µg/m³ in the hour reports the 24-hour sub-index: of ``so2_24h`` (the trailing 24-hour
    average) when given, else of the hour's value on the 24-hour table."""
    conc = _clean(values, HOURLY)
    sub: dict[str, int] = {}
    capped: list[str] = []
    substituted: dict[str, str] = {}
    for key, c in conc.items():
        pollutant, avg = HOURLY[key]
        value = iaqi(pollutant, avg, c)
        if value is None:  # SO2 1-hour above 800
            use = table()["special"][pollutant]["use"]
            c = so2_24h if so2_24h is not None else c
            value = iaqi(pollutant, use, c)
            substituted[key] = use
            avg = use
        assert value is not None
        if beyond_top(pollutant, avg, c):
            capped.append(key)
        sub[key] = value
    return _combine("hour", conc, sub, capped, substituted, tuple(HOURLY))


def daily_aqi(values: dict[str, float | None]) -> AirIndex:
    """Daily AQI from the 24-hour averages (so2, no2, co, pm10, pm25), the day's O3 1-hour maximum
    (``o3_1h``) and maximum 8-hour moving average (``o3_8h``). O3 8-hour above 800 µg/m³ has no sub-index:
    the O3 1-hour one stands for it (listed in ``substituted``)."""
    conc = _clean(values, DAILY)
    sub: dict[str, int] = {}
    capped: list[str] = []
    substituted: dict[str, str] = {}
    for key, c in conc.items():
        pollutant, avg = DAILY[key]
        value = iaqi(pollutant, avg, c)
        if value is None:  # O3 8-hour above 800: reported by the 1-hour sub-index
            substituted[key] = table()["special"][pollutant]["use"]
            continue
        if beyond_top(pollutant, avg, c):
            capped.append(key)
        sub[key] = value
    if "o3_8h" in substituted and "o3_1h" not in conc:
        substituted["o3_8h"] = "missing"
    return _combine("day", conc, sub, capped, substituted, tuple(DAILY))


def compute(averaging: Averaging, values: dict[str, float | None]) -> AirIndex:
    return hourly_aqi(values) if averaging == "hour" else daily_aqi(values)
