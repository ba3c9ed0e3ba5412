"""Data validity at its edges (GB 3095-2012 表4, HJ 663): 45 minutes in an hour, 20 hours in a day,
6 hours in an 8-hour window, 14 valid windows in a day; an invalid value is None, never 0."""

from __future__ import annotations

import pytest

from countyos.eco.service import air_averages as av
from countyos.eco.service import air_compute

pytestmark = pytest.mark.backend_neutral


def test_an_hour_needs_45_minutes_of_data():
    # a device reporting every 10 minutes: 4 values are 40 minutes, 5 are 50
    assert av.hour_value(4, 400.0, 600) is None
    assert av.hour_value(5, 500.0, 600) == 100.0
    # every minute: 44 vs 45
    assert av.hour_value(44, 44.0, 60) is None
    assert av.hour_value(45, 45.0, 60) == 1.0
    # a device without an interval counts a value as a minute
    assert av.hour_value(45, 90.0, None) == 2.0 and av.hour_value(44, 88.0, None) is None
    assert av.minutes_of(12, 600) == 60.0
    assert av.hour_value(0, None, 600) is None


def test_a_day_needs_20_hours():
    nineteen = [10.0] * 19 + [None] * 5
    twenty = [10.0] * 20 + [None] * 4
    assert av.day_mean(nineteen) is None and av.day_max(nineteen) is None
    assert av.day_mean(twenty) == 10.0 and av.day_max([*twenty[:-5], 99.0, *twenty[-4:]]) == 99.0


def test_an_8_hour_window_needs_6_hours():
    assert av.moving_8h([100.0] * 5 + [None] * 3) is None
    assert av.moving_8h([100.0] * 6 + [None] * 2) == 100.0
    assert av.moving_8h([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]) == 45.0
    with pytest.raises(ValueError):
        av.moving_8h([1.0] * 7)


def test_the_day_of_8_hour_averages_needs_14_windows():
    thirteen = [120.0] * 13 + [None] * 4
    fourteen = [120.0] * 13 + [150.0] + [None] * 3
    assert av.day_o3_8h(thirteen) is None
    assert av.day_o3_8h(fourteen) == 150.0


def test_windows_of_a_day_are_the_17_within_it():
    hours = [float(h) for h in range(24)]
    w = av.windows_of_day(hours)
    assert len(w) == 17 and w[0] == 3.5 and w[-1] == 19.5
    # hours missing from 00 to 03 (4 of them): windows 0–1 keep 4 or 5 valid hours and fail, window 2 has 6
    gaps = [None] * 4 + hours[4:]
    w = av.windows_of_day(gaps)
    assert w[0] is None and w[1] is None and w[2] is not None


def test_daily_values_from_hours_with_their_counts():
    full = air_compute.HourValues({p: 10.0 for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}, {})
    gap = air_compute.HourValues({p: None for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}, {})
    values, counts = air_compute.daily_values([full] * 20 + [gap] * 4)
    assert values["pm25"] == 10.0 and counts["pm25"] == 20 and values["o3_1h"] == 10.0
    assert counts["o3_8h"] == 15 and values["o3_8h"] == 10.0  # windows 15–22 and 16–23 have 5 and 4 hours
    values, counts = air_compute.daily_values([full] * 19 + [gap] * 5)
    assert values["pm25"] is None and counts["pm25"] == 19 and values["o3_1h"] is None
