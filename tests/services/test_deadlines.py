"""办结时限 across 春节 and 国庆 (2026, 2027) and adjusted working weekends, in 工作日 and 自然日, with
特别程序 and 补正 pauses, the 80 % warning and overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from countyos.core.workcal import WorkCalendar, YearOverride
from countyos.services import deadlines
from countyos.services.codes import TimeLimitUnit
from countyos.services.deadlines import CorrectionPolicy, Interval, Level, Limit, base_due, deadline, due_at

CST = ZoneInfo("Asia/Shanghai")
WD, ND = TimeLimitUnit.WORKING_DAYS, TimeLimitUnit.NATURAL_DAYS
DAY = timedelta(hours=7.5)  # one office day of working time (08:30–12:00, 13:30–17:30)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


_CAL = WorkCalendar()


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return _CAL


def due(cal: WorkCalendar, start: datetime, amount: int, unit: TimeLimitUnit) -> datetime:
    return base_due(start, Limit(amount, unit), cal=cal).astimezone(CST)


def test_working_days_across_national_day_2026_and_its_adjusted_saturday(cal: WorkCalendar) -> None:
    # Accepted Monday 28 Sept: the day itself is not counted; 29, 30 Sept, then 1–7 Oct are off,
    # 8 and 9 Oct count, and Saturday 10 Oct is a 调休 working day — the 5th.
    assert due(cal, at(2026, 9, 28, 10), 3, WD) == at(2026, 10, 8, 17, 30)
    assert due(cal, at(2026, 9, 28, 10), 5, WD) == at(2026, 10, 10, 17, 30)
    # Sunday 20 Sept is a working day before the break (调休).
    assert due(cal, at(2026, 9, 18, 15), 1, WD) == at(2026, 9, 20, 17, 30)
    # The result is UTC.
    assert base_due(at(2026, 9, 28, 10), Limit(5, WD), cal=cal) == datetime(2026, 10, 10, 9, 30, tzinfo=UTC)


def test_working_days_across_spring_festival_2026(cal: WorkCalendar) -> None:
    # Friday 13 Feb: Saturday 14th works (调休), 15th–23rd are off, Saturday 28th works too.
    assert due(cal, at(2026, 2, 13, 10), 1, WD) == at(2026, 2, 14, 17, 30)
    assert due(cal, at(2026, 2, 13, 10), 2, WD) == at(2026, 2, 24, 17, 30)
    assert due(cal, at(2026, 2, 13, 10), 6, WD) == at(2026, 2, 28, 17, 30)


def test_spring_festival_and_national_day_2027(cal: WorkCalendar) -> None:
    # The shipped 2027 file: 5–8 Feb off (除夕 Friday to Monday), 1–3 Oct off (Friday to Sunday).
    assert due(cal, at(2027, 2, 4, 10), 1, WD) == at(2027, 2, 9, 17, 30)
    assert due(cal, at(2027, 9, 30, 10), 1, WD) == at(2027, 10, 4, 17, 30)
    assert due(cal, at(2027, 9, 14, 10), 1, WD) == at(2027, 9, 16, 17, 30)  # 中秋 Wednesday 15 Sept
    # Calendar days run through holidays and end at midnight, county time.
    assert due(cal, at(2027, 2, 4, 10), 3, ND) == at(2027, 2, 8, 0, 0)
    assert due(cal, at(2027, 9, 28, 10), 10, ND) == at(2027, 10, 9, 0, 0)


def test_a_county_calendar_file_with_adjusted_weekends_moves_the_due_day() -> None:
    # A county ships a 2027 file with a longer break and two working weekend days (调休上班).
    notice = YearOverride(
        year=2027,
        holidays=frozenset(date(2027, 2, d) for d in range(5, 13)),  # 5–12 Feb
        workdays=frozenset({date(2027, 1, 30), date(2027, 2, 20)}),  # Saturdays
        provisional=False,
        source="test",
    )
    cal = WorkCalendar(overrides={2027: notice})
    assert due(cal, at(2027, 1, 29, 10), 1, WD) == at(2027, 1, 30, 17, 30)  # Saturday counts
    assert due(cal, at(2027, 2, 4, 10), 1, WD) == at(2027, 2, 15, 17, 30)
    assert due(cal, at(2027, 2, 4, 10), 5, WD) == at(2027, 2, 19, 17, 30)
    assert due(cal, at(2027, 2, 4, 10), 6, WD) == at(2027, 2, 20, 17, 30)  # Saturday counts
    assert due(cal, at(2027, 2, 4, 10), 6, ND) == at(2027, 2, 11, 0, 0)  # calendar days ignore it all


def test_calendar_days_end_at_the_end_of_the_countys_day(cal: WorkCalendar) -> None:
    # 00:30 on 3 Dec in the county is still 2 Dec in UTC: the county's day counts.
    assert due(cal, at(2026, 12, 3, 0, 30), 1, ND) == at(2026, 12, 5, 0, 0)
    assert due(cal, at(2026, 12, 3, 23, 30), 1, ND) == at(2026, 12, 5, 0, 0)
    assert base_due(at(2026, 12, 3, 23, 30), Limit(1, ND), cal=cal) == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def test_a_zero_limit_is_due_when_the_office_closes(cal: WorkCalendar) -> None:
    assert due(cal, at(2026, 12, 3, 10), 0, WD) == at(2026, 12, 3, 17, 30)
    assert due(cal, at(2026, 12, 3, 18), 0, WD) == at(2026, 12, 4, 17, 30)  # after closing
    assert due(cal, at(2026, 12, 5, 10), 0, WD) == at(2026, 12, 7, 17, 30)  # a Saturday
    assert due(cal, at(2026, 12, 3, 10), 0, ND) == at(2026, 12, 4, 0, 0)


def test_special_procedures_push_the_due_time_by_their_working_time(cal: WorkCalendar) -> None:
    accepted = at(2026, 9, 21, 9)
    limit = Limit(5, WD)  # 22, 23, 24 Sept; 25–27 中秋 off; 28, 29 → 29 Sept 17:30
    assert due(cal, accepted, 5, WD) == at(2026, 9, 29, 17, 30)
    hearing = Interval(at(2026, 9, 23, 9), at(2026, 9, 24, 9))  # one working day
    assert due_at(limit, accepted_at=accepted, special=[hearing], cal=cal) == at(2026, 9, 30, 17, 30)
    # a second one across 国庆: 30 Sept 14:00 → 8 Oct 14:00 is 3.5 h + 4 h of working time = one more day
    extension = Interval(at(2026, 9, 30, 14), at(2026, 10, 8, 14))
    assert due_at(limit, accepted_at=accepted, special=[hearing, extension], cal=cal) == at(2026, 10, 8, 17, 30)
    # overlapping intervals are not counted twice
    assert due_at(limit, accepted_at=accepted, special=[hearing, hearing], cal=cal) == at(2026, 9, 30, 17, 30)

    # while the extension runs the clock is stopped and the due time moves with it
    d = deadline(
        limit, accepted_at=accepted, now=at(2026, 10, 8, 10), special=[hearing, Interval(extension.start)], cal=cal
    )
    assert d.stopped is True and d.overdue is False
    assert deadlines.level(d) is Level.STOPPED
    assert d.budget == 5 * DAY + timedelta(hours=7)  # 21 Sept from 09:00, then five office days
    # counted: 53.5 h of working time since acceptance less 7.5 h of hearing and 5 h of extension so far
    assert d.used == timedelta(hours=41)
    assert d.remaining == timedelta(hours=3, minutes=30)
    assert d.due_at == at(2026, 10, 8, 15, 0)  # 29 Sept 17:30 + 12.5 h of working time


def test_calendar_day_limits_move_by_the_elapsed_length_of_a_pause(cal: WorkCalendar) -> None:
    limit = Limit(10, ND)
    accepted = at(2026, 12, 3, 10)
    assert due_at(limit, accepted_at=accepted, cal=cal) == at(2026, 12, 14, 0, 0)
    testing = Interval(at(2026, 12, 5, 10), at(2026, 12, 8, 16))  # 3 days 6 hours
    assert due_at(limit, accepted_at=accepted, special=[testing], cal=cal) == at(2026, 12, 17, 6, 0)
    with pytest.raises(ValueError, match="still running"):
        due_at(limit, accepted_at=accepted, special=[Interval(testing.start)], cal=cal)


def test_a_correction_after_acceptance_restarts_the_count_by_default(cal: WorkCalendar) -> None:
    limit = Limit(5, WD)
    accepted = at(2026, 11, 2, 10)  # Monday → due 9 Nov 17:30
    correction = Interval(at(2026, 11, 4, 10), at(2026, 11, 11, 15))  # materials back complete on the 11th
    waiting = deadline(
        limit, accepted_at=accepted, now=at(2026, 11, 6, 10), corrections=[Interval(correction.start)], cal=cal
    )
    assert waiting.stopped is True
    assert waiting.used == timedelta(0)
    assert deadlines.level(waiting) is Level.STOPPED

    restarted = deadline(limit, accepted_at=accepted, now=at(2026, 11, 12, 9), corrections=[correction], cal=cal)
    assert restarted.started_at == at(2026, 11, 11, 15)
    assert restarted.due_at == at(2026, 11, 18, 17, 30)  # 12, 13, 16, 17, 18 Nov
    assert restarted.used == timedelta(hours=2, minutes=30) + timedelta(minutes=30)  # 15:00–17:30, 08:30–09:00
    assert restarted.stopped is False

    paused = deadline(
        limit,
        accepted_at=accepted,
        now=at(2026, 11, 12, 9),
        corrections=[correction],
        policy=CorrectionPolicy.PAUSE,
        cal=cal,
    )
    # 41 h of working time were spent waiting (6 h + 4 × 7.5 h + 5 h): 9 Nov 17:30 + 41 h = 17 Nov 12:00
    assert paused.started_at == accepted
    assert paused.due_at == at(2026, 11, 17, 12, 0)
    assert paused.used == timedelta(hours=18)  # 6 + 7.5 + 1.5 before, 2.5 + 0.5 after the correction


def test_the_warning_fraction_and_overdue_to_the_minute(cal: WorkCalendar) -> None:
    limit = Limit(5, WD)
    accepted = at(2026, 11, 2, 8, 30)  # due 9 Nov 17:30; budget 6 office days = 45 h
    d = deadline(limit, accepted_at=accepted, now=at(2026, 11, 6, 15, 59), cal=cal)
    assert d.budget == 6 * DAY
    assert deadlines.level(d) is Level.GREEN
    d = deadline(limit, accepted_at=accepted, now=at(2026, 11, 6, 16, 0), cal=cal)  # 36 h = 80 %
    assert d.fraction == pytest.approx(0.8)
    assert deadlines.level(d) is Level.YELLOW
    assert d.remaining == 9 * timedelta(hours=1)
    d = deadline(limit, accepted_at=accepted, now=at(2026, 11, 9, 17, 30), cal=cal)
    assert d.overdue is False and d.remaining == timedelta(0)
    d = deadline(limit, accepted_at=accepted, now=at(2026, 11, 9, 17, 31), cal=cal)
    assert d.overdue is True
    assert deadlines.level(d) is Level.RED
    d = deadline(limit, accepted_at=accepted, now=at(2026, 11, 10, 9, 30), cal=cal)
    assert d.remaining == -timedelta(hours=1)
    assert d.fraction == pytest.approx(46 / 45)
    assert deadlines.level(d, warn_fraction=0.5) is Level.RED


def test_the_county_calendar_from_settings_is_the_default() -> None:
    assert due_at(Limit(5, WD), accepted_at=at(2026, 9, 28, 10)) == at(2026, 10, 10, 17, 30)


def test_inputs_are_bounded() -> None:
    for amount in (-1, deadlines.MAX_LIMIT_DAYS + 1):
        with pytest.raises(ValueError, match="between 0"):
            Limit(amount, WD)
    with pytest.raises(ValueError, match="whole number"):
        Limit(1.5, WD)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Limit(1, "fortnights")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        base_due(datetime(2026, 12, 3, 10), Limit(1, WD))
    with pytest.raises(ValueError, match="before it starts"):
        Interval(at(2026, 12, 3, 10), at(2026, 12, 2, 10))
    with pytest.raises(ValueError, match="at most"):
        deadline(
            Limit(1, WD),
            accepted_at=at(2026, 12, 3),
            now=at(2026, 12, 4),
            special=[Interval(at(2026, 12, 3, 10), at(2026, 12, 3, 11))] * (deadlines.MAX_PAUSES + 1),
        )
    with pytest.raises(ValueError, match="fraction"):
        deadlines.level(deadline(Limit(1, WD), accepted_at=at(2026, 12, 3), now=at(2026, 12, 4)), warn_fraction=0)


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=60 * 24 * 640),
    amount=st.integers(min_value=0, max_value=40),
    unit=st.sampled_from(list(TimeLimitUnit)),
    pauses=st.lists(
        st.tuples(st.integers(min_value=0, max_value=60 * 24 * 10), st.integers(min_value=0, max_value=60 * 24 * 12)),
        max_size=4,
    ),
)
def test_pauses_push_the_due_time_by_exactly_their_length(
    start: int, amount: int, unit: TimeLimitUnit, pauses: list[tuple[int, int]]
) -> None:
    cal = _CAL
    accepted = at(2026, 1, 1) + timedelta(minutes=start)
    intervals, t = [], accepted
    for gap, length in pauses:  # one after another, never overlapping
        a = t + timedelta(minutes=gap)
        intervals.append(Interval(a, a + timedelta(minutes=length)))
        t = a + timedelta(minutes=length)
    limit = Limit(amount, unit)

    def measure(a: datetime, b: datetime) -> timedelta:
        return cal.working_time_between(a, b) if unit is WD else b - a

    paused = sum((measure(i.start, i.end) for i in intervals if i.end is not None), timedelta(0))
    d = deadline(limit, accepted_at=accepted, now=t, special=intervals, cal=cal)
    base = base_due(accepted, limit, cal=cal)
    assert d.budget == measure(accepted, base)
    assert measure(accepted, d.due_at) == d.budget + paused
    assert d.due_at >= base
    assert d.used == max(measure(accepted, t) - paused, timedelta(0))
    assert d.stopped is False
    assert (d.due_at == base) is (paused == timedelta(0))
