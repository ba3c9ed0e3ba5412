"""电子监察 under /api/v1/services: the warnings (表11) with feedback and 督办, and the rules.

Supervisors (``services.application.supervise``) see every warning and change the rules; a
department's handlers (``services.application.handle``) see and answer their department's warnings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.core.paging import Paged
from countyos.core.workcal import calendar
from countyos.services import schemas
from countyos.services.api.common import Page, PathId, Person
from countyos.services.models import (
    Application,
    RuleKind,
    SupervisionRule,
    SupervisionWarning,
    WarningLevel,
    WarningState,
)
from countyos.services.service import supervision, supervision_rules
from countyos.services.service.supervision import WarningAction, WarningFilter
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Supervisor = Annotated[Auth, Depends(require(supervision.SUPERVISE))]


def day_start(d: date | None) -> datetime | None:
    """The start of a county day (filters are days as people say them)."""
    return datetime.combine(d, time(0), tzinfo=calendar().tz) if d is not None else None


def warnings_out(
    session: Any, actor: Actor, rows: list[SupervisionWarning], *, with_history: bool = False
) -> list[schemas.WarningOut]:
    """Rules, applications and departments by one query each (no query per warning)."""
    from countyos.org.models import Department

    rule_ids = {w.rule_id for w in rows}
    app_ids = {w.application_id for w in rows} - {None}
    dep_ids = {w.department_id for w in rows} - {None}
    rules = (
        {r.id: r for r in session.scalars(select(SupervisionRule).where(SupervisionRule.id.in_(rule_ids)))}
        if rule_ids
        else {}
    )
    numbers = (
        dict(session.execute(select(Application.id, Application.number).where(Application.id.in_(app_ids))).all())
        if app_ids
        else {}
    )
    deps = (
        dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(dep_ids))).all())
        if dep_ids
        else {}
    )
    return [
        schemas.WarningOut(
            id=w.id,
            number=w.number,
            rule_id=w.rule_id,
            rule_code=rules[w.rule_id].code,
            kind=rules[w.rule_id].kind,
            level=w.level,
            state=w.state,
            application_id=w.application_id,
            application_number=numbers.get(w.application_id),
            department_id=w.department_id,
            department_name=deps.get(w.department_id),
            reason=supervision.reason_text(w),
            raised_at=w.raised_at,
            level_at=w.level_at,
            cleared_at=w.cleared_at,
            feedback=w.feedback,
            feedback_at=w.feedback_at,
            supervision=w.supervision,
            supervised_at=w.supervised_at,
            version=w.version,
            allowed_actions=supervision.allowed_actions(actor, w),
            history=[schemas.WarningEventOut.model_validate(e) for e in supervision.history(session, warning_id=w.id)]
            if with_history
            else None,
        )
        for w in rows
    ]


@router.get("/warnings", response_model=Paged[schemas.WarningOut])
def list_warnings(
    session: ReadSession,
    a: Person,
    page: Page,
    state: WarningState | None = None,
    active: bool = False,
    level: WarningLevel | None = None,
    department_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    kind: RuleKind | None = None,
    application_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    since: date | None = None,
    until: date | None = None,
) -> Paged[schemas.WarningOut]:
    """电子监察 warnings, red first then the newest: supervisors see all, a department's handlers their
    department's. ``active``: every state but cleared; ``since``/``until``: raised on those county days
    (``until`` included)."""
    f = WarningFilter(
        state=state,
        active=active,
        level=level,
        department_id=department_id,
        kind=kind,
        application_id=application_id,
        since=day_start(since),
        until=day_start(until + timedelta(days=1)) if until else None,
    )
    rows, total = supervision.listing(session, actor=a.actor, f=f, limit=page.limit, offset=page.offset)
    return Paged(items=warnings_out(session, a.actor, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/warnings/{warning_id}", response_model=schemas.WarningOut)
def get_warning(warning_id: PathId, session: ReadSession, a: Person) -> schemas.WarningOut:
    w = supervision.get(session, actor=a.actor, warning_id=warning_id)
    return warnings_out(session, a.actor, [w], with_history=True)[0]


@router.post("/warnings/{warning_id}/{action}", response_model=schemas.WarningOut)
def warning_action(
    warning_id: PathId, action: WarningAction, body: schemas.WarningActionIn, session: WriteSession, a: Person
) -> schemas.WarningOut:
    """``feedback`` (the responsible department) or ``supervise`` (督办, a supervisor; recorded on the
    application too). The body carries the ``version`` seen and the ``note``. 409
    ``transition_not_allowed`` lists the ``allowed_actions``; 409 ``stale_version`` when someone acted first."""
    w = supervision.act(session, actor=a.actor, warning_id=warning_id, action=action, data=body)
    return warnings_out(session, a.actor, [w], with_history=True)[0]


@router.get("/supervision/rules", response_model=list[schemas.RuleOut])
def get_rules(session: ReadSession, a: Supervisor) -> list[schemas.RuleOut]:
    return [schemas.RuleOut.model_validate(r) for r in supervision_rules.all_rules(session)]


@router.put("/supervision/rules", response_model=list[schemas.RuleOut])
def put_rules(body: schemas.RulesIn, session: WriteSession, a: Supervisor) -> list[schemas.RuleOut]:
    """Change rules (by ``id``) or add new ones (with a ``kind``, no ``id``); rules are never deleted, only
    disabled. A refusal is a 422 problem naming ``rules.<i>.<field>``."""
    return [schemas.RuleOut.model_validate(r) for r in supervision.update_rules(session, actor=a.actor, data=body)]
