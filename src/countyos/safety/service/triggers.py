"""Plan triggers: a sensing rule's alarm or a new case of a category starts or escalates an emergency
response (connected in ``receivers.py``).

A rule that is a plan level's trigger (``safety_plan_rule``, one indexed read by rule id) or a case
category that is one (a per-process cache of the published versions' case triggers, emptied on any
write to the plan tables): no running response of that plan → start one at that level (source PLAN);
a running one at a lower level → escalate it; at the same or a higher level → a TRIGGER line in the log
(for an alarm only when it is newly raised, not on every repeat). A repeat of an alarm whose response
the command post has closed starts nothing: only a newly raised alarm (or a new case) starts one. The
work runs in a savepoint: an error here is logged and never breaks the sender.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import SYSTEM
from countyos.core.hotcache import HotCache
from countyos.safety.models.events import EventSource
from countyos.safety.models.plans import LEVEL_RANK, Plan, PlanVersion, ResponseLevel, more_severe
from countyos.safety.service import events as ev
from countyos.safety.service import plans

log = logging.getLogger(__name__)

# (plan id, version id, level) per case category code, of the published versions
_CASE_TRIGGERS: HotCache[dict[str, list[tuple[int, int, ResponseLevel]]]] = HotCache(
    "safety case triggers", tables=(Plan.__tablename__, PlanVersion.__tablename__), ttl=30.0
)


def _load_case_triggers(session: Session) -> dict[str, list[tuple[int, int, ResponseLevel]]]:
    out: dict[str, list[tuple[int, int, ResponseLevel]]] = {}
    for plan, version, level, category in plans.case_triggers(session):
        out.setdefault(category, []).append((plan.id, version.id, level))
    return out


def case_triggers(session: Session) -> dict[str, list[tuple[int, int, ResponseLevel]]]:
    return _CASE_TRIGGERS.get(session, "all", lambda: _load_case_triggers(session))


def fire(
    session: Session,
    *,
    plan: Plan,
    version: PlanVersion,
    level: ResponseLevel,
    title: str,
    newly: bool,
    alarm_id: int | None = None,
    case_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Start, escalate or note the response of PLAN at LEVEL."""
    event = ev.active_for_plan(session, plan_id=plan.id)
    detail: dict[str, Any] = {"level": str(level), "alarm_id": alarm_id, "case_id": case_id}
    if event is None:
        if not newly:
            return  # a repeat of an alarm whose response was closed by the command post does not restart it
        ev.start(
            session,
            actor=SYSTEM,
            type=plan.type,
            level=level,
            title=(title if title.startswith(plan.name) else f"{plan.name}：{title}")[:200],
            plan_id=plan.id,
            version_id=version.id,
            source=EventSource.PLAN,
            alarm_id=alarm_id,
            case_id=case_id,
            at=at,
        )
    elif more_severe(level, event.level):
        ev.escalate(session, actor=SYSTEM, event_id=event.id, level=level, reason=title, at=at)
    elif newly:
        ev.trigger_again(session, event=event, text=title, detail=detail, at=at)


def on_alarm_raised(session: Session, *, alarm: Any, created: bool, rule_id: int, at: datetime | None) -> None:
    """A sensing rule raised (or repeated) an alarm: if the rule is a plan level's trigger, start the
    response at that level or escalate the running one."""
    try:
        found = ev.rule_lookup(session, rule_id)
        if found is None:
            return
        plan, version, level = found
        with session.begin_nested():
            fire(
                session,
                plan=plan,
                version=version,
                level=level,
                title=str(getattr(alarm, "title", "")),
                newly=created,
                alarm_id=getattr(alarm, "id", None),
                at=at,
            )
    except Exception:  # never break the sender
        log.warning("safety: the plan trigger of rule %s failed", rule_id, exc_info=True)


def on_case_created(session: Session, *, case: Any, category_code: str, actor: Any) -> None:
    """A case was created: if its category is a plan level's trigger, start or escalate the response."""
    try:
        hits = case_triggers(session).get(category_code)
        if not hits:
            return
        # the most severe level of each plan this category triggers
        best: dict[int, tuple[int, ResponseLevel]] = {}
        for plan_id, version_id, level in hits:
            if plan_id not in best or LEVEL_RANK[level] > LEVEL_RANK[best[plan_id][1]]:
                best[plan_id] = (version_id, level)
        with session.begin_nested():
            for plan_id, (version_id, level) in best.items():
                plan = session.get(Plan, plan_id)
                version = session.get(PlanVersion, version_id)
                if plan is None or version is None:
                    continue
                title = f"{getattr(case, 'number', '') or ''} {getattr(case, 'description', '') or ''}".strip()
                fire(
                    session,
                    plan=plan,
                    version=version,
                    level=level,
                    title=title[:120],
                    newly=True,
                    case_id=getattr(case, "id", None),
                )
    except Exception:  # never break the sender
        log.warning("safety: the plan trigger of case category %s failed", category_code, exc_info=True)
