"""Applications (办件): submit, 一次性告知 and 补正, 受理/不予受理, steps across departments, 特别程序,
办结, 送达, 撤回 — every move through ``lifecycle.apply`` (the one transition table).

``act`` is the one function that changes an application: it checks the version the caller saw (of two
concurrent actions exactly one wins; the loser gets a 409), resolves the caller's roles on this
application (a step handler only for the current step's department), asks the table, applies the
action's effects, writes one timeline row and one audit record — all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import FieldCipher, mask_phone
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.service import audit
from countyos.services import deadlines, lifecycle, numbering
from countyos.services.codes import ApplicationKind, HandlingForm
from countyos.services.lifecycle import Action, Decision, Position, Role, State, StepStatus
from countyos.services.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationSpecial,
    ApplicationStep,
    MaterialForm,
    Matter,
    MatterStatus,
    MatterVersion,
    NumberCounter,
)
from countyos.services.schemas import (
    ActionBase,
    ApplicationIn,
    DeliverIn,
    EndSpecialIn,
    ImmediateIn,
    MaterialReceivedIn,
    RejectIn,
    ResubmitIn,
    ResultIn,
    StartSpecialIn,
    StepActionIn,
)

WINDOW = "services.application.window"
AGENT = "services.application.agent"
HANDLE = "services.application.handle"
SUPERVISE = "services.application.supervise"
PII = "services.application.pii"
APPLY = "services.application.apply"

STAFF = (WINDOW, HANDLE, SUPERVISE)
MAX_PAGE = 200
MAX_FILE_BYTES = 10_000_000  # the attachment store's own bound


class StaleApplication(Conflict):
    code = "stale_version"
    title = N_("The application was changed by someone else")

    def __init__(self, message: str | None = None, /, *, current_version: int | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.current_version = current_version

    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version} if self.current_version is not None else {}


class ActionForbidden(errors.ActionForbidden):
    """The state allows the action, but none of the caller's roles on this application may take it."""


# ── people, crypto ───────────────────────────────────────────────────────────────────────────────────


def _cipher() -> FieldCipher:  # the cases domain's field cipher (SM4-GCM + keyed blind index), one key per county
    from countyos.cases.service import people

    return people.cipher()


def mask_id(value: str) -> str:
    """110***********1234: keep the first three and the last four characters."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def id_number(app: Application) -> str:
    return _cipher().decrypt(app.id_number_enc)


def phone(app: Application) -> str | None:
    return _cipher().decrypt(app.phone_enc) if app.phone_enc else None


def sees_pii(actor: Actor, app: Application) -> bool:
    return actor.can(PII) or (actor.id is not None and actor.id == app.applicant_user_id)


def shown_id_number(actor: Actor, app: Application) -> str:
    value = id_number(app)
    return value if sees_pii(actor, app) else mask_id(value)


def shown_phone(actor: Actor, app: Application) -> str | None:
    value = phone(app)
    return value if value is None or sees_pii(actor, app) else mask_phone(value)


# ── reading ──────────────────────────────────────────────────────────────────────────────────────────


def version_of(session: Session, app: Application) -> MatterVersion:
    v = session.get(MatterVersion, app.matter_version_id)
    assert v is not None
    return v


def steps_of(session: Session, app: Application) -> list[ApplicationStep]:
    return list(
        session.scalars(
            select(ApplicationStep).where(ApplicationStep.application_id == app.id).order_by(ApplicationStep.id)
        )
    )


def specials_of(session: Session, app: Application) -> list[ApplicationSpecial]:
    return list(
        session.scalars(
            select(ApplicationSpecial)
            .where(ApplicationSpecial.application_id == app.id)
            .order_by(ApplicationSpecial.id)
        )
    )


def timeline(session: Session, *, application_id: int) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application_id)
            .order_by(ApplicationEvent.id)
        )
    )


def current_step_department(session: Session, app: Application) -> int | None:
    if app.step is None:
        return None
    version = version_of(session, app)
    if app.step < len(version.steps):
        return version.steps[app.step].department_id
    return version.department_id  # a matter without steps: its responsible department decides


def roles_on(session: Session, actor: Actor, app: Application) -> list[Role]:
    """The actor's roles on this application (object level)."""
    out: list[Role] = []
    if actor.id is not None and actor.id == app.applicant_user_id:
        out.append(Role.APPLICANT)
    if (
        actor.can(AGENT)
        and actor.id is not None
        and app.submitted_role == Role.AGENT
        and (
            actor.id == app.submitted_by_id
            or (actor.department_id is not None and actor.department_id == app.submitted_by_department_id)
        )
    ):
        out.append(Role.AGENT)
    if actor.can(WINDOW):
        out.append(Role.WINDOW)
    if (
        actor.can(HANDLE)
        and actor.department_id is not None
        and actor.department_id == current_step_department(session, app)
    ):
        out.append(Role.STEP_HANDLER)
    if actor.can(SUPERVISE):
        out.append(Role.SUPERVISOR)
    return out


def may_read(session: Session, actor: Actor, app: Application) -> bool:
    if actor.can(WINDOW) or actor.can(SUPERVISE) or roles_on(session, actor, app):
        return True
    if actor.can(HANDLE) and actor.department_id is not None:  # once it has reached one of the department's steps
        reached = select(ApplicationStep.id).where(
            ApplicationStep.application_id == app.id, ApplicationStep.department_id == actor.department_id
        )
        return session.scalar(reached.limit(1)) is not None
    return False


def get(session: Session, *, actor: Actor, application_id: int) -> Application:
    """The application if the actor may see it; otherwise 'not found' (its existence stays private)."""
    app = session.get(Application, application_id)
    if app is None or not may_read(session, actor, app):
        raise NotFound(N_("No such application"))
    return app


def allowed_actions(session: Session, actor: Actor, app: Application) -> list[str]:
    return [str(a) for a in lifecycle.allowed(app.state, roles_on(session, actor, app))]


def listing(
    session: Session,
    *,
    actor: Actor,
    state: State | None = None,
    matter_id: int | None = None,
    number: str | None = None,
    inbox: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Application], int]:
    """Applications the actor may see, newest first. ``inbox``: those waiting at the actor's department's step."""
    stmt = select(Application)
    if not (actor.can(WINDOW) or actor.can(SUPERVISE)):
        mine = [Application.applicant_user_id == actor.id] if actor.id is not None else []
        if actor.can(AGENT) and actor.id is not None:
            mine.append(Application.submitted_by_id == actor.id)
            if actor.department_id is not None:
                mine.append(Application.submitted_by_department_id == actor.department_id)
        if actor.can(HANDLE) and actor.department_id is not None:
            mine.append(
                Application.id.in_(
                    select(ApplicationStep.application_id).where(ApplicationStep.department_id == actor.department_id)
                )
            )
        if not mine:
            return [], 0
        from sqlalchemy import or_

        stmt = stmt.where(or_(*mine))
    if inbox:
        if actor.department_id is None:
            return [], 0
        stmt = stmt.where(
            Application.id.in_(
                select(ApplicationStep.application_id).where(
                    ApplicationStep.department_id == actor.department_id,
                    ApplicationStep.status == StepStatus.PENDING,
                )
            )
        )
    if state is not None:
        stmt = stmt.where(Application.state == state)
    if matter_id is not None:
        stmt = stmt.where(Application.matter_id == matter_id)
    if number:
        stmt = stmt.where(Application.number == number)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Application.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset))
    return list(rows), total


def missing_materials(app: Application) -> list[ApplicationMaterial]:
    """Every required material not yet received (the 一次性告知 lists all of them at once)."""
    return [m for m in app.materials if m.required and not m.received]


# ── numbers ──────────────────────────────────────────────────────────────────────────────────────────


def next_seq(session: Session, *, scope: str) -> int:
    """The next sequence for a numbering scope, from its counter row (locked by the update)."""
    for _ in range(3):
        row = session.execute(
            update(NumberCounter)
            .where(NumberCounter.scope == scope)
            .values(value=NumberCounter.value + 1)
            .returning(NumberCounter.value)
        ).first()
        if row is not None:
            return int(row[0])
        try:
            with session.begin_nested():
                session.add(NumberCounter(scope=scope, value=1))
                session.flush()
            return 1
        except IntegrityError:
            continue  # created by a concurrent transaction: take the update path
    raise Conflict(N_("The number counter is busy; try again"))


def _division(session: Session) -> str:
    from countyos.geo.service import divisions

    county = divisions.the_county(session)
    return county.code if county is not None else "000000"


def _dept_short(session: Session, department_id: int | None) -> str:
    from countyos.org.models import Department

    dep = session.get(Department, department_id) if department_id else None
    name = "".join(ch for ch in (dep.name if dep else "") if not ch.isspace() and ch not in "{}#")
    return name.removeprefix("县")[:10] or "政务服务"


def _number(session: Session, rule: str, at: datetime, **values: str) -> str:
    parsed = numbering.Rule.parse(rule)
    seq = next_seq(session, scope=parsed.scope(at=at, **values))
    return parsed.render(seq=seq, at=at, **values)


# ── deadlines ────────────────────────────────────────────────────────────────────────────────────────


def limit_of(version: MatterVersion) -> deadlines.Limit:
    return deadlines.Limit(int(version.promised_limit or 0), version.promised_limit_unit)


def _intervals(session: Session, app: Application) -> list[deadlines.Interval]:
    return [
        deadlines.Interval(s.started_at, s.ended_at)
        for s in specials_of(session, app)
        if app.clock_started_at is None or s.started_at >= app.clock_started_at
    ]


def recompute_due(session: Session, app: Application) -> None:
    """承诺办结时间: from the count's start (acceptance, or the last complete 补正) pushed by every ended
    特别程序. While a procedure runs, the due time stays as it was (its end is not known)."""
    if app.clock_started_at is None:
        return
    intervals = _intervals(session, app)
    if any(i.end is None for i in intervals):
        return
    app.due_at = deadlines.due_at(
        limit_of(version_of(session, app)), accepted_at=app.clock_started_at, special=intervals
    )


def deadline(session: Session, app: Application, *, now: datetime | None = None) -> deadlines.Deadline | None:
    """The limit's state now while the clock runs or is stopped (None before 受理 and once it ended)."""
    if app.clock_started_at is None or lifecycle.clock(app.state) in (
        lifecycle.Clock.NOT_STARTED,
        lifecycle.Clock.ENDED,
    ):
        return None
    return deadlines.deadline(
        limit_of(version_of(session, app)),
        accepted_at=app.clock_started_at,
        now=now or utcnow(),
        special=_intervals(session, app),
    )


# ── submit ───────────────────────────────────────────────────────────────────────────────────────────


def _submitter_role(actor: Actor) -> Role:
    if actor.can(WINDOW):
        return Role.WINDOW
    if actor.can(AGENT):
        return Role.AGENT
    return Role.APPLICANT


def _set_materials(
    app: Application, version: MatterVersion, given: list[MaterialReceivedIn], now: datetime, *, field: str
) -> None:
    known = {m.id: m for m in version.materials}
    rows = {m.material_id: m for m in app.materials}
    for i, g in enumerate(given):
        if g.material_id not in known:
            raise ValidationFailed(
                N_("This material is not on the matter's list"),
                errors=[
                    {
                        "field": f"{field}.{i}.material_id",
                        "message": gettext(N_("This material is not on the matter's list")),
                    }
                ],
            )
        row = rows[g.material_id]
        row.received = g.received and g.count > 0
        row.form = g.form if row.received else None
        row.count = g.count if row.received else 0
        row.received_at = now if row.received else None


def create(session: Session, *, actor: Actor, data: ApplicationIn, now: datetime | None = None) -> Application:
    """A new application (a draft, or submitted at once) under the matter's current version."""
    now = now or utcnow()
    matter = session.get(Matter, data.matter_id)
    if matter is None or matter.status != MatterStatus.PUBLISHED or matter.current is None:
        raise NotFound(N_("No such matter"))
    version = matter.current
    role = _submitter_role(actor)
    if role is Role.APPLICANT and actor.id is None:
        raise PermissionDenied(N_("Log in to apply"))
    if role is Role.APPLICANT and not actor.can(APPLY):
        raise PermissionDenied(N_("Your account may not apply online"))
    if role is Role.APPLICANT and not version.online:
        raise ValidationFailed(
            N_("This matter cannot be applied for online; apply at the window"),
            errors=[
                {
                    "field": "matter_id",
                    "message": gettext(N_("This matter cannot be applied for online; apply at the window")),
                }
            ],
        )
    if role is Role.AGENT and data.consent is None:
        msg = N_("An agent submits only with the applicant's recorded consent")
        raise ValidationFailed(msg, errors=[{"field": "consent", "message": gettext(msg)}])
    if data.consent is not None and data.consent.at > now:
        msg = N_("The consent cannot be in the future")
        raise ValidationFailed(msg, errors=[{"field": "consent.at", "message": gettext(msg)}])
    source = data.source or (HandlingForm.WINDOW if role is not Role.APPLICANT else HandlingForm.ONLINE_PC)
    c = _cipher()
    app = Application(
        number=_number(session, numbering.APPLICATION_DEFAULT, now, division=_division(session)),
        matter_id=matter.id,
        matter_version_id=version.id,
        department_id=version.department_id,
        applicant_name=data.applicant_name,
        applicant_kind=data.applicant_kind,
        id_type=data.id_type,
        id_number_enc=c.encrypt(data.id_number),
        id_number_index=c.blind_index(data.id_number),
        phone_enc=c.encrypt(data.phone) if data.phone else None,
        phone_index=c.blind_index(data.phone) if data.phone else None,
        address=data.address or None,
        source=source,
        applicant_user_id=actor.id if role is Role.APPLICANT else None,
        submitted_role=str(role),
        submitted_by_id=actor.id,
        submitted_by_department_id=actor.department_id,
        consent_by=data.consent.given_by if data.consent else None,
        consent_way=data.consent.way if data.consent else None,
        consent_at=data.consent.at if data.consent else None,
        consent_note=data.consent.note if data.consent else None,
        state=str(State.DRAFT),
        version=1,
        corrections=0,
        created_at=now,
    )
    app.materials = [
        ApplicationMaterial(
            material_id=m.id, position=m.position, name=m.name, required=m.required, received=False, count=0
        )
        for m in version.materials
    ]
    _set_materials(app, version, data.materials, now, field="materials")
    session.add(app)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="services.application.create",
        target_type="services_application",
        target_id=app.number,
        detail={
            "matter_id": matter.id,
            "version": version.number,
            "role": str(role),
            "agent_consent": data.consent is not None,
        },
    )
    if not data.draft:
        pos = lifecycle.apply(Position(State.DRAFT), Action.SUBMIT, role, steps=max(len(version.steps), 1))
        app.state, app.submitted_at = str(pos.state), now
        session.flush()
        _event(session, app, actor, role, Action.SUBMIT, Position(State.DRAFT), now, None, {}, after=pos)
    return app


# ── actions ──────────────────────────────────────────────────────────────────────────────────────────


def act(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    action: Action,
    data: ActionBase,
    now: datetime | None = None,
) -> Application:
    """Take ``action`` on the application as ``actor`` (see the module docstring)."""
    now = now or utcnow()
    app = session.get(Application, application_id)
    if app is None or not may_read(session, actor, app):
        raise NotFound(N_("No such application"))
    if data.version != app.version:
        raise StaleApplication(
            N_("Application %(number)s was changed by someone else (version %(theirs)s, you saw %(yours)s); reload it"),
            number=app.number,
            theirs=app.version,
            yours=data.version,
            current_version=app.version,
        )
    version = version_of(session, app)
    roles = roles_on(session, actor, app)
    table_roles = lifecycle.roles_for(app.state, action)
    role = next((r for r in roles if r in table_roles), None)
    allowed = [str(a) for a in lifecycle.allowed(app.state, roles)]
    if role is None and table_roles:
        raise ActionForbidden(
            N_("You may not take the action %(action)s on this application"),
            action=lifecycle.ACTION_LABELS[action],
            allowed=allowed,
            current_state=app.state,
        )
    if role is None:
        raise lifecycle.TransitionNotAllowed(
            N_("%(action)s is not allowed on an application that is %(state)s"),
            action=lifecycle.ACTION_LABELS[action],
            state=lifecycle.LABELS[app.state],
            allowed=allowed,
            current_state=app.state,
        )
    steps = max(len(version.steps), 1)
    before = Position(State(app.state), app.step)
    result = _result_of(action, data, before, steps)
    after = lifecycle.apply(before, action, role, steps=steps, decision=result.decision if result is not None else None)
    detail: dict[str, Any] = {}
    number = app.number
    app.version += 1
    try:
        _effects(session, actor, app, version, action, data, role, before, after, result, now, detail)
        app.state, app.step = str(after.state), after.step
        if not lifecycle.is_open(after.state) and app.closed_at is None and after.state != State.DELIVERED:
            app.closed_at = now
        session.flush()
    except StaleDataError as exc:
        raise StaleApplication(
            N_("Application %(number)s was changed by someone else; reload it"), number=number
        ) from exc
    _event(session, app, actor, role, action, before, now, data.note, detail, after=after)
    audit.record(
        session,
        actor=actor,
        action=f"services.application.{action}",
        target_type="services_application",
        target_id=app.number,
        detail={"from": str(before.state), "to": str(after.state), "role": str(role), **detail},
    )
    return app


def _result_of(action: Action, data: ActionBase, before: Position, steps: int) -> ResultIn | None:
    if isinstance(data, ImmediateIn):
        return data.result
    if isinstance(data, StepActionIn):
        last = action is Action.PASS and before.step is not None and before.step + 1 >= steps
        if last and data.result is None:
            msg = N_("Approving the last step concludes the application: give the decision")
            raise ValidationFailed(msg, errors=[{"field": "result", "message": gettext(msg)}])
        if not last and data.result is not None:
            msg = N_("Only the last step's approval carries the decision")
            raise ValidationFailed(msg, errors=[{"field": "result", "message": gettext(msg)}])
        return data.result
    return None


def _effects(
    session: Session,
    actor: Actor,
    app: Application,
    version: MatterVersion,
    action: Action,
    data: ActionBase,
    role: Role,
    before: Position,
    after: Position,
    result: ResultIn | None,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    if action is Action.SUBMIT:
        app.submitted_at = now
    elif action is Action.REQUEST_CORRECTION:
        missing = missing_materials(app)
        if not missing:
            msg = N_("Every required material has been received; nothing to correct")
            raise ValidationFailed(msg, errors=[{"field": "materials", "message": gettext(msg)}])
        app.corrections += 1
        detail["missing"] = [m.name for m in missing]
    elif action is Action.RESUBMIT:
        assert isinstance(data, ResubmitIn)
        _set_materials(app, version, data.materials, now, field="materials")
        if before.state is State.SUPPLEMENT_REQUESTED:
            app.clock_started_at = now  # CorrectionPolicy.RESTART: the count starts again in full
            recompute_due(session, app)
            _open_step(session, app, version, 0, now)
    elif action in (Action.ACCEPT, Action.ACCEPT_IMMEDIATE):
        missing = missing_materials(app)
        if missing:
            msg = N_("Required materials are missing: %(names)s")
            names = "、".join(m.name for m in missing)
            raise ValidationFailed(
                msg, names=names, errors=[{"field": "materials", "message": gettext(msg, names=names)}]
            )
        if action is Action.ACCEPT and version.application_kind is ApplicationKind.IMMEDIATE:
            detail["immediate_matter_accepted_as_promised"] = True
        app.accepted_at = app.clock_started_at = now
        app.receipt_number = _number(
            session, numbering.RECEIPT_DEFAULT, now, dept_short=_dept_short(session, version.department_id)
        )
        detail["receipt_number"] = app.receipt_number
        recompute_due(session, app)
        if action is Action.ACCEPT:
            _open_step(session, app, version, 0, now)
        else:
            assert result is not None
            _conclude(app, result, now)
    elif action is Action.REJECT:
        assert isinstance(data, RejectIn)
        app.rejection_reason = data.reason
    elif action in (Action.PASS, Action.RETURN, Action.STEP_OTHER):
        assert isinstance(data, StepActionIn)
        step = _pending_step(session, app)
        step.action, step.opinion, step.handler_id = str(action), data.opinion, actor.id
        detail["step"] = step.name
        if action is not Action.STEP_OTHER:
            step.status, step.ended_at = str(StepStatus.DONE), now
        if after.state is State.IN_PROGRESS and action is not Action.STEP_OTHER:
            assert after.step is not None
            _open_step(session, app, version, after.step, now)
        if after.state is State.DECIDED:
            assert result is not None
            _conclude(app, result, now)
    elif action is Action.START_SPECIAL:
        assert isinstance(data, StartSpecialIn)
        session.add(
            ApplicationSpecial(
                application_id=app.id, kind=data.kind, reason=data.reason, started_at=now, started_by_id=actor.id
            )
        )
        detail["kind"] = str(data.kind)
    elif action is Action.END_SPECIAL:
        assert isinstance(data, EndSpecialIn)
        running = [s for s in specials_of(session, app) if s.ended_at is None]
        for s in running:
            s.ended_at, s.result = now, data.result
        session.flush()
        old_due = app.due_at
        recompute_due(session, app)
        detail["due_before"] = old_due.isoformat() if old_due else None
        detail["due_after"] = app.due_at.isoformat() if app.due_at else None
    elif action is Action.DELIVER:
        assert isinstance(data, DeliverIn)
        app.delivery_method, app.tracking_number, app.delivered_at = str(data.method), data.tracking_number, now
        detail["method"] = str(data.method)
    elif action in (Action.WITHDRAW, Action.LAPSE):
        for st in steps_of(session, app):
            if st.status == StepStatus.PENDING:
                st.ended_at = now


def _pending_step(session: Session, app: Application) -> ApplicationStep:
    for s in reversed(steps_of(session, app)):
        if s.status == StepStatus.PENDING and s.position == app.step:
            return s
    raise Conflict(N_("The application has no step waiting to be handled"))


def _open_step(session: Session, app: Application, version: MatterVersion, position: int, now: datetime) -> None:
    ms = version.steps[position] if position < len(version.steps) else None
    session.add(
        ApplicationStep(
            application_id=app.id,
            position=position,
            name=ms.name if ms else N_("Review and decision"),  # a message id, translated when shown
            department_id=ms.department_id if ms else version.department_id,
            status=str(StepStatus.PENDING),
            started_at=now,
        )
    )


def _conclude(app: Application, result: ResultIn, now: datetime) -> None:
    app.decided_at, app.decision, app.decision_note = now, str(result.decision), None
    if result.decision is Decision.GRANTED:
        app.result_name, app.result_number = result.result_name, result.result_number
        app.result_valid_from = result.valid_from or now
        app.result_valid_until = result.valid_until


def _event(
    session: Session,
    app: Application,
    actor: Actor,
    role: Role,
    action: Action,
    before: Position,
    now: datetime,
    note: str | None,
    detail: dict[str, Any],
    *,
    after: Position | None = None,
) -> None:
    to = after or Position(State(app.state), app.step)
    if to.state is State.DECIDED and before.state is not State.DECIDED:
        _issue_certificate(session, actor, app, now, detail)
    event = ApplicationEvent(
        application_id=app.id,
        at=now,
        actor_id=actor.id,
        actor_name=actor.name[:100],
        role=str(role),
        action=str(action),
        from_state=str(before.state),
        to_state=str(to.state),
        step=to.step,
        note=(note or "").strip() or None,
        detail=detail,
    )
    session.add(event)
    from countyos.services.service import webhooks  # it builds on this module

    webhooks.queue_event(session, app=app, event=event)  # one state-change event per applied action


def _issue_certificate(session: Session, actor: Actor, app: Application, now: datetime, detail: dict[str, Any]) -> None:
    """A 准予 decision issues the certificate; the deciding action's timeline row and audit record name it."""
    from countyos.services.service import certificates  # it builds on this module

    cert = certificates.issue(session, actor=actor, app=app, now=now, audited=False)
    if cert is not None:
        detail["certificate"] = cert.number


# ── material files ───────────────────────────────────────────────────────────────────────────────────

# States in which the materials may still change (before acceptance, or while a 补正 is awaited).
MATERIAL_STATES = frozenset({State.DRAFT, State.SUBMITTED, State.CORRECTION_REQUESTED, State.SUPPLEMENT_REQUESTED})
_FILERS = frozenset({Role.APPLICANT, Role.AGENT, Role.WINDOW})


def _material(app: Application, material_id: int) -> ApplicationMaterial:
    row = next((m for m in app.materials if m.material_id == material_id), None)
    if row is None:
        raise NotFound(N_("This material is not on the matter's list"))
    return row


def attach_material(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    material_id: int,
    data: bytes,
    name: str | None = None,
    now: datetime | None = None,
) -> ApplicationMaterial:
    """Keep a scan or the electronic file of one material (a photo or a PDF, checked by its header);
    the material counts as received (electronic unless a form was recorded). Only the applicant, their
    agent or a window clerk, and only while the materials may still change."""
    from countyos.cases.service import attachments

    now = now or utcnow()
    app = get(session, actor=actor, application_id=application_id)
    if not _FILERS & set(roles_on(session, actor, app)):
        raise PermissionDenied(N_("Only the applicant, their agent or a window clerk may add material files"))
    if State(app.state) not in MATERIAL_STATES:
        raise Conflict(N_("The materials of this application can no longer change"))
    row = _material(app, material_id)
    att = attachments.store(session, actor=actor, data=data, name=name, audited=False)  # audited below
    row.attachment_id = att.id
    if not row.received:
        row.received, row.form, row.count, row.received_at = True, MaterialForm.ELECTRONIC, 1, now
    audit.record(
        session,
        actor=actor,
        action="services.application.material_file",
        target_type="services_application",
        target_id=app.number,
        detail={
            "material": row.name,
            "attachment_id": att.id,
            "sha256": att.sha256,
            "media_type": att.media_type,
            "size": att.size,
        },
    )
    return row


def material_file(session: Session, *, actor: Actor, application_id: int, material_id: int) -> tuple[str, str, str]:
    """(path, media type, file name) of a material's file, for whoever may read the application."""
    from countyos.cases.service import attachments

    app = get(session, actor=actor, application_id=application_id)
    row = _material(app, material_id)
    if row.attachment_id is None:
        raise NotFound(N_("This material has no file"))
    att = attachments.get(session, attachment_id=row.attachment_id)
    return str(attachments.path_for(att.sha256)), att.media_type, att.name or row.name


def of_applicant(session: Session, *, user_id: int, limit: int = 100) -> list[tuple[Application, str]]:
    """A person's own online applications, newest first, each with its matter's name (their
    personal-data page and their list of everything they have with the county)."""
    rows = session.execute(
        select(Application, MatterVersion.name)
        .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .where(Application.applicant_user_id == user_id)
        .order_by(Application.created_at.desc(), Application.id.desc())
        .limit(limit)
    )
    return [(a, name) for a, name in rows]
