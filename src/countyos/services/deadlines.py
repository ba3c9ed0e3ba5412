"""办结时限: when an application is due, how much of its time is used, and whether it is overdue.

A matter's 法定 or 承诺 limit is an amount and a ``TimeLimitUnit``. The count follows the 行政许可法
(第八十二条: 期限以工作日计算，不含法定节假日) and the civil-law rule for periods (the first day is not
counted; the period ends when the last day's business ends):

* 工作日 (working days): the day of acceptance is not counted; the application is due when the office
  closes (the end of the last office-hours period, ``office_hours`` setting) on the Nth working day
  after it, on the county's working-day calendar (``core.workcal``: 春节, 国庆 and the other holidays,
  adjusted working weekends 调休 counted as working days).
* 自然日 (calendar days): due at the end of the county's day (24:00 local) N days after acceptance.
* A limit of 0 (即办件) is due at the end of the acceptance day (the next working day's close if the
  office is already closed or the day is not a working day).

Pauses push the due time by exactly their length in the unit's terms: working time (office hours of
working days) for 工作日, elapsed time for 自然日.

* 特别程序 (A.7: 延长审批, 听证/检验/检测/鉴定/专家评审 …) always stops the clock; it resumes when the
  procedure ends.
* 补正 after acceptance (a first step returned the application for materials) follows
  ``CorrectionPolicy``. The default, ``RESTART``, is common county practice: the count starts again,
  in full, when the materials come back complete (自收到补正材料之日起重新计算); the time used before
  the correction no longer counts. ``PAUSE`` counts the waiting time like a 特别程序 instead
  (补正时间不计入办理时限). 补正 before acceptance needs no rule: the count starts at acceptance.

Everything is timezone-aware UTC in and out; days are the county's (the calendar's time zone, from
settings like ``core.workcal``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from countyos.core.clock import as_utc
from countyos.core.i18n import N_
from countyos.core.workcal import MAX_SCAN_DAYS, WorkCalendar, calendar
from countyos.services.codes import TimeLimitUnit

MAX_LIMIT_DAYS = 1000  # no matter's limit is longer; bounds every calculation below
MAX_PAUSES = 200
WARN_FRACTION = 0.8  # the default 电子监察 yellow warning at 80 % of the limit


class CorrectionPolicy(StrEnum):
    """What 补正 after acceptance does to the count."""

    RESTART = "restart"  # the count restarts in full when the materials come back complete
    PAUSE = "pause"  # the waiting time is not counted; the count goes on where it stopped


class Level(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"  # at or past the warning fraction
    RED = "red"  # overdue
    STOPPED = "stopped"  # 特别程序 or 补正 running: the clock is stopped


CORRECTION_POLICY_LABELS: dict[str, str] = {
    CorrectionPolicy.RESTART: N_("Corrections restart the count"),
    CorrectionPolicy.PAUSE: N_("Corrections pause the count"),
}
LEVEL_LABELS: dict[str, str] = {
    Level.GREEN: N_("On time"),
    Level.YELLOW: N_("Due soon"),
    Level.RED: N_("Overdue"),
    Level.STOPPED: N_("Clock stopped"),
}


@dataclass(frozen=True)
class Limit:
    """法定 or 承诺办结时限: an amount of whole days in a unit."""

    amount: int
    unit: TimeLimitUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError("a time limit is a whole number of days")
        if not 0 <= self.amount <= MAX_LIMIT_DAYS:
            raise ValueError(f"a time limit must be between 0 and {MAX_LIMIT_DAYS} days")
        object.__setattr__(self, "unit", TimeLimitUnit(self.unit))


@dataclass(frozen=True)
class Interval:
    """A stretch of stopped time (特别程序, 补正); ``end`` None while it is still running."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("naive datetime given; pass a timezone-aware instant")
        if self.end is not None and self.end < self.start:
            raise ValueError("an interval cannot end before it starts")


@dataclass(frozen=True)
class Deadline:
    """The state of one limit at ``now``. Durations are in the unit's time (working or elapsed)."""

    started_at: datetime  # when the count started (acceptance, or the last complete 补正 under RESTART)
    due_at: datetime  # pushed by every pause so far (a running one counted up to now)
    budget: timedelta  # the limit, from started_at to the unpaused due time
    used: timedelta  # counted so far, pauses excluded
    stopped: bool  # a pause or a 补正 is running now
    overdue: bool  # now is past due_at

    @property
    def remaining(self) -> timedelta:
        """Time left in the unit's terms (negative when more than the limit has been used)."""
        return self.budget - self.used

    @property
    def fraction(self) -> float:
        """The share of the limit used (0.8 → the 80 % warning); over 1 when overdue."""
        if self.budget <= timedelta(0):
            return 1.0 if self.used > timedelta(0) or self.overdue else 0.0
        return self.used / self.budget


class _Counter:
    """Measuring and adding time the way a unit counts it."""

    def __init__(self, unit: TimeLimitUnit, cal: WorkCalendar) -> None:
        self.working = unit is TimeLimitUnit.WORKING_DAYS
        self.cal = cal

    def between(self, a: datetime, b: datetime) -> timedelta:
        return self.cal.working_time_between(a, b) if self.working else as_utc(b) - as_utc(a)

    def push(self, t: datetime, amount: timedelta) -> datetime:
        if amount <= timedelta(0):
            return as_utc(t)
        return self.cal.add_working_time(t, amount) if self.working else as_utc(t) + amount


def base_due(start: datetime, limit: Limit, *, cal: WorkCalendar | None = None) -> datetime:
    """The due time of ``limit`` counted from ``start`` without any pause (UTC)."""
    if start.tzinfo is None:
        raise ValueError("naive datetime given; pass a timezone-aware instant")
    cal = cal or calendar()
    local = start.astimezone(cal.tz)
    day = local.date()
    if limit.unit is TimeLimitUnit.NATURAL_DAYS:
        return as_utc(datetime.combine(day + timedelta(days=limit.amount + 1), time(0), tzinfo=cal.tz))
    close = cal.office_hours[-1][1]
    if limit.amount == 0 and cal.is_working_day(day) and local.time() < close:
        return as_utc(datetime.combine(day, close, tzinfo=cal.tz))
    counted = 0
    for _ in range(MAX_SCAN_DAYS):
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
            if counted >= max(limit.amount, 1):
                return as_utc(datetime.combine(day, close, tzinfo=cal.tz))
    raise ValueError("the calendar has no working days in the next ten years")


def _clip(intervals: Iterable[Interval], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of the intervals between lo and hi, merged where they overlap, in order."""
    parts = sorted(
        (max(as_utc(i.start), lo), min(as_utc(i.end) if i.end is not None else hi, hi))
        for i in intervals
        if as_utc(i.start) < hi
    )
    merged: list[tuple[datetime, datetime]] = []
    for a, b in parts:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def deadline(
    limit: Limit,
    *,
    accepted_at: datetime,
    now: datetime,
    special: Sequence[Interval] = (),
    corrections: Sequence[Interval] = (),
    policy: CorrectionPolicy = CorrectionPolicy.RESTART,
    cal: WorkCalendar | None = None,
) -> Deadline:
    """The due time and the used share of ``limit`` for an application accepted at ``accepted_at``.

    ``special``: the 特别程序 intervals; ``corrections``: the 补正 intervals after acceptance (from the
    return to the applicant until the complete materials came back). Parts after ``now`` are ignored.
    """
    if accepted_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("naive datetime given; pass a timezone-aware instant")
    if len(special) + len(corrections) > MAX_PAUSES:
        raise ValueError(f"at most {MAX_PAUSES} pauses are counted")
    cal = cal or calendar()
    counter = _Counter(limit.unit, cal)
    now = as_utc(now)
    start = as_utc(accepted_at)
    pauses = list(special)
    running = any(as_utc(i.start) <= now and (i.end is None or as_utc(i.end) > now) for i in special)
    if policy is CorrectionPolicy.PAUSE:
        pauses += corrections
        running = running or any(as_utc(c.start) <= now and (c.end is None or as_utc(c.end) > now) for c in corrections)
    else:
        for c in sorted(corrections, key=lambda c: as_utc(c.start)):
            if as_utc(c.start) > now or as_utc(c.start) < start:
                continue
            if c.end is None or as_utc(c.end) > now:
                start, running = now, True  # waiting for materials: the count will restart in full
            else:
                start = max(start, as_utc(c.end))
    base = base_due(start, limit, cal=cal)
    budget = counter.between(start, base)
    stopped = sum((counter.between(a, b) for a, b in _clip(pauses, start, now)), timedelta(0))
    used = counter.between(start, now) - stopped if now > start else timedelta(0)
    due = counter.push(base, stopped)
    return Deadline(
        started_at=start,
        due_at=due,
        budget=budget,
        used=max(used, timedelta(0)),
        stopped=running,
        overdue=now > due,
    )


def due_at(
    limit: Limit,
    *,
    accepted_at: datetime,
    special: Sequence[Interval] = (),
    cal: WorkCalendar | None = None,
) -> datetime:
    """The due time once every pause is over (e.g. the 承诺办结时间 printed on the 受理 receipt)."""
    ends = [as_utc(i.end) for i in special if i.end is not None]
    if any(i.end is None for i in special):
        raise ValueError("a special procedure is still running: its end is not known yet")
    now = max([as_utc(accepted_at), *ends])
    return deadline(limit, accepted_at=accepted_at, now=now, special=special, cal=cal).due_at


def level(d: Deadline, *, warn_fraction: float = WARN_FRACTION) -> Level:
    """Green, yellow (at ``warn_fraction`` of the limit), red (overdue) or stopped."""
    if not 0 < warn_fraction <= 1:
        raise ValueError("the warning fraction must be in (0, 1]")
    if d.stopped:
        return Level.STOPPED
    if d.overdue:
        return Level.RED
    if d.fraction >= warn_fraction:
        return Level.YELLOW
    return Level.GREEN
