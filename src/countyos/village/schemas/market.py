"""Inputs and outputs of the market part (产供销对接): one model per input, used by the API and the pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from countyos.village.models.market import CheckResult, ListingState, OrderState, Side

LONGEST_PERIOD_DAYS = 366
Quantity = Annotated[float, Field(gt=0, le=10_000_000)]
Price = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=2)]


class _Period(BaseModel):
    period_from: date
    period_to: date

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.period_to < self.period_from:
            raise ValueError("The period ends before it starts")
        if (self.period_to - self.period_from).days > LONGEST_PERIOD_DAYS:
            raise ValueError("The period is longer than a year")
        return self


class SupplyIn(_Period):
    """A supply listing of a producer (``entity_id``: which of theirs, when they act for several)."""

    model_config = ConfigDict(extra="forbid")

    entity_id: int | None = Field(default=None, ge=1)
    product_code: str = Field(min_length=1, max_length=40)
    quantity: Quantity
    unit: str | None = Field(default=None, max_length=10)
    price: Price
    base_id: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=500)


class DemandIn(_Period):
    """A demand listing of a buyer; the delivery place is the buyer's village unless a point is given."""

    model_config = ConfigDict(extra="forbid")

    entity_id: int | None = Field(default=None, ge=1)
    product_code: str = Field(min_length=1, max_length=40)
    quantity: Quantity
    unit: str | None = Field(default=None, max_length=10)
    max_price: Price | None = None
    lon: float | None = Field(default=None, ge=73, le=136)
    lat: float | None = Field(default=None, ge=3, le=54)
    place_name: str = Field(default="", max_length=200)
    frequency: str = Field(default="", max_length=60)
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _point(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("Give both longitude and latitude, or neither")
        return self


class OrderIn(BaseModel):
    """An order: a buyer orders from a supply (its price), or a producer answers a demand (their price)."""

    model_config = ConfigDict(extra="forbid")

    supply_id: int | None = Field(default=None, ge=1)
    demand_id: int | None = Field(default=None, ge=1)
    entity_id: int | None = Field(default=None, ge=1)  # which of the caller's entities orders or answers
    quantity: Quantity
    price: Price | None = None  # answering a demand only
    wanted_on: date | None = None
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one_listing(self) -> Self:
        if (self.supply_id is None) == (self.demand_id is None):
            raise ValueError("Order from a supply or answer a demand: give exactly one of them")
        if self.demand_id is not None and self.price is None:
            raise ValueError("Give your price per unit when answering a demand")
        return self


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=300)


class DeliveryItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: int = Field(ge=1)
    quantity: Quantity


class DeliveryIn(BaseModel):
    """Shipping an order: the batches it is made of, the vehicle, when it left, and the van's cold-chain
    device (a sensing device of class ``cold_chain``, by its key) if it has one."""

    model_config = ConfigDict(extra="forbid")

    vehicle_plate: str = Field(min_length=5, max_length=12, pattern=r"^[\u4e00-\u9fffA-Za-z0-9·\-]+$")
    departed_at: AwareDatetime | None = None
    device_key: str | None = Field(default=None, max_length=64)
    items: list[DeliveryItemIn] = Field(min_length=1, max_length=20)


class ArriveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arrived_at: AwareDatetime | None = None


class CheckIn(BaseModel):
    """入市查验 on arrival: the 合格证 number seen, the quick look's result and a note."""

    model_config = ConfigDict(extra="forbid")

    certificate_no: str = Field(min_length=1, max_length=60)
    result: CheckResult
    note: str = Field(default="", max_length=500)


# --- outputs ---------------------------------------------------------------------------------------


class SupplyOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    product_code: str
    product_name: str
    quantity: float
    left: float
    unit: str
    period_from: date
    period_to: date
    price: Decimal
    base_id: int | None
    base_name: str | None
    village_name: str | None
    note: str
    state: ListingState
    url: str


class DemandOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    product_code: str
    product_name: str
    quantity: float
    unit: str
    period_from: date
    period_to: date
    max_price: Decimal | None
    place_name: str
    lon: float
    lat: float
    frequency: str
    note: str
    state: ListingState
    url: str


class SupplyMatchOut(BaseModel):
    supply: SupplyOut
    distance_km: float | None


class DemandMatchOut(BaseModel):
    demand: DemandOut
    distance_km: float | None


class EventOut(BaseModel):
    at: datetime
    action: str
    from_state: OrderState | None
    to_state: OrderState
    side: Side | None
    user_name: str
    note: str


class DeliveryItemOut(BaseModel):
    batch_id: int
    batch_no: str
    trace_code: str
    quantity: float


class DeliveryOut(BaseModel):
    id: int
    order_id: int
    vehicle_plate: str
    departed_at: datetime
    arrived_at: datetime | None
    device_key: str | None
    device_name: str | None
    temp_n: int | None
    temp_min: float | None
    temp_mean: float | None
    temp_max: float | None
    temp_limit: float | None
    excursion: bool | None
    certificate_no: str | None
    check_result: CheckResult | None
    check_note: str
    checked_at: datetime | None
    items: list[DeliveryItemOut]


class OrderOut(BaseModel):
    id: int
    number: str
    buyer_id: int
    buyer_name: str
    seller_id: int
    seller_name: str
    supply_id: int | None
    demand_id: int | None
    placed_by: Side
    product_code: str
    product_name: str
    quantity: float
    unit: str
    price: Decimal
    amount: Decimal
    wanted_on: date | None
    note: str
    state: OrderState
    placed_at: datetime
    cancel_reason: str | None
    allowed_actions: list[str]
    url: str
    events: list[EventOut] = []
    deliveries: list[DeliveryOut] = []


class StatRowOut(BaseModel):
    key: str
    label: str
    unit: str
    output_quantity: float
    output_value: Decimal
    output_value_known: bool
    batches: int
    sales_quantity: float
    sales_amount: Decimal
    orders: int
    batches_url: str
    orders_url: str


class StatsOut(BaseModel):
    by: str
    date_from: date
    date_to: date
    rows: list[StatRowOut]
    definition: str


class ListingPatch(BaseModel):
    """Closing a listing (the only change a listing takes: post a new one to change its terms)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["closed"]
