"""The application page (办件) for staff: everything about one application and the actions the person
may take on it now.

``/services/applications/{id}`` is open to whoever may read the application (``applications.may_read``:
window clerks and supervisors all, a department once the application reached one of its steps); anyone
else gets 404. The actions are exactly ``applications.allowed_actions``, each a small form parsed by the
API's model (``schemas.ACTION_MODELS``) and carrying the version that was shown; a refusal (a field, a
stale version, an action no longer allowed) comes back on the page with what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit, departments, users
from countyos.services import codes, deadlines, lifecycle, schemas
from countyos.services.lifecycle import Action, Decision, DeliveryMethod, State
from countyos.services.models import Application, ConsentWay, IdType, MaterialForm, Matter
from countyos.services.pages.work_forms import ACTION_FIELDS, ACTION_NAMES, FORM_NAMES, ActionForm, body_of, errors_of
from countyos.services.schemas import MAX_ID
from countyos.services.service import applications
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated
from countyos.web.forms import PostedForm
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Staff = Annotated[Auth, Depends(authenticated)]  # whether they may read it is the application's business
NAV: list[NavItem] = []

ID_TYPE_LABELS = {
    IdType.RESIDENT_ID: N_("Resident identity card"),
    IdType.PASSPORT: N_("Passport"),
    IdType.HK_MACAO_PERMIT: N_("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: N_("Mainland travel permit for Taiwan residents"),
    IdType.FOREIGN_RESIDENT: N_("Foreigner's permanent residence card"),
    IdType.USCC: N_("Unified social credit code"),
    IdType.OTHER: N_("Other identity document"),
}
CONSENT_LABELS = {
    ConsentWay.SIGNED_FORM: N_("Signed power of attorney"),
    ConsentWay.PHONE: N_("Confirmed by phone"),
    ConsentWay.IN_PERSON: N_("Confirmed in person"),
}
MATERIAL_FORM_LABELS = {
    MaterialForm.ORIGINAL: N_("Original"),
    MaterialForm.COPY: N_("Copy"),
    MaterialForm.ELECTRONIC: N_("Electronic"),
}
LABELS: dict[str, Any] = {
    "state_labels": lifecycle.LABELS,
    "action_labels": lifecycle.ACTION_LABELS,
    "role_labels": lifecycle.ROLE_LABELS,
    "decision_labels": lifecycle.DECISION_LABELS,
    "step_status_labels": lifecycle.STEP_STATUS_LABELS,
    "delivery_labels": lifecycle.DELIVERY_LABELS,
    "clock_labels": lifecycle.CLOCK_LABELS,
    "level_labels": deadlines.LEVEL_LABELS,
    "special_labels": codes.LABELS[codes.SpecialProcedure],
    "audience_labels": codes.LABELS[codes.Audience],
    "source_labels": codes.LABELS[codes.HandlingForm],
    "unit_labels": codes.LABELS[codes.TimeLimitUnit],
    "id_type_labels": ID_TYPE_LABELS,
    "consent_labels": CONSENT_LABELS,
    "material_form_labels": MATERIAL_FORM_LABELS,
}


# ── reading ──────────────────────────────────────────────────────────────────────────────────────────


def _dep_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in departments.all_active(session)}


def last_step_pending(session: Session, app: Application) -> bool:
    """Whether approving now concludes the application (the current step is the matter's last)."""
    steps = max(len(applications.version_of(session, app).steps), 1)
    return app.state == State.IN_PROGRESS and app.step is not None and app.step + 1 >= steps


def _people(
    session: Session, app: Application, steps: list[Any], events: list[Any], specials: list[Any]
) -> dict[int, str]:
    ids = [app.submitted_by_id, *(s.handler_id for s in steps), *(e.actor_id for e in events)]
    ids += [s.started_by_id for s in specials]
    return {uid: p.display_name for uid, p in users.colleagues(session, user_ids=ids).items()}


def _page(
    request: Request,
    session: Session,
    a: Auth,
    app: Application,
    *,
    form: ActionForm | None = None,
    opened: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    version = applications.version_of(session, app)
    allowed = applications.allowed_actions(session, a.actor, app)
    steps = applications.steps_of(session, app)
    specials = applications.specials_of(session, app)
    events = applications.timeline(session, application_id=app.id)
    d = applications.deadline(session, app, now=now)
    if form is not None and form.action in allowed:
        opened = form.action
    elif opened not in allowed:
        opened = allowed[0] if allowed else None
    return templates(request).render(
        request,
        "services/handling/application.html",
        {
            "app": app,
            "v": version,
            "deps": _dep_names(session),
            "people": _people(session, app, steps, events, specials),
            "actors": _actors(request, session, events),
            "id_number": applications.shown_id_number(a.actor, app),
            "phone": applications.shown_phone(a.actor, app),
            "sees_pii": applications.sees_pii(a.actor, app),
            "deadline": d,
            "level": str(deadlines.level(d)) if d is not None else None,
            "remaining": _remaining(d, version.promised_limit_unit) if d is not None else None,
            "matter_code": session.get(Matter, app.matter_id).code,  # type: ignore[union-attr]
            "clock": str(lifecycle.clock(app.state)),
            "steps": steps,
            "upcoming": _upcoming(app, version, steps),
            "specials": specials,
            "events": events,
            "missing": [m.name for m in applications.missing_materials(app)],
            "allowed": allowed,
            "opened": opened,
            "fields": ACTION_FIELDS,
            "concludes": last_step_pending(session, app),
            "form": form,
            "decisions": list(Decision),
            "methods": list(DeliveryMethod),
            "special_kinds": list(codes.SpecialProcedure),
            "material_forms": list(MaterialForm),
            **LABELS,
        },
        status_code=status_code,
    )


def _actors(request: Request, session: Session, events: list[Any]) -> dict[int, str]:
    """Event id → who acted, as people read it: a person's name, or what a non-person actor is."""
    people = users.colleagues(session, user_ids=[e.actor_id for e in events])
    out = {}
    for e in events:
        if e.actor_id in people:
            out[e.id] = people[e.actor_id].display_name
        else:
            label = audit.actor_label(e.actor_name)
            out[e.id] = translate(request, label) if label else e.actor_name
    return out


def _upcoming(app: Application, version: Any, steps: list[Any]) -> list[tuple[int, Any]]:
    """The matter's steps the application has not reached yet (while it is still open)."""
    if not lifecycle.is_open(app.state):
        return []
    reached = max((s.position for s in steps), default=-1)
    return [(i, ms) for i, ms in enumerate(version.steps) if i > reached]


def _remaining(d: deadlines.Deadline, unit: codes.TimeLimitUnit) -> tuple[str, float]:
    """(working_hours | days, how many): the time left, or overdue, in the limit's own terms."""
    seconds = abs(d.remaining.total_seconds())
    if unit == codes.TimeLimitUnit.WORKING_DAYS:
        return "working_hours", round(seconds / 3600, 1)
    return "days", round(seconds / 86400, 1)


@router.get("/services/applications/{application_id:int}")
def application_page(
    request: Request,
    application_id: int,
    session: ReadSession,
    a: Staff,
    act: Annotated[str | None, Query(max_length=24)] = None,
) -> Response:
    """One application; ``act`` opens that action's form."""
    if not 1 <= application_id <= MAX_ID:
        raise NotFound(N_("No such application"))
    app = applications.get(session, actor=a.actor, application_id=application_id)
    return _page(request, session, a, app, opened=act)


# ── acting ───────────────────────────────────────────────────────────────────────────────────────────


def _allowed_message(request: Request, allowed: list[str]) -> str:
    if not allowed:
        return translate(request, "There is nothing for you to do on this application now.")
    names = "、".join(translate(request, lifecycle.ACTION_LABELS[x]) for x in allowed)
    return translate(request, "What you may do now: %(actions)s", actions=names)


@router.post("/services/applications/{application_id:int}/act")
def act(request: Request, application_id: int, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    """One action from the page's forms, parsed by the API's model; a refusal comes back on the page
    with what was typed, each message beside its field, and what is allowed now."""
    if not 1 <= application_id <= MAX_ID:
        raise NotFound(N_("No such application"))
    values = forms.typed(form, (*FORM_NAMES, "version", "action"))
    materials = [m for m in form.getlist("materials") if isinstance(m, str) and m.isdigit()][:100]
    sent = ActionForm(action=values.pop("action"), values=values, materials=materials)
    app = applications.get(session, actor=a.actor, application_id=application_id)
    try:
        try:
            action = Action(sent.action)
        except ValueError:
            raise NotFound(N_("No such action")) from None
        try:
            data = schemas.ACTION_MODELS[action].model_validate(
                body_of(request, action, values, materials, concludes=last_step_pending(session, app))
            )
            app = applications.act(session, actor=a.actor, application_id=application_id, action=action, data=data)
        except PydanticValidationError as exc:
            sent.errors = errors_of(request, exc, action)
            raise ValidationFailed(N_("Please correct the marked fields")) from exc
    except CountyError as exc:
        session.rollback()
        if not sent.errors and sent.action in ACTION_NAMES:
            sent.errors = errors_of(request, exc, Action(sent.action))
        sent.errors.pop("", None)
        current = applications.get(session, actor=a.actor, application_id=application_id)
        allowed = applications.allowed_actions(session, a.actor, current)
        sent.message = exc.message
        if exc.status in (403, 409) or sent.action not in allowed:  # stale, forbidden, not in this state
            sent.message = f"{exc.message} {_allowed_message(request, allowed)}"
        return _page(request, session, a, current, form=sent, status_code=exc.status)
    state = translate(request, lifecycle.LABELS[app.state])
    return redirect(
        f"/services/applications/{app.id}",
        flash=translate(request, "%(number)s: %(state)s", number=app.number, state=state),
    )
