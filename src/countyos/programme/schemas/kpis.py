"""A KPI's scoring rule, as data (``ContractKpi.scoring``), validated here; applied by ``service.scoring``.

- ``linear``: full points (100) at the target or better, none at ``zero_at`` or worse, a straight line between.
- ``steps``: the points of the first step the value reaches (``[[98, 100], [95, 80], [90, 60]]``: at least 98 → 100 …),
  else 0; for an indicator where smaller is better, "reaches" means at most.
- ``target``: 100 when the target is met, else 0.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ScoringRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["linear", "steps", "target"] = "linear"
    zero_at: float | None = None  # linear: the value that scores nothing (default: target ∓ 20)
    steps: list[tuple[float, float]] = Field(default_factory=list, max_length=20)  # (value, points 0..100)

    @field_validator("steps")
    @classmethod
    def _points(cls, steps: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if any(not 0 <= points <= 100 for _value, points in steps):
            raise ValueError("points must be between 0 and 100")
        return steps

    @model_validator(mode="after")
    def _complete(self) -> ScoringRule:
        if self.kind == "steps" and not self.steps:
            raise ValueError("steps need at least one step")
        return self


class KpiIn(BaseModel):
    """A KPI bound to a contract (API and page form): the catalogue entry, its scope (a township's code or
    the whole county), target, weight and scoring rule."""

    model_config = ConfigDict(extra="forbid")

    kpi: str = Field(min_length=1, max_length=40)
    township_code: str | None = Field(None, max_length=12, pattern=r"^\d{9}$")
    target: float = Field(ge=0, le=1_000_000)
    weight: float = Field(gt=0, le=100)
    scoring: ScoringRule = Field(default_factory=ScoringRule)


class AssessIn(BaseModel):
    """Assess one period of a contract now; a reason is needed when the assessment is approved or locked."""

    model_config = ConfigDict(extra="forbid")

    period_start: date
    reason: str | None = Field(None, max_length=2000)


class CatalogueEntryOut(BaseModel):
    code: str
    indicator: str
    label: str
    hint: str
    unit: Literal["%", "count"]
    negative: bool
    target: float
    scoring: ScoringRule


class KpiOut(BaseModel):
    id: int
    contract_id: int
    kpi: str
    label: str
    unit: str
    township_code: str | None
    target: float
    weight: float
    scoring: ScoringRule


class ContractKpisOut(BaseModel):
    contract_id: int
    state: str
    weight_sum: float
    items: list[KpiOut]


class ScoreOut(BaseModel):
    kpi_id: int
    kpi: str
    label: str
    unit: str
    township_code: str | None
    value: float | None
    count: int | None
    whole: int | None
    target: float | None
    weight: float | None
    score: float | None
    records_url: str
    whole_url: str


class AmendmentOut(BaseModel):
    at: str
    by_id: int | None
    what: str
    reason: str
    before: dict[str, object]
    after: dict[str, object]


class AssessmentOut(BaseModel):
    id: int
    contract_id: int
    contract_code: str
    period_start: date
    period_end: date
    period_label: str
    state: str
    total_score: float | None
    base_fen: int
    deduction_fen: int
    bonus_fen: int
    payable_fen: int
    computed_at: str
    approved_by_id: int | None
    approved_at: str | None
    url: str
    scores: list[ScoreOut] | None = None
    amendments: list[AmendmentOut] | None = None
