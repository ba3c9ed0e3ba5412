"""Pydantic shapes of the services API (one model per input: the API, the page form and the Excel import
all parse ``MatterIn``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from countyos.services.codes import (
    ApplicationKind,
    Audience,
    BodyNature,
    HandlingForm,
    Level,
    MatterType,
    Scope,
    TimeLimitUnit,
)
from countyos.services.models import MatterStatus

MAX_ID = 2**31 - 1
MAX_STEPS = 30
MAX_MATERIALS = 60
MAX_LIMIT_DAYS = 3650
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=4000)]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class StepIn(BaseModel):
    """环节."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    department_id: Id | None = None
    time_share: int | None = Field(None, ge=1, le=100)


class MaterialIn(BaseModel):
    """申请材料."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    issuer: str | None = Field(None, max_length=200)
    required: bool = True
    originals: int = Field(1, ge=0, le=99)
    copies: int = Field(0, ge=0, le=99)
    note: Text | None = None
    sample_url: str | None = Field(None, max_length=500, pattern=r"^(https?://|/)\S+$")


class MatterIn(BaseModel):
    """Every field of a matter's guide (GB/T 39046 表4) as a county keeps it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=64)  # 实施编码 (checked by the code rules)
    basic_code: str | None = Field(None, max_length=32, pattern=r"^[0-9A-Za-z-]+$")  # 基本编码
    name: str = Field(min_length=1, max_length=200)
    matter_type: MatterType
    level: Level = Level.COUNTY
    body_name: str = Field(min_length=1, max_length=200)
    body_uscc: str | None = Field(None, max_length=18)  # checked against GB 32100 by the service
    body_nature: BodyNature = BodyNature.STATUTORY
    legal_basis: Text | None = None
    legal_limit: int | None = Field(None, ge=0, le=MAX_LIMIT_DAYS)
    legal_limit_unit: TimeLimitUnit = TimeLimitUnit.WORKING_DAYS
    legal_limit_note: Text | None = None
    promised_limit: int = Field(ge=0, le=MAX_LIMIT_DAYS)
    promised_limit_unit: TimeLimitUnit = TimeLimitUnit.WORKING_DAYS
    promised_limit_note: Text | None = None
    accept_conditions: Text | None = None
    application_kind: ApplicationKind = ApplicationKind.PROMISED
    audiences: list[Audience] = Field(min_length=1, max_length=len(Audience))
    handling_forms: list[HandlingForm] = Field(min_length=1, max_length=len(HandlingForm))
    scope: Scope = Scope.NONE
    visits: int = Field(1, ge=0, le=10)
    place: Text | None = None
    hours: str | None = Field(None, max_length=500)
    consult_phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+()\- 、,，/转]+$")
    supervise_phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+()\- 、,，/转]+$")
    charged: bool = False
    fee_basis: Text | None = None
    result_name: str | None = Field(None, max_length=200)
    theme: str | None = Field(None, max_length=100)
    faq: Text | None = None
    online: bool = False
    special_procedure: Text | None = None
    department_id: Id | None = None
    steps: list[StepIn] = Field(default_factory=list, max_length=MAX_STEPS)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=MAX_MATERIALS)

    @field_validator("audiences", "handling_forms")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # the order given, each once

    @field_validator("body_uscc", "basic_code")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @model_validator(mode="after")
    def _empty_is_none(self) -> MatterIn:
        for name in type(self).model_fields:
            if isinstance(getattr(self, name), str) and not getattr(self, name) and name not in ("code", "name"):
                setattr(self, name, None)
        return self


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    name: str
    department_id: int | None
    time_share: int | None


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    name: str
    issuer: str | None
    required: bool
    originals: int
    copies: int
    note: str | None
    sample_url: str | None


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: int
    created_at: datetime
    created_by_id: int | None
    name: str
    matter_type: MatterType
    level: Level
    body_name: str
    body_uscc: str | None
    body_nature: BodyNature
    legal_basis: str | None
    legal_limit: int | None
    legal_limit_unit: TimeLimitUnit
    legal_limit_note: str | None
    promised_limit: int
    promised_limit_unit: TimeLimitUnit
    promised_limit_note: str | None
    accept_conditions: str | None
    application_kind: ApplicationKind
    audiences: list[Audience]
    handling_forms: list[HandlingForm]
    scope: Scope
    visits: int
    place: str | None
    hours: str | None
    consult_phone: str | None
    supervise_phone: str | None
    charged: bool
    fee_basis: str | None
    result_name: str | None
    theme: str | None
    faq: str | None
    online: bool
    special_procedure: str | None
    department_id: int | None
    steps: list[StepOut]
    materials: list[MaterialOut]


class MatterSummary(BaseModel):
    id: int
    code: str
    basic_code: str | None
    status: MatterStatus
    version: int
    name: str
    matter_type: MatterType
    theme: str | None
    department_id: int | None
    audiences: list[Audience]
    promised_limit: int
    promised_limit_unit: TimeLimitUnit
    online: bool


class MatterOut(BaseModel):
    id: int
    code: str
    basic_code: str | None
    status: MatterStatus
    published_at: datetime | None
    withdrawn_at: datetime | None
    current: VersionOut
    versions: list[VersionOut] | None = None  # the whole history, when asked for


class ImportProblemOut(BaseModel):
    sheet: str
    row: int
    column: str | None
    message: str


class ImportRowOut(BaseModel):
    row: int
    code: str
    name: str
    result: str  # created | new_version | unchanged | skipped


class ImportReportOut(BaseModel):
    ok: bool
    applied: bool
    created: int
    new_versions: int
    unchanged: int
    skipped: int
    rows: list[ImportRowOut]
    problems: list[ImportProblemOut]
