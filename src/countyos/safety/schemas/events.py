"""Input and output models of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain.
One model per input, used by the API and the page forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from countyos.safety.models.events import EventSource, EventState, LogKind, TaskState
from countyos.safety.models.plans import PlanType, ResponseLevel


class EventIn(BaseModel):
    """Start a response by hand: the plan is optional; the place on the map, or from an alarm or a case."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    type: PlanType
    level: ResponseLevel
    plan_id: int | None = Field(default=None, ge=1)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    place: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=5000)
    alarm_id: int | None = Field(default=None, ge=1)
    case_number: str | None = Field(default=None, max_length=24)

    @model_validator(mode="after")
    def _both_or_neither(self) -> EventIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both longitude and latitude, or neither")
        return self


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: ResponseLevel
    reason: str = Field(default="", max_length=1000)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=5000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


class CommandIn(BaseModel):
    """A command to the given departments (every department of the event when empty)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)
    department_ids: list[int] = Field(default_factory=list, max_length=50)


class CommandAckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: str = Field(default="", max_length=1000)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000)


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000)


class TaskOut(BaseModel):
    id: int
    event_id: int
    event_number: str | None = None
    level: ResponseLevel
    department_id: int
    department: str
    duty: str
    state: TaskState
    issued_at: datetime
    deadline_at: datetime
    overdue: bool
    acknowledged_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    close_reason: str
    feedback: str
    url: str


class CommandTargetOut(BaseModel):
    department_id: int
    department: str
    acknowledged_at: datetime | None
    reply: str


class CommandOut(BaseModel):
    id: int
    event_id: int
    at: datetime
    text: str
    issued_by: str
    targets: list[CommandTargetOut]


class LogOut(BaseModel):
    at: datetime
    kind: LogKind
    text: str
    actor: str
    task_id: int | None
    detail: dict[str, Any]


class EventOut(BaseModel):
    id: int
    number: str | None
    title: str
    type: PlanType
    level: ResponseLevel
    state: EventState
    plan_id: int | None
    plan_version_id: int | None
    source: EventSource
    alarm_id: int | None
    case_id: int | None
    lon: float | None
    lat: float | None
    place: str
    township_code: str | None
    description: str
    started_at: datetime
    level_changed_at: datetime
    closed_at: datetime | None
    closing_note: str
    url: str


class EventDetailOut(EventOut):
    tasks: list[TaskOut]
    commands: list[CommandOut]
    log: list[LogOut]


class EventList(BaseModel):
    total: int
    items: list[EventOut]
