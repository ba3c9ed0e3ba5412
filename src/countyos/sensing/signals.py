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
            M("pm10", "PM10", "microgram per cubic metre", "µg/m³", valid_min=0, valid_max=2000),
            M("so2", "二氧化硫", "microgram per cubic metre", "µg/m³", valid_min=0, valid_max=5000),
            M("no2", "二氧化氮", "microgram per cubic metre", "µg/m³", valid_min=0, valid_max=5000),
            M("co", "一氧化碳", "milligram per cubic metre", "mg/m³", valid_min=0, valid_max=200),
            M("o3", "臭氧", "microgram per cubic metre", "µg/m³", valid_min=0, valid_max=2000),
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
    "water_quality": (
        "水质自动站",
        (
            M("do", "溶解氧", "milligram per litre", "mg/L", valid_min=0, valid_max=25),
            M("codmn", "高锰酸盐指数", "milligram per litre", "mg/L", valid_min=0, valid_max=100),
            M("nh3n", "氨氮", "milligram per litre", "mg/L", valid_min=0, valid_max=50),
            M("tp", "总磷", "milligram per litre", "mg/L", valid_min=0, valid_max=10),
            M("ph", "pH", "pH", "pH", valid_min=0, valid_max=14),
        ),
        600,
    ),
    "gate_counter": (
        "景区闸机",
        (
            M("entries", "入园人数", "persons", "人", valid_min=0, valid_max=20000),
            M("exits", "出园人数", "persons", "人", valid_min=0, valid_max=20000),
        ),
        600,
    ),
    "greenhouse": (
        "大棚环境站",
        (
            M("air_temperature", "棚内气温", "degree Celsius", "°C", valid_min=-30, valid_max=60),
            M("air_humidity", "棚内湿度", "percent", "%", valid_min=0, valid_max=100),
        ),
        600,
    ),
    "cold_chain": (
        "冷链车厢温度",
        (M("temperature", "厢体温度", "degree Celsius", "°C", valid_min=-40, valid_max=40),),
        600,
    ),
    "parking": (
        "停车场车位检测",
        (M("occupied", "已占用车位", "parking spaces", "个", valid_min=0, valid_max=5000),),
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
    "water_quality": 3,
    "gate_counter": 3,  # one at each demo scenic spot's entrance (village)
    "greenhouse": 3,  # in producers' greenhouses (village)
    "cold_chain": 2,  # in delivery vans (village)
    "parking": 3,  # one at each demo parking lot's gate, at most PARKING_SPACES occupied (safety: traffic)
}
PARKING_SPACES = 200


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
        return np.clip(28 + (seed % 7) * 3 + daily + 70 * _haze(t, seed, metric) + _noise(rng, n, 4), 3, None)
    if metric == "aqi":
        pm = values(cls, "pm25", t, seed)
        return np.round(np.clip(pm * 1.35, 5, 500))
    if cls == "air_station":
        return _air(metric, t, hod, seed, rng)
    if cls == "water_quality":
        return _water(metric, t, hod, seed, rng)
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
    if cls == "gate_counter":
        return _gate(metric, t, hod, seed, rng)
    if cls == "greenhouse":
        if metric == "air_humidity":
            return np.clip(78 - 18 * np.sin((hod - 8) / 24 * 2 * np.pi) + _noise(rng, n, 2), 30, 100)
        winter = 7 * np.cos(month / 12 * 2 * np.pi)  # colder around the turn of the year
        return 15 + 9 * np.sin((hod - 9) / 24 * 2 * np.pi) - winter + (seed % 3) + _noise(rng, n, 0.4)
    if cls == "parking":
        return _parking(t, hod, seed, rng)
    if cls == "cold_chain":
        door = _episode(t, seed, 5, 2)  # a door left open now and then: the van warms up
        return np.round(3.5 + 7 * door + _noise(rng, n, 0.3), 1)
    return _noise(rng, n, 1.0)


def _parking(t: NDArray[np.int64], hod: NDArray[np.float64], seed: int, rng: np.random.Generator) -> Any:
    """Cars in a lot of PARKING_SPACES: few at night, full or nearly at the working-day and market peaks
    (10:00 and 15:00), busier at weekends in the lots near the scenic spots (odd seeds)."""
    weekday = ((t + LOCAL) // DAY + 4) % 7  # 1970-01-01 was a Thursday
    weekend = np.where(weekday >= 5, 1.15 if seed % 2 else 0.8, 1.0)
    peaks = np.exp(-(((hod - 10) / 2.2) ** 2)) + 0.85 * np.exp(-(((hod - 15) / 2.5) ** 2))
    share = np.clip((0.12 + 0.8 * peaks) * weekend + _noise(rng, len(t), 0.03), 0, 1)
    return np.round(share * PARKING_SPACES)


def _gate(metric: str, t: NDArray[np.int64], hod: NDArray[np.float64], seed: int, rng: np.random.Generator) -> Any:
    """Visitors through a scenic spot's gates per 10 minutes: in between 7:30 and 15:30, out three hours
    later, more at weekends and on the October holidays, so that the day's entries and exits nearly match."""
    n = len(t)
    device = _device(seed, metric)
    weekday = ((t + LOCAL) // DAY + 4) % 7  # 1970-01-01 was a Thursday
    day_of_year = ((t + LOCAL) // DAY) % 365
    holiday = np.where((day_of_year >= 273) & (day_of_year < 280), 3.0, 1.0)  # about 1-7 October
    scale = 45 * np.where(weekday >= 5, 1.8, 1.0) * holiday * (1 + (device % 3) * 0.5)
    shift = 7.5 if metric == "entries" else 10.5
    shape = np.clip(np.sin((hod - shift) / 8 * np.pi), 0, None) * ((hod >= shift) & (hod < shift + 8))
    return np.round(np.clip(shape * scale + _noise(rng, n, 2) * (shape > 0), 0, None))


def _episode(t: NDArray[np.int64], seed: int, every_days: int, hours: int) -> NDArray[np.float64]:
    """0..1: a smooth episode of ``hours`` once every ``every_days`` days, its start set by the seed."""
    period = every_days * DAY
    phase = (t + (seed % every_days) * DAY + 5 * HOUR) % period
    inside = phase < hours * HOUR
    return np.where(inside, np.sin(np.clip(phase / (hours * HOUR), 0, 1) * np.pi), 0.0)


def _device(seed: int, metric: str) -> int:
    """The device's own number, the same for each of its metrics (a metric's seed is that plus its length)."""
    return (seed - len(metric)) // 31


def _haze(t: NDArray[np.int64], seed: int, metric: str) -> NDArray[np.float64]:
    """A day and a half of haze every nine days; strong at one station in three, faint at the others."""
    device = _device(seed, metric)
    return _episode(t, device, 9, 36) * (2.2 if device % 3 == 0 else 0.5)


def _air(metric: str, t: NDArray[np.int64], hod: NDArray[np.float64], seed: int, rng: np.random.Generator) -> Any:
    """Gases and PM10 of an air station: traffic peaks for NO2 and CO, afternoon ozone, PM10 beside PM2.5;
    the haze of :func:`_haze` raises every pollutant but ozone."""
    n = len(t)
    haze = _haze(t, seed, metric)
    traffic = np.exp(-((hod - 8) ** 2) / 3) + np.exp(-((hod - 18.5) ** 2) / 4)
    if metric == "pm10":
        pm = values("air_station", "pm25", t, _device(seed, metric) * 31 + len("pm25"))
        return np.clip(pm * (1.55 + haze * 0.4) + _noise(rng, n, 5), 5, None)
    if metric == "so2":
        return np.clip(7 + (seed % 4) + 3 * traffic + 12 * haze + _noise(rng, n, 1.2), 2, None)
    if metric == "no2":
        return np.clip(16 + (seed % 5) * 2 + 22 * traffic + 30 * haze + _noise(rng, n, 3), 3, None)
    if metric == "co":
        return np.round(np.clip(0.5 + 0.3 * traffic + 0.8 * haze + _noise(rng, n, 0.05), 0.1, None), 2)
    if metric == "o3":
        sun = np.clip(np.sin((hod - 8) / 10 * np.pi), 0, None)
        return np.clip(
            35 + 110 * sun + 70 * _episode(t, _device(seed, metric) + 3, 11, 10) * sun + _noise(rng, n, 6), 2, None
        )
    return _noise(rng, n, 1.0)


def _water(metric: str, t: NDArray[np.int64], hod: NDArray[np.float64], seed: int, rng: np.random.Generator) -> Any:
    """An automatic water-quality station on a hill river (mostly class II); station 02 takes farm run-off
    for two days every twelve at one station in three (TP and ammonia up, oxygen down: class IV to V)."""
    n = len(t)
    device = _device(seed, metric)
    runoff = _episode(t, device, 12, 48) * (1.0 if device % 3 == 2 else 0.25)
    if metric == "do":
        return np.clip(8.2 + 0.9 * np.sin((hod - 9) / 24 * 2 * np.pi) - 4.2 * runoff + _noise(rng, n, 0.15), 0.5, None)
    if metric == "codmn":
        return np.clip(2.4 + 0.2 * (seed % 4) + 5.5 * runoff + _noise(rng, n, 0.15), 0.3, None)
    if metric == "nh3n":
        return np.clip(0.22 + 0.04 * (seed % 3) + 1.2 * runoff + _noise(rng, n, 0.02), 0.01, None)
    if metric == "tp":
        return np.round(np.clip(0.05 + 0.01 * (seed % 3) + 0.31 * runoff + _noise(rng, n, 0.005), 0.005, None), 3)
    if metric == "ph":
        return np.round(np.clip(7.3 + 0.2 * np.sin(hod / 24 * 2 * np.pi) + _noise(rng, n, 0.05), 6.0, 9.5), 2)
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
