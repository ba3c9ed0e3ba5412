"""信息报送 schedule: which reports an event should have by a given time (pure).

- the first report (首报) is due ``first_minutes`` after the start;
- follow-ups (续报 1, 2, …) every ``followup_hours`` after the first's due time, while the response lasts
  (a follow-up falling due after the closing is not asked for);
- the final report (终报) ``final_hours`` after the closing.

The schedule is the event's plan version's ``reports``; an event without a plan uses
``data/reports_defaults.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from countyos.safety.models.reports import ReportKind
from countyos.safety.schemas.plans import ReportSchedule

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "data" / "reports_defaults.json"


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return data


def default_schedule() -> ReportSchedule:
    return ReportSchedule.model_validate(defaults()["schedule"])


def due_soon() -> timedelta:
    """How long before its due time a report's reminder goes out."""
    return timedelta(minutes=int(defaults()["due_soon_minutes"]))


@dataclass(frozen=True)
class Slot:
    kind: ReportKind
    number: int  # 0 for the first and the final, 1, 2, … for follow-ups
    due_at: datetime


def slots(schedule: ReportSchedule, *, started_at: datetime, closed_at: datetime | None, until: datetime) -> list[Slot]:
    """The reports an event should have at UNTIL, in due order: the first from the start, each follow-up
    from ``due_soon()`` before its due time (so it can be reminded) while the response lasts, the final
    from the closing."""
    if started_at > until:
        return []
    horizon = until + due_soon()
    first_due = started_at + timedelta(minutes=schedule.first_minutes)
    out = [Slot(ReportKind.FIRST, 0, first_due)]
    step = timedelta(hours=schedule.followup_hours)
    end = min(closed_at, horizon) if closed_at is not None else horizon
    for n in range(1, int(defaults()["max_followups"]) + 1):
        due = first_due + n * step
        if due > end:
            break
        out.append(Slot(ReportKind.FOLLOWUP, n, due))
    if closed_at is not None and closed_at <= until:
        out.append(Slot(ReportKind.FINAL, 0, closed_at + timedelta(hours=schedule.final_hours)))
    return out
