"""Input models of the information reports and reviews (信息报送, 复盘) part of the safety domain: one model
per input, used by the API and the page forms."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1


class ReportIn(BaseModel):
    """A report's text as edited and its casualty and loss figures (numbers entered by a person)."""

    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=20000)
    to: str | None = Field(default=None, max_length=200)  # 报送对象; None keeps the schedule's
    deaths: int | None = Field(default=None, ge=0, le=100000)
    injured: int | None = Field(default=None, ge=0, le=100000)
    missing: int | None = Field(default=None, ge=0, le=100000)
    evacuated: int | None = Field(default=None, ge=0, le=10000000)
    loss_wan: float | None = Field(default=None, ge=0, le=10000000)  # direct economic loss, 万元


class LessonsIn(BaseModel):
    """The lessons of a review (复盘)."""

    model_config = ConfigDict(extra="forbid")
    lessons: str = Field(default="", max_length=20000)


class ReportOut(BaseModel):
    id: int
    event_id: int
    kind: str
    number: int
    title: str
    state: str
    state_label: str
    due_at: datetime
    to: str
    body: str
    deaths: int | None
    injured: int | None
    missing: int | None
    evacuated: int | None
    loss_wan: float | None
    reminded_at: datetime | None
    overdue_noted: bool
    sent_at: datetime | None
    sent_by_id: int | None
    created_at: datetime


class ReportPage(BaseModel):
    total: int
    items: list[ReportOut]
