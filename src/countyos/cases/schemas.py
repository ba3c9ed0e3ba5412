"""Pydantic shapes of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from countyos.cases.lifecycle import Action
from countyos.cases.models import Priority, Satisfaction, SupervisionLevel
from countyos.core.workcal import TimeUnit


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: int | None = None
    service_code: str | None = Field(None, max_length=24)
    description: str | None = Field(None, max_length=4000)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"
    address: str | None = Field(None, max_length=256)
    title: str | None = Field(None, max_length=200)
    priority: Priority | None = None
    idempotency_key: str | None = Field(None, min_length=8, max_length=80)
    attachment_ids: list[int] = Field(default_factory=list, max_length=9)
    self_handled: bool = False
    reporter_name: str | None = Field(None, max_length=60)
    reporter_phone: str | None = Field(None, max_length=20)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    version: int | None = Field(None, description="The version you saw; a different current version is a 409")
    comment: str | None = Field(None, max_length=2000)
    internal: bool = False
    department_id: int | None = None
    co_department_ids: list[int] | None = None
    assignee_id: int | None = None
    amount: float | None = Field(None, gt=0, le=60)
    unit: TimeUnit | None = None
    result: bool | None = None
    satisfaction: Satisfaction | None = None
    level: SupervisionLevel | None = None
    target_case_id: int | None = None
    attachment_ids: list[int] = Field(default_factory=list, max_length=9)
    lon: float | None = Field(None, ge=-180, le=180, description="relocate: the corrected longitude")
    lat: float | None = Field(None, ge=-90, le=90, description="relocate: the corrected latitude")
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor_name: str | None
    role: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    internal: bool
    attachment_ids: list[int]
    context: dict[str, Any]
    deadline_before: datetime | None
    deadline_after: datetime | None


class CaseOut(BaseModel):
    id: int
    number: str | None
    version: int
    state: str
    state_label: str
    is_open: bool
    channel: str
    category_id: int
    category_name: str
    service_code: str
    priority: str
    title: str
    description: str | None
    address: str | None
    lon: float | None
    lat: float | None
    township_code: str | None
    township_name: str | None
    village_name: str | None
    grid_code: str | None
    area_class: str
    department_id: int | None
    co_department_ids: list[int]
    suggested_department_id: int | None
    assignee_id: int | None
    rework_count: int
    step: str | None
    step_deadline: datetime | None
    step_warn_at: datetime | None
    level: str
    reported_at: datetime
    closed_at: datetime | None
    satisfaction: str | None
    duplicate_of_id: int | None
    merged_into_id: int | None
    allowed_actions: list[str] = Field(default_factory=list)


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    attachment_ids: list[int]
    reporters: list[dict[str, Any]]


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    code: str
    service_code: str
    name: str
    parent_id: int | None
    level: int
    is_group: bool
    register_condition: str | None
    close_condition: str | None
    default_priority: str
    public: bool


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z-]+$")
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    description: str | None = None
    keywords: str | None = Field(None, max_length=200)
    register_condition: str | None = None
    close_condition: str | None = None
    default_priority: Priority = Priority.NORMAL
    attributes: list[dict[str, Any]] = Field(default_factory=list)
    public: bool = True


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    keywords: str | None = Field(None, max_length=200)
    register_condition: str | None = None
    close_condition: str | None = None
    default_priority: Priority | None = None
    attributes: list[dict[str, Any]] | None = None
    public: bool | None = None
    is_active: bool | None = None


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    area_class: Literal["A", "B", "C", "*"]
    step: Literal["accept", "verify", "register", "dispatch", "handle", "check", "close"]
    amount: float = Field(gt=0, le=1000)
    unit: TimeUnit


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: int | None = None
    township_code: str | None = Field(None, pattern=r"^\d{9}$")
    grid_code: str | None = Field(None, min_length=15, max_length=15)
    department_id: int
    co_department_ids: list[int] = Field(default_factory=list)
    note: str | None = Field(None, max_length=200)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    category_id: int | None
    township_code: str | None
    grid_code: str | None
    department_id: int
    co_department_ids: list[int]
    note: str | None
    updated_by: str | None
    updated_at: datetime


class WorkOrderIn(BaseModel):
    """A 12345 work order (工单) handed over by the hotline system."""

    model_config = ConfigDict(extra="forbid")
    order_no: str = Field(min_length=4, max_length=50, description="工单编号")
    category_code: str = Field(description="12345 classification code (or an Open311 service_code)")
    demand_type: Literal["consult", "help", "complaint", "report", "suggestion", "praise"] = "complaint"
    title: str | None = Field(None, max_length=200)
    content: str = Field(min_length=1, max_length=4000)
    address: str | None = Field(None, max_length=256)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = "wgs84"
    citizen_name: str | None = Field(None, max_length=60)
    citizen_phone: str | None = Field(None, max_length=20)
    urgency: Literal["normal", "urgent", "critical"] = "normal"


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(description='indicator → weight, e.g. {"closure_rate": 0.3}')
    grades: list[tuple[str, float]] | None = Field(None, description='[["A", 90], ["B", 75], …]')
