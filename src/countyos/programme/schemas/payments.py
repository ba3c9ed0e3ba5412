"""The payment formula of a contract, as data (``Contract.formula``), validated here; computed by
``service.payments.compute``.

The base of a period is the contract amount spread evenly over its assessment periods (``even``) or the
schedule's instalments due in the period (``instalment``). A total score at or above ``full_at`` is paid in
full; each point below deducts ``per_point_pct`` percent of the base, never more than ``max_deduction_pct``;
below ``zero_below`` nothing is paid. Bonus steps pay a percentage of the base on top, at most
``max_bonus_pct``. ``missing`` says what a KPI without data counts as: left out with the others'
weights scaled up (``reweight``), zero points (``zero``) or full points (``full``); a period in which no KPI
has data is held (``hold``: nothing payable until it is assessed again) or paid in full (``pay``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BonusStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_least: float = Field(ge=0, le=100)  # total score
    pct: float = Field(ge=0, le=100)  # percent of the base paid on top


class Formula(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: Literal["even", "instalment"] = "even"
    full_at: float = Field(90, ge=0, le=100)
    per_point_pct: float = Field(1.0, ge=0, le=100)
    max_deduction_pct: float = Field(100, ge=0, le=100)
    zero_below: float | None = Field(60, ge=0, le=100)
    bonus: list[BonusStep] = Field(default_factory=list, max_length=10)
    max_bonus_pct: float = Field(0, ge=0, le=100)
    missing: Literal["reweight", "zero", "full"] = "reweight"
    no_data: Literal["hold", "pay"] = "hold"

    @model_validator(mode="after")
    def _consistent(self) -> Formula:
        if self.zero_below is not None and self.zero_below > self.full_at:
            raise ValueError("zero_below must not be above full_at")
        return self


class AmendIn(BaseModel):
    """A change to a locked assessment: the reason (required: refused on ``reason`` by the service when
    empty) and either the new payable amount (``adjust``) or a reassessment (``recompute``)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)
    payable_fen: int | None = Field(None, ge=0, le=10**13)
    recompute: bool = False


class ReturnIn(BaseModel):
    """An approved assessment returned for recomputing: the reason (required: refused on ``reason`` by the
    service when empty)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)
