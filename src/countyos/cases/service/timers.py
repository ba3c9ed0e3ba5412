"""Step clocks in working time.

Each timed step has a limit (category × area class, ``categories.limit_for``). The case stores the
step's start, the limit, approved extensions and the working time spent suspended (挂账), all in
seconds of the step's unit, and the two instants derived from them:

    deadline = start + limit + extension + paused        (in working time, or natural time for "hours")
    warn_at  = start + 80 % × (limit + extension) + paused

so the console and the sweeper find yellow (now ≥ warn_at) and red (now ≥ deadline) cases with an
indexed comparison. Only ``start_step``, ``extend``, ``pause`` and ``resume`` change these fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from countyos.cases.models import Case, Category, Step
from countyos.cases.service import categories
from countyos.core.workcal import TimeUnit, WorkCalendar, calendar

WARN_FRACTION = 0.8


class Level(StrEnum):
    NONE = "none"
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"


def _cal() -> WorkCalendar:
    return calendar()


def _add(start: datetime, seconds: float, unit: str) -> datetime:
    """``seconds`` of the unit's time after ``start`` (working seconds unless the unit is natural hours)."""
    if TimeUnit(unit) is TimeUnit.HOURS:
        return start + timedelta(seconds=seconds)
    return _cal().add_working_time(start, timedelta(seconds=seconds))


def limit_seconds(amount: float, unit: TimeUnit) -> int:
    if unit is TimeUnit.WORKING_DAYS:
        return int(_cal().day_length.total_seconds() * amount)
    return int(amount * 3600)


def _recompute(case: Case) -> None:
    if case.step_started_at is None or case.step_unit is None:
        case.step_deadline = case.step_warn_at = None
        return
    budget = case.step_limit_s + case.step_extension_s
    case.step_deadline = _add(case.step_started_at, budget + case.step_paused_s, case.step_unit)
    case.step_warn_at = _add(case.step_started_at, WARN_FRACTION * budget + case.step_paused_s, case.step_unit)


def start_step(
    session: Session,
    case: Case,
    step: Step | None,
    now: datetime,
    category: Category | categories.CategoryInfo | None = None,
) -> None:
    """Start the clock of ``step`` (or stop the clock when None)."""
    case.step_seq = (case.step_seq or 0) + 1
    case.warn_level = 0
    case.paused_at = None
    case.step_extension_s = case.step_paused_s = 0
    if step is None:
        case.step = case.step_unit = None
        case.step_started_at = None
        case.step_limit_s = 0
        _recompute(case)
        return
    amount, unit = categories.limit_for(
        session, category=category or case.category, area_class=case.area_class, step=step
    )
    case.step = step
    case.step_started_at = now
    case.step_unit = unit
    case.step_limit_s = limit_seconds(amount, unit)
    _recompute(case)


def extend(case: Case, amount: float, unit: TimeUnit) -> None:
    """延期 approved: the deadline moves by ``amount`` (converted into the step's unit)."""
    if case.step_unit is None:
        return
    seconds = limit_seconds(amount, unit)
    if TimeUnit(case.step_unit) is TimeUnit.HOURS and unit is not TimeUnit.HOURS:
        seconds = int(amount * (24 * 3600 if unit is TimeUnit.WORKING_DAYS else 3600))
    case.step_extension_s += seconds
    _recompute(case)


def pause(case: Case, now: datetime) -> None:
    """挂账 approved: the clock stops."""
    if case.paused_at is None:
        case.paused_at = now


def resume(case: Case, now: datetime) -> None:
    """恢复: the clock runs again; the time spent suspended is added to the deadline."""
    if case.paused_at is None or case.step_unit is None:
        return
    spent = _cal().elapsed(case.paused_at, now, TimeUnit(case.step_unit))
    case.step_paused_s += max(0, int(spent.total_seconds()))
    case.paused_at = None
    _recompute(case)


def level(case: Case, now: datetime) -> Level:
    if case.step_deadline is None or not case.is_open:
        return Level.NONE
    if case.paused_at is not None:
        return Level.PAUSED
    if now >= case.step_deadline:
        return Level.RED
    if case.step_warn_at is not None and now >= case.step_warn_at:
        return Level.YELLOW
    return Level.GREEN


def remaining(case: Case, now: datetime) -> timedelta | None:
    """Working time left in the step (negative when overdue)."""
    if case.step_deadline is None or case.step_unit is None:
        return None
    at = case.paused_at or now
    return _cal().elapsed(at, case.step_deadline, TimeUnit(case.step_unit))
