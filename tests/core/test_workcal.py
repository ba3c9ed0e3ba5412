"""The working-time calendar across 春节, 国庆 and adjusted weekend working days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from countyos.core import workcal
from countyos.core.workcal import DayKind, TimeUnit, WorkCalendar, load_year_file, parse_office_hours

CST = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_day_kinds_2026(cal: WorkCalendar) -> None:
    assert cal.day_kind(date(2026, 2, 13)) is DayKind.WORKDAY  # Friday before 春节
    assert cal.day_kind(date(2026, 2, 14)) is DayKind.ADJUSTED_WORKDAY  # Saturday, 调休上班
    assert cal.day_kind(date(2026, 2, 16)) is DayKind.HOLIDAY  # 除夕 (Monday)
    assert cal.day_kind(date(2026, 2, 23)) is DayKind.HOLIDAY  # last day of the 春节 break
    assert cal.day_kind(date(2026, 2, 24)) is DayKind.WORKDAY
    assert cal.day_kind(date(2026, 3, 7)) is DayKind.WEEKEND
    assert cal.day_kind(date(2026, 10, 10)) is DayKind.ADJUSTED_WORKDAY  # Saturday after 国庆
    assert not cal.is_working_day(date(2026, 10, 7))


def test_hours_across_spring_festival(cal: WorkCalendar) -> None:
    # Friday 2026-02-13 16:30 + 4 working hours: 1 h left on Friday, Saturday 14th is a 调休 working
    # day, so the deadline is Saturday 11:30 — not the Tuesday after the weekend.
    assert cal.add_working_hours(at(2026, 2, 13, 16, 30), 4) == at(2026, 2, 14, 11, 30)
    # Saturday 14th 17:00 + 1 h: 0.5 h on Saturday; Sunday 15th, 16th–23rd are off; Tuesday 24th 09:00.
    assert cal.add_working_hours(at(2026, 2, 14, 17, 0), 1) == at(2026, 2, 24, 9, 0)


def test_days_across_national_day(cal: WorkCalendar) -> None:
    # Wednesday 2026-09-30 10:00 + 2 working days: 1 Oct–7 Oct off (Sat 3rd/Sun 4th weekend inside),
    # Thursday 8th is the first working day, Friday 9th the second.
    assert cal.add_working_days(at(2026, 9, 30, 10, 0), 2) == at(2026, 10, 9, 10, 0)
    # + 3 working days reaches Saturday 10 Oct, an adjusted working day.
    assert cal.add_working_days(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 10, 10, 0)
    # Sunday 20 Sept is an adjusted working day before the break.
    assert cal.add_working_days(at(2026, 9, 18, 9, 0), 1) == at(2026, 9, 20, 9, 0)


def test_start_outside_office_hours_counts_from_next_opening(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(at(2026, 3, 2, 7, 0), 1) == at(2026, 3, 2, 9, 30)
    assert cal.add_working_hours(at(2026, 3, 2, 12, 15), 1) == at(2026, 3, 2, 14, 30)  # lunch break skipped
    assert cal.add_working_hours(at(2026, 3, 6, 20, 0), 2) == at(2026, 3, 9, 10, 30)  # Friday night → Monday
    assert cal.next_working_instant(at(2026, 3, 7, 10, 0)) == at(2026, 3, 9, 8, 30)


def test_exact_fill_ends_at_closing_time(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(at(2026, 3, 2, 8, 30), 7.5) == at(2026, 3, 2, 17, 30)
    assert cal.day_length == timedelta(hours=7, minutes=30)


def test_elapsed_working_time(cal: WorkCalendar) -> None:
    assert cal.working_time_between(at(2026, 2, 13, 16, 30), at(2026, 2, 24, 9, 0)) == timedelta(hours=9)
    assert cal.working_time_between(at(2026, 3, 2, 12, 0), at(2026, 3, 2, 13, 30)) == timedelta(0)
    assert cal.working_time_between(at(2026, 3, 3), at(2026, 3, 2)) == -timedelta(hours=7, minutes=30)
    assert cal.elapsed(at(2026, 3, 7), at(2026, 3, 8), TimeUnit.HOURS) == timedelta(days=1)


def test_natural_hours_ignore_the_calendar(cal: WorkCalendar) -> None:
    assert cal.add(at(2026, 10, 1, 23, 0), 2, TimeUnit.HOURS) == at(2026, 10, 2, 1, 0)


def test_results_are_utc(cal: WorkCalendar) -> None:
    out = cal.add_working_hours(at(2026, 3, 2, 9, 0), 1)
    assert out.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        cal.add_working_hours(datetime(2026, 3, 2, 9, 0), 1)
    with pytest.raises(ValueError):
        cal.add_working_hours(at(2026, 3, 2, 9, 0), -1)


def test_configurable_office_hours() -> None:
    cal = WorkCalendar(office_hours=parse_office_hours("09:00-17:00"))
    assert cal.add_working_hours(at(2026, 3, 2, 16, 0), 2) == at(2026, 3, 3, 10, 0)
    with pytest.raises(ValueError):
        parse_office_hours("13:00-12:00")
    with pytest.raises(ValueError):
        parse_office_hours("08:00-12:00,11:00-13:00")


def test_shipped_2027_file_is_used(cal: WorkCalendar) -> None:
    assert cal.overrides[2027].provisional
    assert cal.day_kind(date(2027, 2, 8)) is DayKind.HOLIDAY  # 正月初三 (Monday)
    assert cal.day_kind(date(2027, 2, 9)) is DayKind.WORKDAY
    assert not cal.is_covered(2027)
    assert cal.is_covered(2026)


def test_year_file_overrides_and_extends(tmp_path: Path) -> None:
    (tmp_path / "2026.toml").write_text(
        'year = 2026\nmode = "amend"\nholidays = ["2026-03-02"]\nworkdays = ["2026-03-07"]\n', encoding="utf-8"
    )
    (tmp_path / "2030.toml").write_text('holidays = ["2030-01-01"]\n', encoding="utf-8")
    cal = WorkCalendar(data_dirs=[workcal.PACKAGE_DATA, tmp_path])
    assert cal.day_kind(date(2026, 3, 2)) is DayKind.HOLIDAY  # a local day off
    assert cal.day_kind(date(2026, 3, 7)) is DayKind.ADJUSTED_WORKDAY
    assert cal.day_kind(date(2026, 2, 17)) is DayKind.HOLIDAY  # amend keeps the library's 春节
    assert cal.day_kind(date(2030, 1, 1)) is DayKind.HOLIDAY  # a year the library does not know
    assert cal.day_kind(date(2030, 1, 2)) is DayKind.WORKDAY


def test_bad_year_file_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "2026.toml"
    p.write_text('holidays = ["2026-03-02"]\nworkdays = ["2026-03-02"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="both"):
        load_year_file(p)
    p.write_text('holidays = ["2025-03-02"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="not in 2026"):
        load_year_file(p)


def test_calendar_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from countyos.core.settings import reset_settings

    monkeypatch.setenv("COUNTYOS_OFFICE_HOURS", "09:00-12:00")
    reset_settings()
    try:
        assert workcal.add_working_hours(at(2026, 3, 2, 11, 0), 2) == at(2026, 3, 3, 10, 0)
    finally:
        monkeypatch.delenv("COUNTYOS_OFFICE_HOURS")
        reset_settings()


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)).map(
    lambda d: d.replace(tzinfo=CST)
)


@settings(max_examples=150, deadline=None)
@given(start=instants, minutes=st.integers(min_value=0, max_value=60 * 200))
def test_add_then_measure_round_trips(cal: WorkCalendar, start: datetime, minutes: int) -> None:
    end = cal.add_working_time(start, timedelta(minutes=minutes))
    assert end >= start
    assert cal.working_time_between(start, end) == timedelta(minutes=minutes)
    if minutes:
        local = end.astimezone(CST)
        assert cal.is_working_day(local.date())
        assert any(a < local.time() <= b for a, b in cal.office_hours) or local.time() == time(17, 30)
