"""Input and output models of the farming part of the village domain: one model per input, used by the
API and the page forms."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from countyos.core.i18n import N_
from countyos.village.models.farming import InputKind, RecordKind

INPUT_CODE = r"^[a-z0-9_]+$"


class RecordIn(BaseModel):
    """A 农事 record. ``input_id`` for fertiliser, pesticide, veterinary drug and feed records; ``quantity`` and
    ``unit`` for a harvest (which is refused inside an input's 安全间隔期/休药期)."""

    model_config = ConfigDict(extra="forbid")

    base_id: int = Field(ge=1)
    kind: RecordKind
    product_code: str | None = Field(default=None, max_length=40)
    input_id: int | None = Field(default=None, ge=1)
    dose: float | None = Field(default=None, gt=0, le=1_000_000)
    dose_unit: str | None = Field(default=None, max_length=20)
    area_mu: float | None = Field(default=None, gt=0, le=100_000)
    head_count: int | None = Field(default=None, ge=1, le=1_000_000)
    quantity: float | None = Field(default=None, gt=0, le=100_000_000)
    unit: str | None = Field(default=None, max_length=10)
    used_on: date
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _harvest_has_quantity(self) -> RecordIn:
        if self.kind == RecordKind.HARVEST and (self.quantity is None or not self.product_code):
            raise ValueError(N_("A harvest needs the product and the quantity"))
        return self


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=300)


class InputIn(BaseModel):
    """An input added to the county's list. ``intervals``: days by product code, product class code or ``*``."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=40, pattern=INPUT_CODE)
    kind: InputKind
    name: str = Field(min_length=1, max_length=100)
    registration_no: str | None = Field(default=None, max_length=40)
    active_ingredient: str | None = Field(default=None, max_length=100)
    formulation: str | None = Field(default=None, max_length=60)
    organic_allowed: bool = False
    intervals: dict[str, int] = Field(default_factory=dict, max_length=60)
    dose_unit: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=300)


class InputChangeIn(BaseModel):
    """A change to an input: its intervals (replaced whole), registration number, note, or retirement
    (``active`` false). ``version`` is the version read (a stale one is refused)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    registration_no: str | None = Field(default=None, max_length=40)
    intervals: dict[str, int] | None = Field(default=None, max_length=60)
    organic_allowed: bool | None = None
    note: str | None = Field(default=None, max_length=300)
    active: bool | None = None


class InputOut(BaseModel):
    id: int
    code: str
    kind: InputKind
    kind_label: str
    name: str
    registration_no: str | None
    active_ingredient: str | None
    formulation: str | None
    organic_allowed: bool
    intervals: dict[str, int]
    dose_unit: str | None
    note: str | None
    active: bool
    version: int


class RecordOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    base_id: int
    base_name: str
    kind: RecordKind
    kind_label: str
    product_code: str | None
    product_label: str | None
    input_id: int | None
    input_name: str | None
    registration_no: str | None
    interval_days: int | None
    allowed_from: date | None
    dose: float | None
    dose_unit: str | None
    area_mu: float | None
    head_count: int | None
    quantity: float | None
    unit: str | None
    used_on: date
    note: str | None
    has_photo: bool
    voided: bool
    void_reason: str | None
    voided_at: datetime | None
    recorded_by: str
    created_at: datetime
    url: str


class BlockOut(BaseModel):
    record_id: int
    input: str
    registration_no: str | None
    used_on: date
    interval_days: int
    allowed_from: date
    days_remaining: int


class IntervalOut(BaseModel):
    base_id: int
    product_code: str
    on: date
    allowed: bool
    block: BlockOut | None
