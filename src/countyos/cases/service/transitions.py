"""The one function that changes a case's state: ``apply``.

It asks the transition table (``lifecycle``) whether the actor's role may take the action, checks the
version the caller saw, applies the action's effects, moves the step clock, writes the timeline entry
and the audit record — all in the caller's transaction. An action the case's state allows, but not to
the caller, is a 403; an action the state does not allow at all is a 409; both list the actions the
caller may take. A stale version is a 409 too. The action arrives as ``schemas.ActionIn``, the one model
of the API body and the page forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from countyos.cases import lifecycle
from countyos.cases.lifecycle import STATE_STEP, Action, Role, State
from countyos.cases.models import (
    AttachmentStage,
    Case,
    DispatchRecord,
    Reporter,
    Supervision,
    SupervisionLevel,
)
from countyos.cases.schemas import ActionIn
from countyos.cases.service import attachments, cases, location, notify, people, routing, timers
from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, ValidationFailed
from countyos.core.workcal import TimeUnit
from countyos.org.service import audit, departments


class TransitionNotAllowed(errors.TransitionNotAllowed):
    code = "transition_not_allowed"
    title = "This action is not allowed in the case's current state"


class ActionForbidden(errors.ActionForbidden):
    """The case's state allows the action, but none of the caller's roles on this case may take it."""


class StaleCase(Conflict):
    code = "stale_version"
    title = "The case was changed by someone else"

    def __init__(self, message: str | None = None, /, *, current_version: int | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.current_version = current_version

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version} if self.current_version is not None else {}


def acting_roles(session: Session, actor: Actor, case: Case) -> list[Role]:
    """The actor's roles that apply to this case (object level: a handler only for its department's
    case, an inspector only for the task given to them or a case of their grid)."""
    out = []
    for role in lifecycle.roles_of(actor.permissions):
        if role is Role.HANDLER and (actor.department_id is None or actor.department_id != case.department_id):
            continue
        if role is Role.INSPECTOR and not _inspector_may(session, actor, case):
            continue
        out.append(role)
    return out


def _inspector_may(session: Session, actor: Actor, case: Case) -> bool:
    if actor.id is None:
        return False
    if case.assignee_id is not None:
        return case.assignee_id == actor.id
    return bool(case.grid_code) and case.grid_code in location.grids_of_worker(session, user_id=actor.id)


def allowed_actions(session: Session, actor: Actor, case: Case, extra_roles: list[Role] | None = None) -> list[str]:
    roles = acting_roles(session, actor, case) + list(extra_roles or [])
    return [str(a) for a in lifecycle.allowed(case.state, roles)]


def apply(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    data: ActionIn,
    as_role: Role | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Take ``data.action`` on the case as ``actor``. ``as_role`` is only for the reporter's page;
    ``context`` is what caused the action (kept on the timeline entry)."""
    now = now or utcnow()
    case = cases.get(session, case_id=case_id)
    if data.version is not None and data.version != case.version:
        raise StaleCase(
            "Case %(number)s was changed by someone else (version %(theirs)s, you saw %(yours)s); reload it",
            number=case.number,
            theirs=case.version,
            yours=data.version,
            current_version=case.version,
        )
    roles = [as_role] if as_role is not None else acting_roles(session, actor, case)
    allowed_roles = lifecycle.roles_for(case.state, data.action)
    role = next((r for r in roles if r in allowed_roles), None)
    target = lifecycle.next_state(case.state, data.action, role, case.resume_state) if role else None
    if role is None and allowed_roles:
        raise ActionForbidden(
            "You may not take the action %(action)s on this case",
            action=str(data.action),
            allowed=[str(a) for a in lifecycle.allowed(case.state, roles)],
            current_state=str(case.state),
        )
    if role is None or target is None:
        raise TransitionNotAllowed(
            "%(action)s is not allowed for you on a case in state %(state)s",
            action=str(data.action),
            state=str(case.state),
            allowed=[str(a) for a in lifecycle.allowed(case.state, roles)],
            current_state=str(case.state),
        )
    before_state, before_deadline, before_step = State(case.state), case.step_deadline, case.step
    number = case.number
    case.version += 1
    try:
        context = dict(context or {})
        _effects(session, actor, case, data, role, now, context)
        case.state = target
        case.is_open = lifecycle.is_open(target)
        if target is not before_state and data.action in lifecycle.REQUEST_ACTIONS:
            case.resume_state = before_state
        elif data.action not in lifecycle.REQUEST_ACTIONS:
            case.resume_state = None
        new_step = STATE_STEP.get(target) if case.is_open else None
        restart = data.action in (Action.REDISPATCH, Action.CHECK_FAIL)
        if new_step != before_step or restart:
            timers.start_step(session, case, new_step, now)
        _timing_after(case, data.action, now)
        session.flush()
    except StaleDataError as exc:
        raise StaleCase("Case %(number)s was changed by someone else; reload it", number=number) from exc
    cases.add_event(
        session,
        case=case,
        actor=actor,
        role=str(role),
        action=str(data.action),
        from_state=before_state,
        to_state=target,
        comment=(data.comment or "").strip() or None,
        internal=data.internal or data.action is Action.COMMENT,
        attachment_ids=data.attachment_ids,
        context=context,
        at=now,
        deadline_before=before_deadline,
        deadline_after=case.step_deadline,
    )
    audit.record(
        session,
        actor=actor,
        action=f"case.{data.action}",
        target_type="case",
        target_id=case.number,
        detail={"from": str(before_state), "to": str(target), "role": str(role), **_audit_context(context)},
    )
    _notify(session, case, data.action, now)
    if data.action is Action.FEEDBACK:  # the optional automatic checking rule (off by default)
        from countyos.cases.service import autocheck

        case = autocheck.after_feedback(session, case=case, now=now) or case
    return case


def _audit_context(context: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in context.items()
        if k in ("department_id", "overridden", "extension", "level", "into", "result", "from", "to", "rule")
    }


def _need(value: Any, field_name: str, message: str) -> None:
    if value is None:
        raise ValidationFailed(message, errors=[{"field": field_name, "message": "required"}])


def _effects(
    session: Session, actor: Actor, case: Case, data: ActionIn, role: Role, now: datetime, ctx: dict[str, Any]
) -> None:
    a = data.action
    stage = attachments.STAGE_OF_ACTION.get(a, AttachmentStage.REPORT)
    claimed = [
        attachments.claim(session, actor=actor, attachment_id=att_id, case_id=case.id, stage=stage)
        for att_id in data.attachment_ids
    ]
    needed = attachments.required_stage(case.category, a)
    if needed is not None and not any(att.is_image and att.stage is needed for att in claimed):
        raise ValidationFailed(
            "This category needs a photo with this step; add one",
            errors=[{"field": "photos", "message": attachments.PHOTO_REQUIRED}],
        )
    if claimed:
        ctx["stage"] = str(stage)
    if a is Action.ACCEPT:
        case.accepted_at = now
    elif a is Action.SELF_CLOSE:
        case.accepted_at = case.accepted_at or now
        case.closed_at, case.closed_in_time, case.self_handled = now, True, True
    elif a is Action.SEND_VERIFY or a is Action.SEND_CHECK:
        assignee = data.assignee_id or _default_inspector(session, case)
        _need(assignee, "assignee_id", "Choose the inspector who will go and look")
        case.assignee_id = assignee
        ctx["assignee_id"] = assignee
    elif a is Action.VERIFY:
        _need(data.result, "result", "Say whether the report is true")
        case.verified, case.assignee_id = data.result, None
        ctx["result"] = data.result
    elif a is Action.REGISTER:
        case.registered_at, case.register_deadline = now, case.step_deadline
    elif a in (Action.DISPATCH, Action.REDISPATCH):
        _dispatch(session, actor, case, data, now, ctx)
    elif a is Action.APPROVE_RETURN:
        ctx["returned_by_department_id"] = case.department_id
        case.department_id, case.co_department_ids, case.co_tags = None, [], None
    elif a is Action.REQUEST_EXTENSION:
        _need(data.amount, "amount", "Say how much more time is needed")
        unit = data.unit or TimeUnit.WORKING_DAYS
        if not 0 < (data.amount or 0) <= 60:
            raise ValidationFailed("An extension is more than 0 and at most 60")
        ctx["extension"] = [data.amount, str(unit)]
    elif a is Action.APPROVE_EXTENSION:
        amount, unit = _requested_extension(session, case)
        if data.amount is not None:
            amount, unit = data.amount, data.unit or unit
        if not 0 < amount <= 60:
            raise ValidationFailed("An extension is more than 0 and at most 60")
        timers.extend(case, amount, unit)
        ctx["extension"] = [amount, str(unit)]
    elif a is Action.APPROVE_SUSPENSION:
        timers.pause(case, now)
    elif a is Action.RESUME:
        timers.resume(case, now)
    elif a is Action.FEEDBACK:
        case.handled_at, case.handle_deadline = now, case.step_deadline
        case.handled_in_time = case.step_deadline is None or now <= case.step_deadline
    elif a is Action.CHECK_PASS:
        case.assignee_id = None
    elif a is Action.CHECK_FAIL:
        case.assignee_id = None
        case.rework_count += 1
        ctx["rework"] = case.rework_count
    elif a is Action.CLOSE:
        case.closed_at = now
        case.closed_in_time = bool(case.handled_in_time) and (case.step_deadline is None or now <= case.step_deadline)
    elif a is Action.RATE:
        _need(data.satisfaction, "satisfaction", "Choose how satisfied you are")
        case.satisfaction, case.rated_at = data.satisfaction, now
        case.satisfaction_comment = (data.comment or "").strip()[:500] or None
        ctx["satisfaction"] = str(data.satisfaction)
    elif a is Action.APPROVE_VOID:
        case.voided_at = now
    elif a is Action.REJECT:
        if not (data.comment or "").strip():
            raise ValidationFailed("Say why the report is not accepted")
    elif a is Action.MERGE:
        _merge(session, actor, case, data, now, ctx)
    elif a is Action.RELOCATE:
        _relocate(session, case, data, ctx)
    elif a is Action.SUPERVISE:
        level = data.level or SupervisionLevel.URGE
        session.add(
            Supervision(
                case_id=case.id,
                level=level,
                note=(data.comment or "").strip() or None,
                department_id=case.department_id,
                by_id=actor.id,
                by_name=actor.name,
                at=now,
            )
        )
        ctx["level"] = str(level)


def _relocate(session: Session, case: Case, data: ActionIn, ctx: dict[str, Any]) -> None:
    """Move the case to the corrected position: its grid, village, township and area class follow; the
    deadline does not (only approved actions move a deadline), the routing suggestion does."""
    if data.lon is None or data.lat is None:
        raise ValidationFailed(
            "Give the corrected position (longitude and latitude)", errors=[{"field": "lat", "message": "required"}]
        )
    place = location.locate(session, lon=data.lon, lat=data.lat, crs=data.crs)
    ctx["from"] = {"lon": case.lon, "lat": case.lat, "grid": case.grid_code}
    ctx["to"] = {"lon": place.lon, "lat": place.lat, "grid": place.grid_code}
    case.lon, case.lat = place.lon, place.lat
    case.township_code, case.township_name = place.township_code, place.township_name
    case.village_code, case.village_name = place.village_code, place.village_name
    case.grid_code, case.area_class = place.grid_code, place.area_class or case.area_class
    if case.attributes and "location_from_address" in case.attributes:
        case.attributes = {k: v for k, v in case.attributes.items() if k != "location_from_address"}


def _timing_after(case: Case, action: Action, now: datetime) -> None:
    if action is Action.DISPATCH or action is Action.REDISPATCH:
        case.handle_deadline = case.step_deadline


def _requested_extension(session: Session, case: Case) -> tuple[float, TimeUnit]:
    from countyos.cases.models import CaseEvent

    ev = session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == Action.REQUEST_EXTENSION)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    if ev is None or "extension" not in ev.context:
        raise ValidationFailed("No extension was requested")
    amount, unit = ev.context["extension"]
    return float(amount), TimeUnit(unit)


def _default_inspector(session: Session, case: Case) -> int | None:
    if case.reporter_user_id is not None:
        return case.reporter_user_id
    workers = location.grid_worker_ids(session, grid_code=case.grid_code)
    return workers[0] if workers else None


def _dispatch(session: Session, actor: Actor, case: Case, data: ActionIn, now: datetime, ctx: dict[str, Any]) -> None:
    sug = routing.suggest(session, category=case.category, township_code=case.township_code, grid_code=case.grid_code)
    dep_id = data.department_id or (sug.department_id if sug else None)
    _need(dep_id, "department_id", "Choose the responsible department (no routing rule suggests one)")
    assert dep_id is not None
    departments.get(session, department_id=dep_id)
    if data.action is Action.REDISPATCH and dep_id == case.department_id:
        raise ValidationFailed("Reassigning needs a different department")
    co = data.co_department_ids if data.co_department_ids is not None else (sug.co_department_ids if sug else [])
    co = sorted({d for d in co if d != dep_id})
    for d in co:
        departments.get(session, department_id=d)
    overridden = sug is not None and dep_id != sug.department_id
    if overridden and not (data.comment or "").strip():
        raise ValidationFailed("Say why you chose another department than the suggested one")
    case.department_id, case.co_department_ids = dep_id, co
    case.co_tags = "," + ",".join(str(d) for d in co) + "," if co else None
    case.suggested_department_id = sug.department_id if sug else None
    if data.action is Action.DISPATCH:
        case.dispatched_at, case.dispatch_deadline = now, case.step_deadline
    session.add(
        DispatchRecord(
            case_id=case.id,
            at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            rule_id=sug.rule_id if sug else None,
            suggested_department_id=sug.department_id if sug else None,
            department_id=dep_id,
            overridden=overridden,
            reason=(data.comment or "").strip()[:500] or None,
        )
    )
    ctx.update({"department_id": dep_id, "co_department_ids": co, "overridden": overridden})
    if sug is not None:
        ctx["suggested_department_id"] = sug.department_id


def _merge(session: Session, actor: Actor, case: Case, data: ActionIn, now: datetime, ctx: dict[str, Any]) -> None:
    target_id = data.target_case_id
    if target_id is None and data.target_case_number:
        found = cases.get_by_number(session, number=data.target_case_number.strip())
        if found is None or not cases.can_see(session, actor, found):
            raise ValidationFailed(
                "There is no case %(number)s",
                number=data.target_case_number.strip(),
                errors=[{"field": "target_case_number", "message": "unknown"}],
            )
        target_id = found.id
    _need(target_id, "target_case_id", "Choose the case to merge into")
    assert target_id is not None
    if target_id == case.id:
        raise ValidationFailed(
            "Merge only into another open case", errors=[{"field": "target_case_id", "message": "the same case"}]
        )
    try:  # several merges into one case at once: each waits for the one before (its timeline number)
        target = cases.get_for_update(session, case_id=target_id)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001"):
            raise
        # PostgreSQL broke a deadlock: two cases merged into each other at the same moment
        raise StaleCase("Case %(number)s was changed by someone else; reload it", number=case.number) from exc
    if target.id == case.id or not target.is_open or target.merged_into_id is not None:
        raise ValidationFailed(
            "Merge only into another open case", errors=[{"field": "target_case_id", "message": "not open"}]
        )
    case.merged_into_id = target.id
    moved = list(session.scalars(select(Reporter).where(Reporter.case_id == case.id)))
    for rep in moved:
        rep.case_id = target.id
    ctx.update({"into": target.number, "reporters_moved": len(moved)})
    cases.add_event(
        session,
        case=target,
        actor=actor,
        role="dispatcher",
        action="merged_in",
        from_state=target.state,
        to_state=target.state,
        comment=f"{case.number}",
        context={"from": case.number},
        at=now,
        deadline_before=target.step_deadline,
        deadline_after=target.step_deadline,
    )
    if target.duplicate_of_id == case.id:
        target.duplicate_of_id = None


def keep_apart(session: Session, *, actor: Actor, case_id: int, version: int | None = None) -> Case:
    """The dispatcher decides a suspected duplicate is a separate problem."""
    case = cases.get(session, case_id=case_id)
    if not actor.can("case.dispatch") and not actor.can("case.intake"):
        raise ActionForbidden(
            "Only the operations centre may decide about duplicates", allowed=[], current_state=str(case.state)
        )
    if version is not None and version != case.version:
        raise StaleCase("Case %(number)s was changed by someone else; reload it", number=case.number)
    other = case.duplicate_of_id
    case.duplicate_of_id = None
    case.version += 1
    session.flush()
    cases.add_event(
        session,
        case=case,
        actor=actor,
        role="dispatcher",
        action="keep_apart",
        from_state=case.state,
        to_state=case.state,
        internal=True,
        context={"not_duplicate_of": other},
        deadline_before=case.step_deadline,
        deadline_after=case.step_deadline,
    )
    audit.record(session, actor=actor, action="case.keep_apart", target_type="case", target_id=case.number)
    return case


# -- who is told -----------------------------------------------------------------------------------


def responsible_user_ids(session: Session, case: Case) -> list[int]:
    """Who must act in the current step: the assigned inspector, the department's handlers, or the
    operations centre's people for the centre's own steps."""
    if case.assignee_id is not None:
        return [case.assignee_id]
    step = case.step
    if step == "handle" and case.department_id is not None:
        return [u.id for u in people.holders(session, permission="case.handle", department_id=case.department_id)]
    perm = {"accept": "case.intake", "register": "case.shift", "dispatch": "case.dispatch", "close": "case.shift"}.get(
        step or "", "case.intake"
    )
    return [u.id for u in people.holders(session, permission=perm)]


def _notify(session: Session, case: Case, action: Action, now: datetime) -> None:
    key = f"c{case.id}:v{case.version}:{action}"
    if action in (Action.DISPATCH, Action.REDISPATCH, Action.CHECK_FAIL, Action.SEND_VERIFY, Action.SEND_CHECK):
        notify.queue(
            session,
            key=key,
            kind="assigned",
            case_id=case.id,
            title=f"{case.number} {case.title}",
            body=str(action),
            user_ids=responsible_user_ids(session, case),
        )
    elif action is Action.SUPERVISE and case.department_id is not None:
        leaders = [u.id for u in people.by_role(session, role="leader", department_id=case.department_id)]
        handlers = [u.id for u in people.holders(session, permission="case.handle", department_id=case.department_id)]
        notify.queue(
            session,
            key=key,
            kind="supervision",
            case_id=case.id,
            title=f"{case.number} {case.title}",
            body="supervise",
            user_ids=handlers + leaders,
        )
    if action in (Action.ACCEPT, Action.REJECT, Action.CLOSE, Action.SELF_CLOSE, Action.MERGE, Action.APPROVE_VOID):
        # reporters hear about the steps they care about (staff reporters in-app; others see their page)
        reporter_users = [
            r.user_id
            for r in session.scalars(select(Reporter).where(Reporter.case_id == (case.merged_into_id or case.id)))
            if r.user_id is not None
        ]
        notify.queue(
            session,
            key=key,
            kind="status",
            case_id=case.id,
            title=f"{case.number} {case.title}",
            body=str(action),
            user_ids=reporter_users,
        )
