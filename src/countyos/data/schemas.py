"""Pydantic shapes of the data API (one model per input: the API, the page form and the Excel import all
parse ``ResourceIn``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from countyos.core.i18n import N_
from countyos.data.codes import FieldType, Grade, OpenType, RuleKind, ShareMethod, ShareType, UpdateCycle
from countyos.data.lifecycle import Action, State
from countyos.data.models import ConnectorKind

MAX_ID = 2**31 - 1
MAX_ITEMS = 500
MAX_RULES = 100
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
COLUMN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class InfoItemIn(BaseModel):
    """信息项."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=63, description="英文名称: lower-case letters, digits and _")
    label: str = Field(min_length=1, max_length=100, description="中文名称")
    type: FieldType = FieldType.TEXT
    length: int = Field(0, ge=0, le=100_000)
    is_key: bool = False
    nullable: bool = True
    sensitive: bool = False
    shared: bool = True
    open: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not COLUMN.match(value) or value.startswith("_"):
            raise ValueError(N_("Use lower-case letters, digits and _, starting with a letter."))
        return value


class RuleIn(BaseModel):
    """A data-quality rule (kind, column, parameters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: RuleKind
    column: str = Field(min_length=1, max_length=130)
    params: dict[str, Any] = Field(default_factory=dict)


class ResourceIn(BaseModel):
    """A catalogue entry with the GB/T 21063.3 core metadata and the 目录编制指南 fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=2, max_length=100, description="URL name: lower-case letters, digits, - and _")
    code: str = Field(min_length=1, max_length=64, description="信息资源代码")
    title: str = Field(min_length=1, max_length=200, description="信息资源名称")
    summary: str = Field("", max_length=4000, description="信息资源摘要")
    class_1: str = Field("", max_length=60)
    class_2: str = Field("", max_length=60)
    class_3: str = Field("", max_length=60)
    class_4: str = Field("", max_length=60)
    provider_id: Id
    format: str = Field("", max_length=40)
    share_type: ShareType
    share_condition: str = Field("", max_length=1000)
    share_method: ShareMethod = ShareMethod.PLATFORM
    open_type: OpenType = OpenType.CLOSED
    open_condition: str = Field("", max_length=1000)
    update_cycle: UpdateCycle
    source_system: str = Field("", max_length=200)
    grade: Grade = Grade.GENERAL
    sensitivity: int = Field(1, ge=1, le=4)
    keywords: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=30)
    themes: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=10)
    licence: str = Field("CC-BY-4.0", max_length=40)
    items: list[InfoItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    rules: list[RuleIn] = Field(default_factory=list, max_length=MAX_RULES)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(N_("Use lower-case letters, digits, - and _ (2 to 100 characters)."))
        return value

    @model_validator(mode="after")
    def _conditions(self) -> ResourceIn:
        if self.share_type != ShareType.UNCONDITIONAL and not self.share_condition:
            raise ValueError(N_("共享条件 is required unless the resource is shared unconditionally."))
        if self.open_type == OpenType.CONDITIONAL and not self.open_condition:
            raise ValueError(N_("开放条件 is required when the resource is opened on conditions."))
        if self.open_type != OpenType.CLOSED and self.grade != Grade.GENERAL:
            raise ValueError(N_("Important and core data are not opened to the public."))
        names = [i.name for i in self.items]
        if len(set(names)) != len(names):
            raise ValueError(N_("Two information items have the same name."))
        for rule in self.rules:
            for col in rule.column.split(","):
                if names and col.strip() not in names:
                    raise ValueError(N_("A quality rule names a column that is not an information item."))
        return self


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    action: Action
    reason: str = Field("", max_length=1000)
    version: int = Field(ge=1, le=MAX_ID, description="the resource's version as read (optimistic lock)")


class InfoItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    label: str
    type: FieldType
    length: int
    is_key: bool
    nullable: bool
    sensitive: bool
    shared: bool
    open: bool


class LoadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: int
    state: str
    source: str
    format: str
    rows_read: int
    rows_loaded: int
    rows_failed: int
    quality_score: float | None
    error: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float
    report: dict[str, Any]


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    uid: str
    name: str
    code: str
    title: str
    summary: str
    class_1: str
    class_2: str
    class_3: str
    class_4: str
    provider_id: int
    format: str
    share_type: ShareType
    share_condition: str
    share_method: ShareMethod
    open_type: OpenType
    open_condition: str
    update_cycle: UpdateCycle
    source_system: str
    grade: Grade
    sensitivity: int
    keywords: list[str]
    themes: list[str]
    licence: str
    rules: list[dict[str, Any]]
    state: State
    review_note: str
    published_on: date | None
    current_load_id: int | None
    version: int
    items: list[InfoItemOut]


class ShareRequestIn(BaseModel):
    """共享申请: which fields, for what, until when (the consumer is the caller's department)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    purpose: str = Field(min_length=4, max_length=1000, description="用途与依据")
    fields: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(min_length=1, max_length=MAX_ITEMS)
    until: date = Field(description="使用期限 (the last day)")


class Decision(StrEnum):
    APPROVE = "approve"  # 批准 (with the fields, rows and limits given: narrowing is approving less)
    REFUSE = "refuse"  # 拒绝 (a reason is required)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Decision
    version: int = Field(ge=1, le=MAX_ID)
    fields: list[Annotated[str, Field(min_length=1, max_length=63)]] | None = Field(
        None, max_length=MAX_ITEMS, description="the fields granted (default: those asked for)"
    )
    row_filter: dict[Annotated[str, Field(max_length=63)], list[Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=dict, max_length=10, description="column → the values of the rows granted"
    )
    until: date | None = Field(None, description="the grant's last day (default: the request's)")
    quota_per_day: int = Field(1000, ge=1, le=1_000_000)
    reason: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _reason(self) -> DecisionIn:
        if self.decision == Decision.REFUSE and not self.reason:
            raise ValueError(N_("A reason is required."))
        if any(len(v) > 100 for v in self.row_filter.values()):
            raise ValueError(N_("At most 100 values per column in a row filter."))
        return self


class ShareRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    resource_id: int
    consumer_id: int
    purpose: str
    fields: list[str]
    until: date
    state: str
    decision_note: str
    requested_by: str
    decided_by: str
    created_at: datetime
    decided_at: datetime | None
    version: int


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int | None
    resource_id: int
    consumer_id: int
    fields: list[str]
    row_filter: dict[str, list[str]]
    expires_at: datetime
    quota_per_day: int
    key_prefix: str
    revoked_at: datetime | None
    created_at: datetime


class IssuedGrantOut(GrantOut):
    key: str = Field(description="the scoped key, shown this once: send it as the X-Data-Key header")


class UsageRow(BaseModel):
    resource_id: int
    resource_title: str
    consumer_id: int
    consumer_name: str
    served: int
    refused: int
    rows: int


class ConnectorIn(BaseModel):
    """A scheduled pull: a department's database (SQLAlchemy URL + one SELECT), a JSON HTTP API (URL + the
    member holding the records, if not the top level), or a CountyOS live source (its key)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    kind: ConnectorKind
    address: str = Field(min_length=1, max_length=1000, description="SQLAlchemy URL, http(s) URL, or live source key")
    query: str = Field("", max_length=20_000, description="the SELECT (sql) or the JSON member of the records (http)")
    every_minutes: int = Field(1440, ge=5, le=525_600)
    enabled: bool = True

    @model_validator(mode="after")
    def _shape(self) -> ConnectorIn:
        if self.kind == ConnectorKind.SQL and not self.query:
            raise ValueError(N_("A database connector needs its SELECT."))
        if self.kind == ConnectorKind.HTTP and not self.address.startswith(("http://", "https://")):
            raise ValueError(N_("An HTTP connector needs an http:// or https:// address."))
        return self


class ConnectorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    resource_id: int
    name: str
    kind: ConnectorKind
    address: str = Field(description="shown with any password masked")
    query: str
    every_minutes: int
    enabled: bool
    next_run_at: datetime | None


class ConnectorRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    started_at: datetime
    seconds: float
    rows: int
    ok: bool
    error: str
    load_id: int | None
