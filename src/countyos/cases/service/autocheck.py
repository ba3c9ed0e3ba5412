"""The automatic checking rule (自动派核查), optional and off by default: when a department reports a
case as handled (反馈), the case is sent for checking (派核查) at once to the inspector of its grid —
an active grid worker of the case's unit grid who holds ``case.inspect``. With no such person the case
waits for the manual step as before. The switch is data (``case_setting`` row ``auto_check``),
changed by the case administrator on the workflow settings page, audited.

The sending goes through ``transitions.apply`` like any action: the timeline entry names the rule as
its actor and carries ``context.rule = "auto_check"``; the audit record is written as for a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Action, Role
from countyos.cases.models import Case, CaseSetting
from countyos.cases.schemas import ActionIn
from countyos.cases.service import location, people
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.org.service import audit

KEY = "auto_check"
RULE_NAME = N_("Automatic checking rule")
RULE_ACTOR = Actor(id=None, name=RULE_NAME)


def setting(session: Session, *, key: str, default: Any = None) -> Any:
    row = session.get(CaseSetting, key)
    return default if row is None else row.value


def is_enabled(session: Session) -> bool:
    return bool(setting(session, key=KEY, default=False))


def set_enabled(session: Session, *, actor: Actor, enabled: bool) -> bool:
    """Switch the rule on or off (audited); returns whether anything changed."""
    row = session.get(CaseSetting, KEY)
    before = bool(row.value) if row is not None else False
    if before == enabled and row is not None:
        return False
    if row is None:
        row = CaseSetting(key=KEY, value=enabled, updated_by=actor.name, updated_at=utcnow())
        session.add(row)
    else:
        row.value, row.updated_by = enabled, actor.name
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.setting",
        target_type="case_setting",
        target_id=KEY,
        detail={"from": before, "to": enabled},
    )
    return before != enabled


def grid_inspector(session: Session, case: Case) -> int | None:
    """The inspector of the case's grid: its first grid worker who may inspect, else None."""
    workers = location.grid_worker_ids(session, grid_code=case.grid_code)
    if not workers:
        return None
    inspectors = {u.id for u in people.holders(session, permission="case.inspect")}
    return next((w for w in workers if w in inspectors), None)


def after_feedback(session: Session, *, case: Case, now: datetime | None = None) -> Case | None:
    """Called after each 反馈: send the case for checking to the grid's inspector when the rule is on
    and there is one; otherwise leave it for the manual step. Returns the case when it was sent."""
    if not is_enabled(session):
        return None
    inspector = grid_inspector(session, case)
    if inspector is None:
        return None
    from countyos.cases.service import transitions

    return transitions.apply(
        session,
        actor=RULE_ACTOR,
        case_id=case.id,
        data=ActionIn(action=Action.SEND_CHECK, assignee_id=inspector, version=case.version),
        as_role=Role.INTAKE,
        context={"rule": KEY},
        now=now,
    )
