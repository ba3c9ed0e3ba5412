"""HJ 633-2012 sub-indices and AQI: every breakpoint and between them for each pollutant and averaging
time, the two special cases, rounding up, the cap above the table, primary pollutants and ties."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from countyos.eco.service import aqi

pytestmark = pytest.mark.backend_neutral

STEPS = [0, 50, 100, 150, 200, 300, 400, 500]
# HJ 633-2012 表1, transcribed here independently of the data file
TABLE = {
    ("so2", "24h"): [0, 50, 150, 475, 800, 1600, 2100, 2620],
    ("so2", "1h"): [0, 150, 500, 650, 800],
    ("no2", "24h"): [0, 40, 80, 180, 280, 565, 750, 940],
    ("no2", "1h"): [0, 100, 200, 700, 1200, 2340, 3090, 3840],
    ("pm10", "24h"): [0, 50, 150, 250, 350, 420, 500, 600],
    ("co", "24h"): [0, 2, 4, 14, 24, 36, 48, 60],
    ("co", "1h"): [0, 5, 10, 35, 60, 90, 120, 150],
    ("o3", "1h"): [0, 160, 200, 300, 400, 800, 1000, 1200],
    ("o3", "8h"): [0, 100, 160, 215, 265, 800],
    ("pm25", "24h"): [0, 35, 75, 115, 150, 250, 350, 500],
}
AT_BREAKPOINTS = [(p, a, bp, STEPS[i]) for (p, a), bps in TABLE.items() for i, bp in enumerate(bps)]


def _between(p: str, a: str) -> list[tuple[str, str, float, int]]:
    """A point a third of the way into each segment, with its index by the standard's formula."""
    bps = TABLE[(p, a)]
    out = []
    for i in range(1, len(bps)):
        c = Fraction(bps[i - 1]) + Fraction(bps[i] - bps[i - 1], 3)
        c = Fraction(round(c * 10), 10)  # one decimal, as concentrations are given
        expected = math.ceil(Fraction(STEPS[i] - STEPS[i - 1], bps[i] - bps[i - 1]) * (c - bps[i - 1]) + STEPS[i - 1])
        out.append((p, a, float(c), expected))
    return out


BETWEEN = [case for key in TABLE for case in _between(*key)]


def test_the_data_file_holds_the_standards_table():
    for (p, a), bps in TABLE.items():
        assert aqi.breakpoints(p, a) == bps
    assert aqi.table()["iaqi"] == STEPS


@pytest.mark.parametrize(("pollutant", "averaging", "c", "expected"), AT_BREAKPOINTS)
def test_iaqi_at_every_breakpoint(pollutant, averaging, c, expected):
    assert aqi.iaqi(pollutant, averaging, c) == expected


@pytest.mark.parametrize(("pollutant", "averaging", "c", "expected"), BETWEEN)
def test_iaqi_between_breakpoints(pollutant, averaging, c, expected):
    got = aqi.iaqi(pollutant, averaging, c)
    assert got == expected
    assert 0 < got <= 500


@pytest.mark.parametrize(
    ("pollutant", "averaging", "c", "expected"),
    [
        ("pm25", "24h", 80, 107),  # 100 + 50/40 × 5 = 106.25 → 107
        ("pm25", "24h", 35.1, 51),  # just past a breakpoint: 50.125 → 51
        ("pm25", "24h", 0.1, 1),  # 0.14 → 1
        ("pm10", "24h", 51, 51),  # 50 + 50/100 × 1 = 50.5 → 51
        ("co", "1h", 5.1, 51),  # 50 + 50/5 × 0.1 = 51 exactly: stays 51
        ("no2", "1h", 150, 75),  # exact: 75
        ("o3", "8h", 130, 75),  # 50 + 50/60 × 30 = 75
        ("so2", "24h", 100, 75),
    ],
)
def test_hand_computed_examples_are_rounded_up(pollutant, averaging, c, expected):
    assert aqi.iaqi(pollutant, averaging, c) == expected


def test_so2_one_hour_above_800_uses_the_24_hour_index():
    assert aqi.iaqi("so2", "1h", 800) == 200
    assert aqi.iaqi("so2", "1h", 800.1) is None
    r = aqi.hourly_aqi({"so2": 900}, so2_24h=500)
    # 24-hour table: 150 + 50/325 × 25 = 153.8 → 154
    assert r.iaqi["so2"] == 154 and r.substituted == {"so2": "24h"} and r.aqi == 154
    alone = aqi.hourly_aqi({"so2": 900})  # without a 24-hour average: the hour's value on the 24-hour table
    assert alone.iaqi["so2"] == 213 and alone.substituted == {"so2": "24h"}  # 200 + 100/800 × 100 = 212.5


def test_o3_eight_hour_above_800_uses_the_one_hour_index():
    assert aqi.iaqi("o3", "8h", 800) == 300
    assert aqi.iaqi("o3", "8h", 801) is None
    r = aqi.daily_aqi({"o3_8h": 850, "o3_1h": 900, "pm25": 40})
    assert "o3_8h" not in r.iaqi and r.substituted == {"o3_8h": "1h"}
    assert r.iaqi["o3_1h"] == 350 and r.aqi == 350 and r.primary == ("o3_1h",)  # 300 + 100/200 × 100
    lone = aqi.daily_aqi({"o3_8h": 850})
    assert lone.aqi is None and lone.substituted == {"o3_8h": "missing"}


def test_above_the_top_breakpoint_the_index_is_capped_and_flagged():
    r = aqi.daily_aqi({"pm25": 620, "pm10": 100})
    assert r.iaqi["pm25"] == 500 and r.aqi == 500 and r.capped == ("pm25",)
    assert r.level == 6 and r.category == "严重污染" and r.colour == "#7e0023"
    at_top = aqi.daily_aqi({"pm25": 500})
    assert at_top.aqi == 500 and at_top.capped == ()


@pytest.mark.parametrize(
    ("pm25", "aqi_value", "level", "category", "colour"),
    [
        (0, 0, 1, "优", "#00e400"),
        (35, 50, 1, "优", "#00e400"),
        (35.1, 51, 2, "良", "#ffff00"),
        (75, 100, 2, "良", "#ffff00"),
        (76, 102, 3, "轻度污染", "#ff7e00"),
        (115, 150, 3, "轻度污染", "#ff7e00"),
        (116, 152, 4, "中度污染", "#ff0000"),
        (150, 200, 4, "中度污染", "#ff0000"),
        (151, 201, 5, "重度污染", "#99004c"),
        (250, 300, 5, "重度污染", "#99004c"),
        (251, 301, 6, "严重污染", "#7e0023"),
    ],
)
def test_levels_categories_and_colours(pm25, aqi_value, level, category, colour):
    r = aqi.daily_aqi({"pm25": pm25})
    assert (r.aqi, r.level, r.category, r.colour) == (aqi_value, level, category, colour)


def test_primary_pollutant_only_above_50_and_all_of_a_tie():
    calm = aqi.hourly_aqi({"pm25": 35, "pm10": 50, "no2": 20})
    assert calm.aqi == 50 and calm.primary == () and calm.exceeding == ()
    tie = aqi.hourly_aqi({"pm25": 75, "pm10": 150, "no2": 200, "co": 1})  # 100, 100, 100
    assert tie.aqi == 100 and tie.primary == ("no2", "pm10", "pm25") and tie.exceeding == ()
    one = aqi.hourly_aqi({"pm25": 80, "pm10": 150, "o3": 100})
    assert one.aqi == 107 and one.primary == ("pm25",) and one.exceeding == ("pm25",)
    daily = aqi.daily_aqi({"pm25": 116, "pm10": 350, "o3_8h": 100, "o3_1h": 100})  # 152 and 200
    assert daily.primary == ("pm10",) and daily.exceeding == ("pm10", "pm25") and daily.severity == "major"


def test_hourly_pm_uses_the_24_hour_table_and_gases_the_one_hour_tables():
    r = aqi.hourly_aqi({"pm25": 75, "pm10": 150, "so2": 150, "no2": 100, "co": 5, "o3": 160})
    assert r.iaqi == {"so2": 50, "no2": 50, "co": 50, "o3": 50, "pm10": 100, "pm25": 100}
    assert r.averaging == "hour"


def test_missing_values_have_no_index_never_zero():
    r = aqi.hourly_aqi({"pm25": None, "no2": 40})
    assert "pm25" not in r.iaqi and r.iaqi == {"no2": 20}
    empty = aqi.hourly_aqi({"pm25": None})
    assert empty.aqi is None and empty.level is None and empty.colour is None


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), 1e9])
def test_bad_concentrations_are_refused(bad):
    with pytest.raises(ValueError):
        aqi.hourly_aqi({"pm25": bad})


def test_unknown_pollutants_are_refused():
    with pytest.raises(ValueError):
        aqi.hourly_aqi({"o3_8h": 10})
    with pytest.raises(ValueError):
        aqi.iaqi("pm25", "1h", 10)
