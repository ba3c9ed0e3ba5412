"""Tables of the farming part of the village domain.

- ``village_input``: the county's list of 投入品 — pesticides (农药, with 登记证号 PD…, active ingredient,
  formulation and 安全间隔期 per product or product class), veterinary drugs (兽药, with 休药期), fertilisers
  and feeds (no interval). Loaded from ``data/inputs.json``; the 农业农村局 adds, changes intervals, retires.
- ``village_record``: a 农事 record of a producer on one of its 基地 — sowing, fertiliser, pesticide, veterinary
  drug, feed, harvest or other — with the input used (a snapshot of its name, registration number and the
  interval that applied), dose, area or head count, the day, and for a harvest the quantity. Records are
  kept (at least two years): never deleted; a wrong one is voided with a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class InputKind(StrEnum):
    PESTICIDE = "pesticide"  # 农药 (安全间隔期)
    VET_DRUG = "vet_drug"  # 兽药 (休药期)
    FERTILISER = "fertiliser"  # 肥料
    FEED = "feed"  # 饲料


class RecordKind(StrEnum):
    SOWING = "sowing"  # 播种定植
    FERTILISER = "fertiliser"  # 施肥
    PESTICIDE = "pesticide"  # 用药
    VET_DRUG = "vet_drug"  # 兽药
    FEED = "feed"  # 投喂
    HARVEST = "harvest"  # 采收
    OTHER = "other"  # 其他


# the record kinds that name an input, and the input kind each takes
INPUT_OF_RECORD: dict[RecordKind, InputKind] = {
    RecordKind.FERTILISER: InputKind.FERTILISER,
    RecordKind.PESTICIDE: InputKind.PESTICIDE,
    RecordKind.VET_DRUG: InputKind.VET_DRUG,
    RecordKind.FEED: InputKind.FEED,
}


class FarmInput(Base):
    """A 投入品 on the county's list."""

    __tablename__ = "village_input"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[InputKind] = mapped_column(StrEnumType(InputKind, 12), index=True)
    name: Mapped[str] = mapped_column(String(100))
    registration_no: Mapped[str | None] = mapped_column(String(40))  # 农药/兽药 登记证号
    active_ingredient: Mapped[str | None] = mapped_column(String(100))
    formulation: Mapped[str | None] = mapped_column(String(60))
    organic_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # days by product code or product class code; "*" for any other product
    intervals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    dose_unit: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class FarmRecord(Base):
    """A 农事 record."""

    __tablename__ = "village_record"
    __table_args__ = (Index("ix_village_record_base_used", "base_id", "used_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("village_base.id", ondelete="RESTRICT"))
    kind: Mapped[RecordKind] = mapped_column(StrEnumType(RecordKind, 12), index=True)
    product_code: Mapped[str | None] = mapped_column(String(40))
    input_id: Mapped[int | None] = mapped_column(ForeignKey("village_input.id", ondelete="RESTRICT"), index=True)
    input_name: Mapped[str | None] = mapped_column(String(100))  # snapshot when recorded
    registration_no: Mapped[str | None] = mapped_column(String(40))  # snapshot
    interval_days: Mapped[int | None] = mapped_column(Integer)  # 安全间隔期/休药期 that applied, snapshot
    dose: Mapped[float | None] = mapped_column(Float)
    dose_unit: Mapped[str | None] = mapped_column(String(20))
    area_mu: Mapped[float | None] = mapped_column(Float)  # area treated, 亩
    head_count: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[float | None] = mapped_column(Float)  # harvest
    unit: Mapped[str | None] = mapped_column(String(10))
    used_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("case_attachment.id", ondelete="SET NULL"))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str | None] = mapped_column(String(300))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by: Mapped[str | None] = mapped_column(String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
