"""Pages of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain.

- ``/safety/events``: the events (active/closed, type, level); ``/safety/events/new``: start a response by
  hand (plan optional, the place on the map or from an alarm or a case number).
- ``/safety/events/{id}``: the situation page of the command post — the map with the event, the sensors
  within 10 km and the nearest resources, tasks by state with deadlines and the overdue ones in red,
  commands (unacknowledged in red), the timeline; escalate/lower/close/command/note for the command post.
- ``/safety/tasks``: the department's inbox of tasks; ``/safety/field``: the light phone page of the
  department's open tasks and commands (acknowledge, feedback with a photo from the camera, done).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.cases.service import attachments
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.service import outline
from countyos.org.service import audit, departments
from countyos.safety.models.events import EmergencyEvent, EventState
from countyos.safety.models.plans import Plan, PlanState, PlanType, ResponseLevel, more_severe
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ, TASK
from countyos.safety.schemas.events import (
    CloseIn,
    CommandAckIn,
    CommandIn,
    DoneIn,
    EventIn,
    FeedbackIn,
    LevelIn,
    NoteIn,
)
from countyos.safety.service import events as svc
from countyos.safety.service import events_lifecycle as lc
from countyos.safety.service import events_situation, events_tasks
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

SECTION = N_("Emergency")
router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(SECTION, N_("Emergency events"), "/safety/events", EMERGENCY_READ, order=310),
    NavItem(SECTION, N_("Emergency tasks"), "/safety/tasks", TASK, order=311),
    NavItem(SECTION, N_("In the field"), "/safety/field", TASK, order=312),
]
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Commander = Annotated[Auth, Depends(require(EMERGENCY_COMMAND))]
Worker = Annotated[Auth, Depends(require(TASK))]
MAX_PHOTO_BYTES = 10_000_000
RESOURCE_LABELS = {
    "warehouse": N_("Warehouse"),
    "team": N_("Rescue team"),
    "shelter": N_("Shelter"),
    "expert": N_("Expert"),
    "Other": N_("Other"),
}
EVENT_FIELDS = ("title", "type", "level", "plan_id", "lon", "lat", "place", "description", "alarm_id", "case_number")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "type_labels": svc.TYPE_LABELS,
            "level_labels": svc.LEVEL_LABELS,
            "source_labels": svc.SOURCE_LABELS,
            "log_labels": svc.LOG_LABELS,
            "event_state_labels": lc.EVENT_STATE_LABELS,
            "task_state_labels": lc.TASK_STATE_LABELS,
            "types": list(PlanType),
            "levels": list(ResponseLevel),
            "resource_labels": RESOURCE_LABELS,
            "level_names": {lv.value: label for lv, label in svc.LEVEL_LABELS.items()},
            **context,
        },
        status_code=status,
    )


# --- the list and starting by hand ---------------------------------------------------------------


@router.get("/safety/events")
def events_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    state: EventState | None = None,
    type: PlanType | None = None,
    level: ResponseLevel | None = None,
    page: int = Query(1, ge=1, le=1000),
) -> Response:
    size = 50
    rows, total = svc.list_events(session, state=state, type=type, level=level, limit=size, offset=(page - 1) * size)
    return render(
        request,
        "safety/events/list.html",
        {
            "events": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // size)),
            "f": {
                "state": state.value if state else "",
                "type": type.value if type else "",
                "level": level.value if level else "",
            },
            "states": list(EventState),
        },
    )


def _new_form(request: Request, session: Session, form: Refused | None = None) -> Response:
    plans = session.scalars(select(Plan).where(Plan.state == PlanState.ACTIVE).order_by(Plan.code)).all()
    blank = Refused({"type": "flood", "level": "IV"}, {}, None, 200)
    return render(
        request, "safety/events/new.html", {"plans": plans, "form": form or blank}, status=form.status if form else 200
    )


@router.get("/safety/events/new")
def new_event(request: Request, session: ReadSession, a: Commander) -> Response:
    return _new_form(request, session)


@router.post("/safety/events/new")
def create_event(request: Request, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values = forms.typed(form, EVENT_FIELDS)
    try:
        body = forms.parse(EventIn, values)
        event = svc.start_by_hand(session, actor=a.actor, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _new_form(request, session, Refused.of(request, exc, values))
    return redirect(f"/safety/events/{event.id}", flash=translate(request, "The response has started"))


# --- the situation page ----------------------------------------------------------------------------


def _map(session: Session, sit: events_situation.Situation) -> dict[str, Any] | None:
    e = sit.event
    if e.lon is None or e.lat is None:
        return None
    try:
        frame = outline.outline(session)
    except CountyError:
        return None
    here = frame.project(e.lon, e.lat)
    if here is None:
        return None
    sensors = [(s, xy) for s in sit.sensors if (xy := frame.project(s.lon, s.lat))]
    near = [(r, xy) for r in sit.resources if (xy := frame.project(r.lon, r.lat))]
    return {"frame": frame, "here": here, "sensors": sensors, "resources": near}


def situation_page(request: Request, session: Session, a: Auth, event_id: int, form: Refused | None = None) -> Response:
    sit = events_situation.situation(session, event_id=event_id)
    plan = session.get(Plan, sit.event.plan_id) if sit.event.plan_id else None
    all_depts = departments.all_active(session) if a.actor.can(EMERGENCY_COMMAND) else []
    return render(
        request,
        "safety/events/event.html",
        {
            "s": sit,
            "e": sit.event,
            "plan": plan,
            "map": _map(session, sit),
            "now": utcnow(),
            "departments": all_depts,
            "form": form or Refused.empty(),
            "higher": [lv for lv in ResponseLevel if more_severe(lv, sit.event.level)],
            "lower": [lv for lv in ResponseLevel if more_severe(sit.event.level, lv)],
        },
        status=form.status if form else 200,
    )


@router.get("/safety/events/{event_id:int}")
def event_view(request: Request, event_id: int, session: ReadSession, a: Reader) -> Response:
    return situation_page(request, session, a, event_id)


def _act(
    request: Request, session: Session, a: Auth, event_id: int, which: str, values: dict[str, Any], do: Any
) -> Response:
    try:
        do()
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return situation_page(request, session, a, event_id, Refused.of(request, exc, values, which=which))
    return redirect(f"/safety/events/{event_id}", flash=translate(request, "Saved"))


@router.post("/safety/events/{event_id:int}/escalate")
def escalate(request: Request, event_id: int, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values = forms.typed(form, ("level", "reason"))

    def do() -> None:
        body = forms.parse(LevelIn, values, empty_is_none=False)
        svc.escalate(session, actor=a.actor, event_id=event_id, level=body.level, reason=body.reason)

    return _act(request, session, a, event_id, "escalate", values, do)


@router.post("/safety/events/{event_id:int}/lower")
def lower(request: Request, event_id: int, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values = forms.typed(form, ("level", "reason"))

    def do() -> None:
        body = forms.parse(LevelIn, values, empty_is_none=False)
        svc.lower(session, actor=a.actor, event_id=event_id, level=body.level, reason=body.reason)

    return _act(request, session, a, event_id, "lower", values, do)


@router.post("/safety/events/{event_id:int}/close")
def close(request: Request, event_id: int, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values = forms.typed(form, ("note",))

    def do() -> None:
        body = forms.parse(CloseIn, values, empty_is_none=False)
        svc.close(session, actor=a.actor, event_id=event_id, note=body.note)

    return _act(request, session, a, event_id, "close", values, do)


@router.post("/safety/events/{event_id:int}/note")
def add_note(request: Request, event_id: int, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values = forms.typed(form, ("text",))

    def do() -> None:
        body = forms.parse(NoteIn, values, empty_is_none=False)
        svc.note(session, actor=a.actor, event_id=event_id, text=body.text)

    return _act(request, session, a, event_id, "note", values, do)


@router.post("/safety/events/{event_id:int}/command")
def command(request: Request, event_id: int, session: WriteSession, a: Commander, form: PostedForm) -> Response:
    values: dict[str, Any] = forms.typed(form, ("text",))
    picked = [v for v in form.getlist("department_ids") if isinstance(v, str) and v.isdigit()][:50]

    def do() -> None:
        body = forms.parse(CommandIn, {**values, "department_ids": [int(v) for v in picked]}, empty_is_none=False)
        events_tasks.give_command(
            session, actor=a.actor, event_id=event_id, text=body.text, department_ids=body.department_ids
        )

    return _act(request, session, a, event_id, "command", values, do)


# --- tasks: the department's inbox and the field page ----------------------------------------------


def _tasks_context(session: Session, a: Auth, *, open_only: bool) -> dict[str, Any]:
    rows = svc.tasks_for(session, actor=a.actor, open_only=open_only, limit=300)
    ids = {t.event_id for t in rows}
    events = (
        {e.id: e for e in session.scalars(select(EmergencyEvent).where(EmergencyEvent.id.in_(ids))).all()}
        if ids
        else {}
    )
    fb: dict[int, list[Any]] = {}
    for f in events_tasks.feedback_of(session, task_ids=[t.id for t in rows]):
        fb.setdefault(f.task_id, []).append(f)
    commands = (
        events_tasks.commands_for_department(session, department_id=a.actor.department_id)
        if a.actor.department_id is not None
        else []
    )
    now = utcnow()
    return {
        "tasks": rows,
        "events": events,
        "feedback": fb,
        "commands": commands,
        "overdue": {t.id for t in rows if svc.is_overdue(t, now)},
        "departments": svc.department_names(session, {t.department_id for t in rows}),
        "mine": a.actor.department_id,
    }


@router.get("/safety/tasks")
def tasks_page(request: Request, session: ReadSession, a: Worker, all: bool = False) -> Response:
    ctx = _tasks_context(session, a, open_only=not all)
    return render(request, "safety/events/tasks.html", {**ctx, "show_all": all, "form": Refused.empty()})


@router.get("/safety/field")
def field_page(request: Request, session: ReadSession, a: Worker) -> Response:
    ctx = _tasks_context(session, a, open_only=True)
    ctx["tasks"] = [t for t in ctx["tasks"] if t.department_id == a.actor.department_id]
    return render(request, "safety/events/field.html", {**ctx, "form": Refused.empty()})


def _back(form: Any) -> str:
    nxt = form.get("next")
    return nxt if nxt in ("/safety/field", "/safety/tasks") else "/safety/tasks"


def _task_act(request: Request, session: Session, a: Auth, form: Any, which: str, do: Any) -> Response:
    back = _back(form)
    try:
        do()
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        ctx = _tasks_context(session, a, open_only=True)
        refused = Refused.of(request, exc, forms.typed(form, ("text", "reply")), which=which)
        name = "safety/events/field.html" if back == "/safety/field" else "safety/events/tasks.html"
        return render(request, name, {**ctx, "show_all": False, "form": refused}, status=refused.status)
    return redirect(back, flash=translate(request, "Saved"))


@router.post("/safety/tasks/{task_id:int}/ack")
def task_ack(request: Request, task_id: int, session: WriteSession, a: Worker, form: PostedForm) -> Response:
    return _task_act(
        request,
        session,
        a,
        form,
        f"task-{task_id}",
        lambda: events_tasks.acknowledge(session, actor=a.actor, task_id=task_id),
    )


@router.post("/safety/tasks/{task_id:int}/done")
def task_done(request: Request, task_id: int, session: WriteSession, a: Worker, form: PostedForm) -> Response:
    def do() -> None:
        body = forms.parse(DoneIn, forms.typed(form, ("text",)), empty_is_none=False)
        events_tasks.done(session, actor=a.actor, task_id=task_id, text=body.text)

    return _task_act(request, session, a, form, f"task-{task_id}", do)


def _read(upload: StarletteUpload) -> bytes:
    data = upload.file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(N_("The file is too large"))
    return data


@router.post("/safety/tasks/{task_id:int}/feedback")
def task_feedback(request: Request, task_id: int, session: WriteSession, a: Worker, form: PostedForm) -> Response:
    uploads = [u for u in form.getlist("photo") if isinstance(u, StarletteUpload) and u.filename]

    def do() -> None:
        if len(uploads) > events_tasks.MAX_PHOTOS:
            raise ValidationFailed.on_field("photos", N_("At most three photos"))
        photos = [events_tasks.Photo(_read(u), u.filename) for u in uploads]
        body = forms.parse(FeedbackIn, forms.typed(form, ("text",)), empty_is_none=False)
        events_tasks.feedback(
            session, actor=a.actor, task_id=task_id, text=body.text, photos=[p for p in photos if p.data]
        )

    return _task_act(request, session, a, form, f"task-{task_id}", do)


@router.post("/safety/commands/{command_id:int}/ack")
def command_ack(request: Request, command_id: int, session: WriteSession, a: Worker, form: PostedForm) -> Response:
    def do() -> None:
        body = forms.parse(CommandAckIn, forms.typed(form, ("reply",)), empty_is_none=False)
        events_tasks.acknowledge_command(session, actor=a.actor, command_id=command_id, reply=body.reply)

    return _task_act(request, session, a, form, f"command-{command_id}", do)


@router.get("/safety/feedback/{feedback_id:int}/photos/{attachment_id:int}")
def feedback_photo(
    feedback_id: int, attachment_id: int, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]
) -> FileResponse:
    att = events_tasks.photo_of(session, actor=a.actor, feedback_id=feedback_id, attachment_id=attachment_id)
    return FileResponse(
        attachments.path_for(att.sha256), media_type=att.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )


# The audit log names every write of the events part.
audit.name_codes(
    actions={
        "safety.events.start": N_("Emergency response started"),
        "safety.events.escalate": N_("Emergency response level raised"),
        "safety.events.lower": N_("Emergency response level lowered"),
        "safety.events.note": N_("Note added to an emergency event"),
        "safety.events.command": N_("Command given to departments"),
        "safety.events.command_ack": N_("Command acknowledged"),
        "safety.events.trigger": N_("Plan trigger fired again during a response"),
        "safety.events.close": N_("Emergency response ended"),
        "safety.events.task.acknowledge": N_("Emergency task acknowledged"),
        "safety.events.task.feedback": N_("Feedback on an emergency task"),
        "safety.events.task.done": N_("Emergency task done"),
        "safety.events.task.close": N_("Emergency task ended"),
        "safety.events.task.overdue": N_("Emergency tasks overdue"),
    },
    targets={"safety_event": N_("Emergency event"), "safety_event_task": N_("Emergency task")},
)
