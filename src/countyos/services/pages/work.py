"""The application page (办件) for staff: everything about one application and the actions the person
may take on it now.

``/services/applications/{id}`` is open to whoever may read the application (``applications.may_read``:
window clerks and supervisors all, a department once the application reached one of its steps); anyone
else gets 404. The actions are exactly ``applications.allowed_actions``, each a small form parsed by the
API's model (``schemas.ACTION_MODELS``) and carrying the version that was shown; a refusal (a field, a
stale version, an action no longer allowed) comes back on the page with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import departments, users
from countyos.services import codes, deadlines, lifecycle, schemas
from countyos.services.lifecycle import Action, Decision, DeliveryMethod, State
from countyos.services.models import Application, ConsentWay, IdType, MaterialForm, Matter
from countyos.services.schemas import MAX_ID
from countyos.services.service import applications
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated
from countyos.web.errors import FIELD_MESSAGES
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

# The fields each action's form shows (besides the version); the note is on every form.
RESULT_FIELDS = ("decision", "result_name", "result_number", "valid_from", "valid_until")
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.PASS: ("opinion",),  # the last step's adds RESULT_FIELDS
    Action.RETURN: ("opinion",),
    Action.STEP_OTHER: ("opinion",),
    Action.START_SPECIAL: ("kind", "reason", "expected_days"),
    Action.END_SPECIAL: ("special_result",),
    Action.DELIVER: ("method", "tracking_number"),
    Action.REJECT: ("reason",),
    Action.ACCEPT_IMMEDIATE: RESULT_FIELDS,
    Action.RESUBMIT: ("materials",),
}
FORM_NAMES = ("opinion", "kind", "reason", "expected_days", "special_result", "method", "tracking_number", "note",
              *RESULT_FIELDS)  # fmt: skip
MAX_EXPECTED_DAYS = 365
EXPECTED = N_("Expected to take %(n)s days")


@dataclass
class ActionForm:
    """An action form sent back: which action, what was typed, the message of each wrong field."""

    action: str
    values: dict[str, str]
    materials: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


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
        "services/work/application.html",
        {
            "app": app,
            "v": version,
            "deps": _dep_names(session),
            "people": _people(session, app, steps, events, specials),
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


def _county_time(day: str, *, end: bool) -> datetime:
    """A date typed in the form as the start (or the end) of that county day."""
    d = date.fromisoformat(day)
    return datetime.combine(d, time.max if end else time.min, tzinfo=ZoneInfo(get_settings().timezone))


def body_of(action: Action, values: dict[str, str], materials: list[str], *, concludes: bool) -> dict[str, Any]:
    """The API model's body from the typed form (empty fields left out, so the model's rules apply)."""
    v = {k: s.strip() for k, s in values.items() if s.strip()}
    body: dict[str, Any] = {"version": v.get("version"), "note": v.get("note")}
    if action in (Action.PASS, Action.RETURN, Action.STEP_OTHER):
        body["opinion"] = v.get("opinion")
    if action is Action.START_SPECIAL:
        body.update(kind=v.get("kind"), reason=v.get("reason"))
        if v.get("expected_days"):
            days = v["expected_days"]
            if not days.isdigit() or not 1 <= int(days) <= MAX_EXPECTED_DAYS:
                raise _field("expected_days", N_("Give a whole number of days from 1 to 365"))
            expected = translate_later(EXPECTED, n=int(days))
            body["note"] = f"{expected}; {v['note']}" if v.get("note") else expected
    if action is Action.END_SPECIAL:
        body["result"] = v.get("special_result")
    if action is Action.DELIVER:
        body.update(method=v.get("method"), tracking_number=v.get("tracking_number"))
    if action is Action.REJECT:
        body["reason"] = v.get("reason")
    if action is Action.ACCEPT_IMMEDIATE or (action is Action.PASS and concludes):
        result: dict[str, Any] = {k: v.get(k) for k in ("decision", "result_name", "result_number")}
        for key, end in (("valid_from", False), ("valid_until", True)):
            if v.get(key):
                try:
                    result[key] = _county_time(v[key], end=end)
                except ValueError:
                    raise _field(key, N_("Not a date")) from None
        body["result"] = {k: x for k, x in result.items() if x is not None}
    if action is Action.RESUBMIT:
        body["materials"] = [{"material_id": m, "form": "original", "count": 1} for m in materials[:100]]
    return {k: x for k, x in body.items() if x is not None}


def translate_later(message: str, **params: Any) -> str:
    """The note is stored as written, in the language of the interface that wrote it."""
    from countyos.core.i18n import gettext

    return gettext(message, **params)


def _field(name: str, message: str) -> ValidationFailed:
    from countyos.core.i18n import gettext

    return ValidationFailed(
        N_("Please correct the marked fields"), errors=[{"field": name, "message": gettext(message)}]
    )


def _field_of(loc: tuple[Any, ...], action: Action) -> str:
    """The form field of a model's error location (the result's fields sit at the top of the form)."""
    if not loc:
        return ""
    if loc[0] == "result" and action is Action.END_SPECIAL:
        return "special_result"
    if loc[0] == "result" and len(loc) > 1:
        return str(loc[1])
    if loc[0] == "result":
        return "decision"
    return str(loc[0])


# Messages of the models' own checks (a pydantic value error carries English text), by action and field.
MODEL_RULES: dict[str, tuple[str, str]] = {
    Action.DELIVER: ("tracking_number", N_("Express delivery needs the tracking number")),
    Action.PASS: ("valid_until", N_("The validity ends before it starts")),
    Action.ACCEPT_IMMEDIATE: ("valid_until", N_("The validity ends before it starts")),
}


def _errors(request: Request, exc: Exception, action: Action) -> dict[str, str]:
    if not isinstance(exc, PydanticValidationError):
        found = forms.field_errors(request, exc)
        return {_field_of(tuple(k.split(".")), action) if k else "": m for k, m in found.items()}
    out: dict[str, str] = {}
    for e in exc.errors():
        key = _field_of(tuple(e["loc"]), action)
        message = FIELD_MESSAGES.get(e["type"], N_("Not valid"))
        if e["type"] == "value_error" and action in MODEL_RULES and key in ("", "decision"):
            key, message = MODEL_RULES[action]
        out.setdefault(key, translate(request, message))
    return out


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
                body_of(action, values, materials, concludes=last_step_pending(session, app))
            )
            app = applications.act(session, actor=a.actor, application_id=application_id, action=action, data=data)
        except PydanticValidationError as exc:
            sent.errors = _errors(request, exc, action)
            raise ValidationFailed(N_("Please correct the marked fields")) from exc
    except CountyError as exc:
        session.rollback()
        if not sent.errors and sent.action in ACTION_MODELS_BY_NAME:
            sent.errors = _errors(request, exc, Action(sent.action))
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


ACTION_MODELS_BY_NAME = {str(a) for a in schemas.ACTION_MODELS}
