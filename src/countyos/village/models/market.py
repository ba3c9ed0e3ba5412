"""Tables of the market part of the village domain (产供销对接).

- ``village_supply``: a producer's supply listing — product, quantity and unit, period, price per unit
  (元, two decimals), the 基地 it comes from; open, closed, or expired once its period has passed.
- ``village_demand``: a buyer's demand listing — product, quantity, period, highest price (optional),
  delivery place (a point: the buyer's village unless given) and how often (每周一三五).
- ``village_order``: an order between a buyer and a producer, on a supply (the buyer orders) or a demand
  (the producer answers), with the price fixed when placed; its state moves only through the transition
  table of ``service/market_orders.py``; ``village_order_event`` is its timeline.
- ``village_delivery`` and ``village_delivery_item``: the delivery of an order — vehicle, departure and
  arrival, the cold-chain device and the temperatures it recorded on the way, the batches delivered and
  how much of each, and the buyer's 入市查验 (certificate seen, result, note).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime

MONEY = Numeric(14, 2)


class ListingState(StrEnum):
    OPEN = "open"  # 开放
    CLOSED = "closed"  # 已关闭
    EXPIRED = "expired"  # 已过期 (a supply past its period; set by the daily job, and read so before it runs)


class OrderState(StrEnum):
    PLACED = "placed"  # 已下单
    ACCEPTED = "accepted"  # 已接单
    SHIPPED = "shipped"  # 已发货
    DELIVERED = "delivered"  # 已送达
    CHECKED = "checked"  # 已查验 (accepted on arrival)
    REJECTED = "rejected"  # 查验不合格 (refused on arrival)
    CANCELLED = "cancelled"  # 已取消


class Side(StrEnum):
    BUYER = "buyer"  # 采购方
    SELLER = "seller"  # 供货方 (the producer)


class CheckResult(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格


class Supply(Base):
    __tablename__ = "village_supply"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("village_base.id", ondelete="RESTRICT"), index=True)
    product_code: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date, index=True)
    price: Mapped[Decimal] = mapped_column(MONEY)  # 元 per unit
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[ListingState] = mapped_column(StrEnumType(ListingState, 10), default=ListingState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Demand(Base):
    __tablename__ = "village_demand"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    product_code: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date, index=True)
    max_price: Mapped[Decimal | None] = mapped_column(MONEY)  # 元 per unit
    place_name: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    frequency: Mapped[str] = mapped_column(String(60), default="")  # 每周一三五
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[ListingState] = mapped_column(StrEnumType(ListingState, 10), default=ListingState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Order(Base):
    __tablename__ = "village_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    supply_id: Mapped[int | None] = mapped_column(ForeignKey("village_supply.id", ondelete="RESTRICT"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("village_demand.id", ondelete="RESTRICT"), index=True)
    placed_by: Mapped[Side] = mapped_column(StrEnumType(Side, 10))
    product_code: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    price: Mapped[Decimal] = mapped_column(MONEY)  # fixed when placed
    amount: Mapped[Decimal] = mapped_column(MONEY)  # quantity × price, rounded to the fen
    wanted_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[OrderState] = mapped_column(StrEnumType(OrderState, 10), default=OrderState.PLACED, index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100), default="")


class OrderEvent(Base):
    """One step of an order's timeline."""

    __tablename__ = "village_order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("village_order.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[OrderState | None] = mapped_column(StrEnumType(OrderState, 10))
    to_state: Mapped[OrderState] = mapped_column(StrEnumType(OrderState, 10))
    side: Mapped[Side | None] = mapped_column(StrEnumType(Side, 10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(300), default="")


class Delivery(Base):
    __tablename__ = "village_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("village_order.id", ondelete="CASCADE"), unique=True)
    vehicle_plate: Mapped[str] = mapped_column(String(12))
    departed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    thing_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_thing.id", ondelete="SET NULL"))
    temp_n: Mapped[int | None] = mapped_column(Integer)
    temp_min: Mapped[float | None] = mapped_column(Float)
    temp_mean: Mapped[float | None] = mapped_column(Float)
    temp_max: Mapped[float | None] = mapped_column(Float)
    temp_limit: Mapped[float | None] = mapped_column(Float)  # the threshold in force when it arrived
    excursion: Mapped[bool | None] = mapped_column(Boolean)
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    check_result: Mapped[CheckResult | None] = mapped_column(StrEnumType(CheckResult, 10))
    check_note: Mapped[str] = mapped_column(String(500), default="")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryItem(Base):
    """How much of one batch went in a delivery."""

    __tablename__ = "village_delivery_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("village_delivery.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("village_batch.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[float] = mapped_column(Float)
