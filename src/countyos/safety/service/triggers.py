"""Plan triggers: a sensing rule's alarm or a new case of a category starts or escalates an emergency
response (connected in ``receivers.py``). The events part implements these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


def on_alarm_raised(session: Session, *, alarm: Any, created: bool, rule_id: int, at: datetime | None) -> None:
    """A sensing rule raised (or repeated) an alarm: if the rule is a plan level's trigger, start the
    response at that level or escalate the running one."""
    return None


def on_case_created(session: Session, *, case: Any, category_code: str, actor: Any) -> None:
    """A case was created: if its category is a plan level's trigger, start or escalate the response."""
    return None
