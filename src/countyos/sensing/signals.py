"""Realistic telemetry of the demonstration county's devices, as data plus numpy formulas.

One function per kind of device gives values at any times (vectorised), so the demo's weeks of
history and ``countyos simulate``'s live feed have the same shapes: river levels that rise with rain
and in the flood season (May–September), rain in showers, AQI with a morning and an evening peak,
manhole covers that lie flat, street lights on at night, soil that dries between rains, visitors by
day and more at weekends. Anomalies (a flood wave, a tilted cover) are added on a schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from countyos.sensing.service.devices import DeviceSpec, MetricSpec

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
LOCAL = 8 * HOUR  # Asia/Shanghai

M = MetricSpec
KINDS: dict[str, tuple[str, tuple[MetricSpec, ...], int]] = {
    # device class: (name prefix, metrics, expected interval in seconds)
    "river_gauge": (
        "水位站",
        (
            M("water_level", "河道水位", "metre", "m", valid_min=-2, valid_max=30, retention="critical"),
            M("battery", "电量", "percent", "%", valid_min=0, valid_max=100),
        ),
        600,
    ),
    "rain_gauge": (
        "雨量站",
        (M("rain", "10分钟降雨量", "millimetre", "mm", valid_min=0, valid_max=200, retention="critical"),),
        600,
    ),
    "air_station": (
        "空气站",
        (
            M("pm25", "PM2.5", "microgram per cubic metre", "µg/m³", valid_min=0, valid_max=1000),
            M("aqi", "空气质量指数", "index", "AQI", valid_min=0, valid_max=500),
        ),
        600,
    ),
    "manhole": (
        "井盖",
        (
            M("tilt", "井盖倾角", "degree", "°", valid_min=0, valid_max=90, retention="high_rate"),
            M("battery", "电量", "percent", "%", valid_min=0, valid_max=100),
        ),
        600,
    ),
    "street_light": (
        "路灯",
        (M("power", "功率", "watt", "W", valid_min=0, valid_max=1000, retention="high_rate"),),
        600,
    ),
    "soil": ("墒情站", (M("moisture", "土壤含水量", "percent", "%", valid_min=0, valid_max=100),), 600),
    "visitor_counter": (
        "客流计数",
        (M("visitors", "10分钟客流", "persons", "人", valid_min=0, valid_max=100000),),
        600,
    ),
}

PLACES = ["妙高", "云峰", "北界", "大柘", "石练", "王村口", "金竹", "湖山", "新路湾", "三仁", "濂竹", "高坪"]
COUNTS = {
    "river_gauge": 6,
    "rain_gauge": 4,
    "air_station": 3,
    "manhole": 6,
    "street_light": 4,
    "soil": 4,
    "visitor_counter": 3,
}


@dataclass(frozen=True)
class Anomaly:
    """A scheduled anomaly: every ``every_s`` seconds, lasting ``length_s``."""

    device_key: str
    metric: str
    every_s: int
    length_s: int
    peak: float


ANOMALIES = [
    Anomaly("river_gauge-01", "water_level", 3600, 1500, 3.6),  # a flood wave above the 3.0 m warning line
    Anomaly("manhole-02", "tilt", 2700, 600, 28.0),  # a cover knocked askew
]


def specs(points: list[tuple[float, float]]) -> list[DeviceSpec]:
    out: list[DeviceSpec] = []
    i = 0
    for cls, n in COUNTS.items():
        prefix, metrics, interval = KINDS[cls]
        for k in range(n):
            lon, lat = points[i % len(points)]
            i += 1
            out.append(
                DeviceSpec(
                    device_key=f"{cls}-{k + 1:02d}",
                    name=f"{PLACES[(i + k) % len(PLACES)]}{prefix}{k + 1:02d}",
                    device_class=cls,
                    lon=round(lon, 6),
                    lat=round(lat, 6),
                    metrics=metrics,
                    expected_interval_s=interval,
                    sensor_name=cls,
                )
            )
    return out


def _hour_of_day(t: NDArray[np.int64]) -> NDArray[np.float64]:
    return ((t + LOCAL) % DAY) / HOUR


def _noise(rng: np.random.Generator, n: int, scale: float) -> NDArray[np.float64]:
    return rng.normal(0.0, scale, n)


def rain(t: NDArray[np.int64], seed: int) -> Any:
    """Showers: a few hours of rain now and then (deterministic per seed)."""
    hours = t // HOUR
    r = np.random.default_rng(seed)
    wet = np.zeros(len(t))
    for h0 in np.unique(hours // 36):
        rr = np.random.default_rng(seed * 100003 + int(h0))
        if rr.random() < 0.45:
            start = int(h0) * 36 + int(rr.integers(0, 30))
            length = int(rr.integers(2, 9))
            strength = float(rr.uniform(0.5, 6.0))
            mask = (hours >= start) & (hours < start + length)
            wet[mask] = strength * (0.6 + 0.4 * np.sin((hours[mask] - start) / length * np.pi))
    return np.clip(wet + r.normal(0, 0.05, len(t)) * (wet > 0), 0, None)


def values(cls: str, metric: str, t: NDArray[np.int64], seed: int) -> Any:
    rng = np.random.default_rng(seed)
    n = len(t)
    hod = _hour_of_day(t)
    month = ((t // DAY) % 365) / 30.4
    flood_season = 0.6 * np.clip(np.sin((month - 3.5) / 12 * 2 * np.pi), 0, None)
    if metric == "battery":
        return np.clip(100 - ((t - t.min()) / DAY) * 0.15 - (seed % 20), 5, 100) + _noise(rng, n, 0.1)
    if cls == "river_gauge":
        wet = rain(t, seed // 7)
        response = np.convolve(wet, np.ones(36) / 12, mode="full")[:n]  # level follows rain with a lag
        return 1.1 + (seed % 5) * 0.1 + flood_season + 0.25 * response + _noise(rng, n, 0.01)
    if cls == "rain_gauge":
        return np.round(rain(t, seed // 7 + (seed % 2)), 1)
    if metric == "pm25":
        daily = 18 * np.exp(-((hod - 8) ** 2) / 4) + 22 * np.exp(-((hod - 19) ** 2) / 6)
        return np.clip(28 + (seed % 7) * 3 + daily + _noise(rng, n, 4), 3, None)
    if metric == "aqi":
        pm = values(cls, "pm25", t, seed)
        return np.round(np.clip(pm * 1.35, 5, 500))
    if cls == "manhole":
        return np.abs(0.4 + _noise(rng, n, 0.15))
    if cls == "street_light":
        night = (hod >= 18) | (hod < 6)
        return np.where(night, 150 + (seed % 3) * 20 + _noise(rng, n, 2), 0.0).clip(0)
    if cls == "soil":
        wet = np.cumsum(rain(t, seed // 7)) * 0.4
        dry = (t - t.min()) / DAY * 1.2
        return np.clip(38 + (wet - dry) % 30 + _noise(rng, n, 0.3), 5, 95)
    if cls == "visitor_counter":
        weekday = ((t + LOCAL) // DAY + 4) % 7  # 1970-01-01 was a Thursday
        weekend = np.where(weekday >= 5, 1.8, 1.0)
        daytime = np.clip(np.sin((hod - 7) / 11 * np.pi), 0, None)
        return np.round(np.clip(daytime * 120 * weekend * (1 + (seed % 3) * 0.3) + _noise(rng, n, 5), 0, None))
    return _noise(rng, n, 1.0)


def with_anomalies(device_key: str, metric: str, t: NDArray[np.int64], v: Any) -> Any:
    """Lay the scheduled anomalies over normal values (for the live simulator)."""
    for a in ANOMALIES:
        if a.device_key != device_key or a.metric != metric:
            continue
        phase = (t // US) % a.every_s
        inside = phase < a.length_s
        shape = np.sin(np.clip(phase / a.length_s, 0, 1) * np.pi)
        v = np.where(inside, np.maximum(v, a.peak * np.clip(shape * 1.6, 0, 1)), v)
    return v
