"""Inputs and outputs of the modules part: phases of the programme, switching a module, placing it on the
roadmap. One model per input, used by the API and by the page forms."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_PHASE_NUMBER = 99
MAX_ID = 2**31 - 1


class PhaseIn(BaseModel):
    """A phase of the programme (一期 急用先行, 二期 …): its number orders the roadmap."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: int = Field(ge=1, le=MAX_PHASE_NUMBER)
    name: str = Field(min_length=1, max_length=80)
    goal: str = Field(default="", max_length=2000)
    starts_on: date | None = None
    ends_on: date | None = None


class SwitchIn(BaseModel):
    """Switch a module on or off, with why (kept on the module and in the audit log)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    on: bool
    note: str = Field(default="", max_length=500)


class PlanIn(BaseModel):
    """Place a module on the roadmap: its phase and the day it is planned to go live (both may be empty)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phase_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    planned_on: date | None = None
    note: str = Field(default="", max_length=500)


class PhaseOut(BaseModel):
    id: int
    number: int
    name: str
    goal: str
    starts_on: date | None
    ends_on: date | None
    status: str  # done | running | planned (from the dates and the county's today)
    modules: list[str]  # codes of the modules placed on it


class ModuleOut(BaseModel):
    code: str
    label: str
    pillar: str
    summary: str
    required: bool
    needs: list[str]
    on: bool
    locked: bool  # off by configuration (modules_off): cannot be switched on here
    phase_id: int | None
    planned_on: date | None
    switched_at: datetime | None
    switched_by: str | None  # the person's display name
    note: str
