"""Input and output models of the hidden-danger inspections (隐患排查) part of the safety domain. One model
per input, used by the API and the page forms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.safety.models.inspections import (
    HazardAction,
    HazardLevel,
    HazardState,
    InspectionResult,
    Outcome,
    RiskGrade,
)

MAX_ITEMS = 80  # items on one checklist, answers in one inspection
MAX_CHECKLISTS = 50  # checklists in one loaded file
Text200 = Annotated[str, Field(max_length=200)]


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(min_length=1, max_length=30)
    address: str = Field(default="", max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    responsible_name: str = Field(default="", max_length=60)
    responsible_phone: str = Field(default="", max_length=20)
    safety_manager: str = Field(default="", max_length=60)
    grade: RiskGrade = RiskGrade.C
    active: bool = True


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")
    text: str = Field(min_length=1, max_length=300)
    category: str = Field(min_length=1, max_length=20)
    level: HazardLevel = HazardLevel.GENERAL
    days: int | None = Field(default=None, ge=1, le=365)


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1, le=10_000)
    name: str = Field(min_length=1, max_length=120)
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("items")
    @classmethod
    def _unique_codes(cls, items: list[ItemIn]) -> list[ItemIn]:
        codes = [i.code for i in items]
        if len(set(codes)) != len(codes):
            raise ValueError("item codes must be unique")
        return items


class ChecklistFileIn(BaseModel):
    """A checklists file (the shape of ``data/inspections_checklists.json``; categories and default days
    are read from the packaged file)."""

    model_config = ConfigDict(extra="ignore")

    source: str = Field(default="", max_length=2000)
    checklists: list[ChecklistIn] = Field(min_length=1, max_length=MAX_CHECKLISTS)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20)
    outcome: Outcome
    note: str = Field(default="", max_length=1000)
    level: HazardLevel | None = None  # a failed item's hazard level when not the item's default
    responsible: str = Field(default="", max_length=120)


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    place_id: int = Field(ge=1)
    answers: list[AnswerIn] = Field(min_length=1, max_length=MAX_ITEMS)
    note: str = Field(default="", max_length=2000)


class RectifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000)


class ReinspectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    passed: bool
    note: str = Field(default="", max_length=2000)
    days: int | None = Field(default=None, ge=1, le=365)  # the new deadline when it fails (else from data)


class PlaceOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    address: str
    lon: float
    lat: float
    township_code: str | None
    township_name: str | None
    village_name: str | None
    grid_code: str | None
    responsible_name: str
    responsible_phone_masked: str | None
    safety_manager: str
    grade: RiskGrade
    last_inspected_on: date | None
    next_due_on: date | None
    active: bool
    distance_m: float | None = None
    url: str


class ChecklistOut(BaseModel):
    id: int
    code: str
    version: int
    name: str
    current: bool
    items: list[ItemIn]


class AnswerOut(BaseModel):
    code: str
    text: str
    category: str
    outcome: Outcome
    note: str


class InspectionOut(BaseModel):
    id: int
    place_id: int
    place_name: str
    checklist_code: str
    checklist_version: int
    inspector_id: int | None
    inspector_name: str
    at: datetime
    result: InspectionResult
    hazards: int
    hazard_ids: list[int]
    answers: list[AnswerOut]
    url: str


class HazardLogOut(BaseModel):
    at: datetime
    action: HazardAction
    from_state: HazardState | None
    to_state: HazardState
    actor_name: str
    note: str
    deadline_on: date | None
    attachment_ids: list[int]


class HazardOut(BaseModel):
    id: int
    place_id: int
    place_name: str
    inspection_id: int
    item_code: str
    item_text: str
    category: str
    level: HazardLevel
    description: str
    responsible: str
    state: HazardState
    found_at: datetime
    deadline_on: date
    overdue: bool
    rectified_at: datetime | None
    closed_at: datetime | None
    reinspections: int
    township_code: str | None
    grid_code: str | None
    case_id: int | None
    case_number: str | None
    attachment_ids: list[int]
    log: list[HazardLogOut] | None = None
    url: str


class MonthFigure(BaseModel):
    month: str
    found: int
    closed: int


class StatsOut(BaseModel):
    found: int
    closed: int
    open: int
    overdue: int
    rectification_rate: float | None  # closed / found, percent
    by_month: list[MonthFigure]
    by_kind: dict[str, dict[str, int]]
    by_level: dict[str, int]
