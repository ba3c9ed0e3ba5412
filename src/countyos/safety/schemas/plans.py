"""Input models of the plans part. :class:`PlanBody` is the shape of a plan version's body (预案 as data):
the response levels with their triggers and the departments' duties, and the information-report
schedule. Other parts read a published version's body through :func:`body_of`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from countyos.safety.models.plans import LEVEL_RANK, AttachmentKind, ExerciseKind, PlanType, ResponseLevel


class ReadingTrigger(BaseModel):
    """A reading of a named datastream (the device's key and the metric) that meets a sensing condition
    (``sensing/service/engine.py``: threshold, duration, rate …). Publishing the version makes it a
    sensing rule; the rule's alarm starts or escalates the response at this level."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["reading"] = "reading"
    device: str = Field(min_length=1, max_length=80)  # the Thing's device_key, e.g. river_gauge-01
    metric: str = Field(min_length=1, max_length=80)  # the datastream's metric, e.g. water_level
    condition: dict[str, Any]
    description: str = Field(default="", max_length=200)  # in words: 妙高溪水位超过警戒水位 3.0 m


class CaseTrigger(BaseModel):
    """A new case of this category (its Open311 service code) starts or escalates the response."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["case"] = "case"
    category: str = Field(min_length=1, max_length=24)
    description: str = Field(default="", max_length=200)


Trigger = Annotated[ReadingTrigger | CaseTrigger, Field(discriminator="kind")]


class Duty(BaseModel):
    """What one department must do at a level, and within how many minutes of the response starting."""

    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=100)  # the department's name (org_department.name)
    duty: str = Field(min_length=1, max_length=500)
    deadline_minutes: int = Field(ge=1, le=10080)


class LevelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: ResponseLevel
    criteria: str = Field(default="", max_length=1000)  # 启动条件 in words
    triggers: list[Trigger] = Field(default_factory=list, max_length=20)
    duties: list[Duty] = Field(min_length=1, max_length=50)


class ReportSchedule(BaseModel):
    """信息报送: the first report within FIRST_MINUTES of the start, a follow-up every FOLLOWUP_HOURS while
    the response lasts, the final report within FINAL_HOURS of the closing."""

    model_config = ConfigDict(extra="forbid")
    first_minutes: int = Field(default=30, ge=1, le=1440)
    followup_hours: int = Field(default=24, ge=1, le=168)
    final_hours: int = Field(default=72, ge=1, le=720)
    to: str = Field(default="", max_length=200)  # 报送对象, e.g. 市应急管理局


class PlanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    levels: list[LevelSpec] = Field(min_length=1, max_length=4)
    reports: ReportSchedule = Field(default_factory=ReportSchedule)
    measures: str = Field(default="", max_length=20000)  # 处置措施 in words

    @field_validator("levels")
    @classmethod
    def _levels_once(cls, levels: list[LevelSpec]) -> list[LevelSpec]:
        seen = [spec.level for spec in levels]
        if len(set(seen)) != len(seen):
            raise ValueError("each response level appears once")
        return levels

    @model_validator(mode="after")
    def _one_spec_per_level(self) -> PlanBody:
        seen = [spec.level for spec in self.levels]
        if len(set(seen)) != len(seen):
            raise ValueError("each response level appears once")
        self.levels.sort(key=lambda spec: LEVEL_RANK[spec.level])
        return self

    def spec(self, level: ResponseLevel) -> LevelSpec | None:
        return next((s for s in self.levels if s.level == level), None)


def body_of(data: dict[str, Any]) -> PlanBody:
    """A stored version body as the model (stored bodies were validated when saved)."""
    return PlanBody.model_validate(data)


class PlanIn(BaseModel):
    """A plan's card (its body is in its versions)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    type: PlanType
    lead_department_id: int | None = None
    summary: str = Field(default="", max_length=5000)


class DraftIn(BaseModel):
    """The draft version's body and what changed (修订说明)."""

    model_config = ConfigDict(extra="forbid")
    body: PlanBody
    note: str = Field(default="", max_length=2000)


class ExerciseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan_id: int
    held_on: date
    kind: ExerciseKind
    title: str = Field(default="", max_length=200)
    place: str = Field(default="", max_length=200)
    participants: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=40)
    summary: str = Field(default="", max_length=10000)
    problems: str = Field(default="", max_length=10000)


ATTACHMENT_KINDS = (AttachmentKind.TEXT, AttachmentKind.FIGURE, AttachmentKind.PHOTO, AttachmentKind.OTHER)


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    type: PlanType
    state: str
    lead_department_id: int | None
    summary: str
    current_version_id: int | None


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: int
    number: int
    state: str
    body: dict[str, Any]
    note: str
    published_at: datetime | None


class ExerciseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: int
    version_id: int | None
    held_on: date
    kind: ExerciseKind
    title: str
    place: str
    participants: list[str]
    summary: str
    problems: str


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: int
    exercise_id: int | None
    kind: AttachmentKind
    filename: str
    media_type: str
    size: int
