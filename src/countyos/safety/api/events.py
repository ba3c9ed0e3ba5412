"""API of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain, under
/api/v1/safety.

Events: read with ``safety.emergency.read``; started, escalated, lowered, noted, commanded and closed with
``safety.emergency.command``. Tasks: ``safety.task`` lists one's own department's tasks (all with
``safety.emergency.read``), acknowledges, sends feedback (JSON, or a multipart form with up to three
``photo`` files) and reports done; commands are acknowledged by the addressed departments. A transition
the table does not allow is a 409; an input refused is a 422 with its field errors (problem+json).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from countyos.cases.service import attachments
from countyos.core.clock import utcnow
from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.safety.models.events import EmergencyEvent, EventLog, EventState, EventTask
from countyos.safety.models.plans import PlanType, ResponseLevel
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ, TASK
from countyos.safety.schemas.events import (
    CloseIn,
    CommandAckIn,
    CommandIn,
    CommandOut,
    CommandTargetOut,
    DoneIn,
    EventDetailOut,
    EventIn,
    EventList,
    EventOut,
    FeedbackIn,
    LevelIn,
    LogOut,
    NoteIn,
    TaskOut,
)
from countyos.safety.service import events as svc
from countyos.safety.service import events_tasks as tasks
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Commander = Annotated[Auth, Depends(require(EMERGENCY_COMMAND))]
Worker = Annotated[Auth, Depends(require(TASK))]
MAX_PHOTO_BYTES = 10_000_000


def event_out(e: EmergencyEvent) -> EventOut:
    return EventOut(
        id=e.id,
        number=e.number,
        title=e.title,
        type=e.type,
        level=e.level,
        state=e.state,
        plan_id=e.plan_id,
        plan_version_id=e.plan_version_id,
        source=e.source,
        alarm_id=e.alarm_id,
        case_id=e.case_id,
        lon=e.lon,
        lat=e.lat,
        place=e.place,
        township_code=e.township_code,
        description=e.description,
        started_at=e.started_at,
        level_changed_at=e.level_changed_at,
        closed_at=e.closed_at,
        closing_note=e.closing_note,
        url=f"/safety/events/{e.id}",
    )


def task_out(t: EventTask, names: dict[int, str], number: str | None = None) -> TaskOut:
    return TaskOut(
        id=t.id,
        event_id=t.event_id,
        event_number=number,
        level=t.level,
        department_id=t.department_id,
        department=names.get(t.department_id, ""),
        duty=t.duty,
        state=t.state,
        issued_at=t.issued_at,
        deadline_at=t.deadline_at,
        overdue=svc.is_overdue(t, utcnow()),
        acknowledged_at=t.acknowledged_at,
        done_at=t.done_at,
        closed_at=t.closed_at,
        close_reason=t.close_reason,
        feedback=t.feedback,
        url=f"/safety/events/{t.event_id}#task-{t.id}",
    )


def _tasks_out(session: Session, rows: list[EventTask]) -> list[TaskOut]:
    names = svc.department_names(session, {t.department_id for t in rows})
    ids = {t.event_id for t in rows}
    q = select(EmergencyEvent.id, EmergencyEvent.number).where(EmergencyEvent.id.in_(ids))
    numbers: dict[int, str | None] = {i: n for i, n in session.execute(q)} if ids else {}
    return [task_out(t, names, numbers.get(t.event_id)) for t in rows]


def detail_out(session: Session, e: EmergencyEvent) -> EventDetailOut:
    rows = svc.tasks_of(session, event_id=e.id)
    cmds = tasks.commands_of(session, event_id=e.id)
    names = svc.department_names(
        session, {t.department_id for t in rows} | {x.department_id for c in cmds for x in c.targets}
    )
    logs = session.scalars(select(EventLog).where(EventLog.event_id == e.id).order_by(EventLog.at, EventLog.id)).all()
    return EventDetailOut(
        **event_out(e).model_dump(),
        tasks=[task_out(t, names, e.number) for t in rows],
        commands=[
            CommandOut(
                id=c.command.id,
                event_id=e.id,
                at=c.command.at,
                text=c.command.text,
                issued_by=c.command.issued_by_name,
                targets=[
                    CommandTargetOut(
                        department_id=x.department_id,
                        department=names.get(x.department_id, ""),
                        acknowledged_at=x.acknowledged_at,
                        reply=x.reply,
                    )
                    for x in c.targets
                ],
            )
            for c in cmds
        ],
        log=[
            LogOut(at=x.at, kind=x.kind, text=x.text, actor=x.actor_name, task_id=x.task_id, detail=x.detail or {})
            for x in logs
        ],
    )


@router.get("/events")
def list_events(
    session: ReadSession,
    a: Reader,
    state: EventState | None = None,
    type: PlanType | None = None,
    level: ResponseLevel | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
) -> EventList:
    rows, total = svc.list_events(session, state=state, type=type, level=level, limit=limit, offset=offset)
    return EventList(total=total, items=[event_out(e) for e in rows])


@router.post("/events", status_code=201)
def start_event(body: EventIn, session: WriteSession, a: Commander) -> EventDetailOut:
    return detail_out(session, svc.start_by_hand(session, actor=a.actor, data=body))


@router.get("/events/{event_id}")
def get_event(event_id: int, session: ReadSession, a: Reader) -> EventDetailOut:
    return detail_out(session, svc.get(session, event_id=event_id))


@router.post("/events/{event_id}/escalate")
def escalate(event_id: int, body: LevelIn, session: WriteSession, a: Commander) -> EventDetailOut:
    e = svc.escalate(session, actor=a.actor, event_id=event_id, level=body.level, reason=body.reason)
    return detail_out(session, e)


@router.post("/events/{event_id}/lower")
def lower(event_id: int, body: LevelIn, session: WriteSession, a: Commander) -> EventDetailOut:
    e = svc.lower(session, actor=a.actor, event_id=event_id, level=body.level, reason=body.reason)
    return detail_out(session, e)


@router.post("/events/{event_id}/close")
def close(event_id: int, body: CloseIn, session: WriteSession, a: Commander) -> EventDetailOut:
    return detail_out(session, svc.close(session, actor=a.actor, event_id=event_id, note=body.note))


@router.post("/events/{event_id}/notes")
def add_note(event_id: int, body: NoteIn, session: WriteSession, a: Commander) -> EventDetailOut:
    return detail_out(session, svc.note(session, actor=a.actor, event_id=event_id, text=body.text))


@router.post("/events/{event_id}/commands", status_code=201)
def give_command(event_id: int, body: CommandIn, session: WriteSession, a: Commander) -> CommandOut:
    cmd = tasks.give_command(
        session, actor=a.actor, event_id=event_id, text=body.text, department_ids=body.department_ids
    )
    (view,) = [c for c in tasks.commands_of(session, event_id=event_id) if c.command.id == cmd.id]
    names = svc.department_names(session, {x.department_id for x in view.targets})
    return CommandOut(
        id=cmd.id,
        event_id=event_id,
        at=cmd.at,
        text=cmd.text,
        issued_by=cmd.issued_by_name,
        targets=[
            CommandTargetOut(
                department_id=x.department_id,
                department=names.get(x.department_id, ""),
                acknowledged_at=x.acknowledged_at,
                reply=x.reply,
            )
            for x in view.targets
        ],
    )


@router.post("/commands/{command_id}/ack")
def ack_command(command_id: int, body: CommandAckIn, session: WriteSession, a: Worker) -> CommandTargetOut:
    t = tasks.acknowledge_command(session, actor=a.actor, command_id=command_id, reply=body.reply)
    names = svc.department_names(session, {t.department_id})
    return CommandTargetOut(
        department_id=t.department_id,
        department=names.get(t.department_id, ""),
        acknowledged_at=t.acknowledged_at,
        reply=t.reply,
    )


@router.get("/tasks")
def list_tasks(
    session: ReadSession,
    a: Worker,
    open_only: bool = False,
    event_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=500),
) -> list[TaskOut]:
    return _tasks_out(
        session, svc.tasks_for(session, actor=a.actor, open_only=open_only, event_id=event_id, limit=limit)
    )


@router.post("/tasks/{task_id}/ack")
def ack_task(task_id: int, session: WriteSession, a: Worker) -> TaskOut:
    return _tasks_out(session, [tasks.acknowledge(session, actor=a.actor, task_id=task_id)])[0]


async def feedback_input(request: Request) -> tuple[dict[str, Any], list[tasks.Photo]]:
    """The feedback as JSON, or as a multipart form with up to three ``photo`` files (JPEG, PNG, WebP)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        raw = await request.body()
        if len(raw) > 100_000:
            raise PayloadTooLarge(N_("The request is too large"))
        try:
            values = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ValidationFailed(N_("The body is not JSON")) from exc
        if not isinstance(values, dict):
            raise ValidationFailed(N_("The body is not a JSON object"))
        return values, []
    form = await request.form(max_files=tasks.MAX_PHOTOS, max_fields=10)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in FeedbackIn.model_fields}
    photos: list[tasks.Photo] = []
    for upload in form.getlist("photo"):
        if isinstance(upload, StarletteUpload) and upload.filename:
            data = await upload.read(MAX_PHOTO_BYTES + 1)
            if len(data) > MAX_PHOTO_BYTES:
                raise PayloadTooLarge(N_("The file is too large"))
            if data:
                photos.append(tasks.Photo(data=data, name=upload.filename))
    return values, photos


FeedbackInput = Annotated[tuple[dict[str, Any], list[tasks.Photo]], Depends(feedback_input)]


def parse_feedback(values: dict[str, Any]) -> FeedbackIn:
    try:
        return forms.parse(FeedbackIn, values, empty_is_none=False)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            N_("Please correct the feedback"),
            errors=[{"field": str(e["loc"][0]) if e["loc"] else "", "message": e["msg"]} for e in exc.errors()],
        ) from exc


@router.post("/tasks/{task_id}/feedback")
def task_feedback(task_id: int, given: FeedbackInput, session: WriteSession, a: Worker) -> TaskOut:
    values, photos = given
    body = parse_feedback(values)
    tasks.feedback(session, actor=a.actor, task_id=task_id, text=body.text, photos=photos)
    return _tasks_out(session, [svc.get_task(session, task_id=task_id)])[0]


@router.post("/tasks/{task_id}/done")
def task_done(task_id: int, body: DoneIn, session: WriteSession, a: Worker) -> TaskOut:
    return _tasks_out(session, [tasks.done(session, actor=a.actor, task_id=task_id, text=body.text)])[0]


@router.get("/feedback/{feedback_id}/photos/{attachment_id}", response_class=FileResponse)
def feedback_photo(
    feedback_id: int, attachment_id: int, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]
) -> FileResponse:
    att = tasks.photo_of(session, actor=a.actor, feedback_id=feedback_id, attachment_id=attachment_id)
    return FileResponse(
        attachments.path_for(att.sha256), media_type=att.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )
