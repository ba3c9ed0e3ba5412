"""Inputs and outputs of the projects part: organisations, projects, spend, contracts and their payment
schedules. Money is in fen (integers, ``*_fen``); the pages take yuan and convert."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.org.service import uscc as uscc_rules
from countyos.programme.models.projects import (
    AssessmentPeriod,
    ContractState,
    OrgKind,
    ProjectKind,
    ProjectState,
)
from countyos.programme.schemas.payments import Formula

PHONE_RE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
MAX_FEN = 10**14  # one trillion yuan: no county project is larger
CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind
    uscc: str | None = Field(None, max_length=18)
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=300)
    description: str = Field("", max_length=4000)
    department_id: int | None = Field(None, ge=1)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        if not v:
            return None
        v = v.upper()
        if not uscc_rules.is_valid(v):
            raise ValueError("not a valid unified social credit code")
        return v

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        v = v.replace(" ", "")
        if v and not PHONE_RE.match(v):
            raise ValueError("not a valid phone number")
        return v


class OrgOut(BaseModel):
    id: int
    name: str
    kind: OrgKind
    uscc: str | None
    contact_name: str
    contact_phone_masked: str
    address: str
    description: str
    department_id: int | None
    url: str


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40, pattern=CODE_RE)
    name: str = Field(min_length=1, max_length=200)
    kind: ProjectKind
    phase_id: int | None = Field(None, ge=1)
    modules: list[str] = Field(default_factory=list, max_length=30)
    device_classes: list[str] = Field(default_factory=list, max_length=50)
    data_resources: list[str] = Field(default_factory=list, max_length=200)
    budget_fen: int = Field(0, ge=0, le=MAX_FEN)
    funding_model: str = Field(min_length=1, max_length=40)
    department_id: int | None = Field(None, ge=1)
    operator_id: int | None = Field(None, ge=1)
    starts_on: date | None = None
    ends_on: date | None = None
    description: str = Field("", max_length=4000)

    @field_validator("modules", "device_classes", "data_resources")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for x in v:
            x = x.strip()
            if len(x) > 64:
                raise ValueError("code too long")
            if x and x not in out:
                out.append(x)
        return out


class ProjectOut(BaseModel):
    id: int
    code: str
    name: str
    kind: ProjectKind
    state: ProjectState
    phase_id: int | None
    modules: list[str]
    device_classes: list[str]
    data_resources: list[str]
    budget_fen: int
    spend_fen: int
    funding_model: str
    funding_model_name: str
    department_id: int | None
    operator_id: int | None
    starts_on: date | None
    ends_on: date | None
    description: str
    allowed_actions: list[str]
    url: str


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=20)


class SpendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    spent_on: date
    amount_fen: int = Field(gt=0, le=MAX_FEN)
    note: str = Field("", max_length=300)
    contract_id: int | None = Field(None, ge=1)


class SpendOut(BaseModel):
    id: int
    project_id: int
    contract_id: int | None
    spent_on: date
    amount_fen: int
    note: str
    created_at: datetime


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40, pattern=CODE_RE)
    title: str = Field(min_length=1, max_length=200)
    project_id: int = Field(ge=1)
    party_id: int = Field(ge=1)
    starts_on: date
    ends_on: date
    amount_fen: int = Field(ge=0, le=MAX_FEN)
    period: AssessmentPeriod = AssessmentPeriod.MONTH
    formula: Formula = Field(default_factory=Formula)


class ContractOut(BaseModel):
    id: int
    code: str
    title: str
    project_id: int
    party_id: int
    state: ContractState
    starts_on: date
    ends_on: date
    amount_fen: int
    scheduled_fen: int
    period: AssessmentPeriod
    formula: dict[str, Any]
    allowed_actions: list[str]
    url: str


class InstalmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    due_on: date
    amount_fen: int = Field(gt=0, le=MAX_FEN)
    label: str = Field("", max_length=120)


class InstalmentOut(BaseModel):
    id: int
    contract_id: int
    due_on: date
    amount_fen: int
    label: str


class FundingModelOut(BaseModel):
    code: str
    group: str
    group_name: str
    name: str
    description: str
