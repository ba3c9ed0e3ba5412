"""Tables of the certs part of the village domain.

- ``village_batch``: a batch (批次) of one product of one producer from one 基地 — class, quantity and unit,
  harvest date, the producer's batch number and the batch's trace code (GS1 element string with AIs
  (01)/(10)/(11) where the producer has a GTIN, the county's own code otherwise). A buyer who repacks makes
  a child batch (``parent_id``), so the chain is kept.
- ``village_batch_test``: a 快检/检测 result of a batch (institution, method, standard, items, result, report
  number, date, self-test or entrusted).
- ``village_certificate``: a 承诺达标合格证, numbered, with every element of the 2026 rules as issued
  (never edited; a wrong one is revoked with a reason). A buyer's re-issued certificate points to the
  original (``parent_id``).
- ``village_batch_view``: how often a batch's public trace page was opened, per day (never who looked).
- ``village_gtin``: the GTIN-13 of a product of an entity with a GS1 company prefix (item reference
  given once, then stable).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class TraceScheme(StrEnum):
    GS1 = "gs1"  # GS1 element string (01) GTIN-14 (11) production date (10) batch
    COUNTY = "county"  # the county's own code (see service/certs_codes.py)


class CheckMethod(StrEnum):
    RAPID = "rapid"  # 速测 (快检)
    QUANTITATIVE = "quantitative"  # 定量检测


class CheckMode(StrEnum):
    SELF = "self"  # 自行检测
    ENTRUSTED = "entrusted"  # 委托检测


class CheckResult(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格


class CertBasis(StrEnum):
    """承诺依据 (2026 rules, Art. 14)."""

    CONTROL = "control"  # 质量安全控制
    SELF_TEST = "self_test"  # 自行检测
    ENTRUSTED_TEST = "entrusted_test"  # 委托检测


class Batch(Base):
    __tablename__ = "village_batch"
    __table_args__ = (UniqueConstraint("entity_id", "batch_no", name="uq_village_batch_entity_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("village_base.id", ondelete="RESTRICT"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("village_batch.id", ondelete="RESTRICT"), index=True)
    product_code: Mapped[str] = mapped_column(String(40), index=True)  # products.json
    product_class: Mapped[str] = mapped_column(String(20))  # the product's class when the batch was made
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    harvest_date: Mapped[date] = mapped_column(Date, index=True)
    batch_no: Mapped[str] = mapped_column(String(40))
    trace_code: Mapped[str] = mapped_column(String(80), unique=True)
    trace_views: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    trace_scheme: Mapped[TraceScheme] = mapped_column(StrEnumType(TraceScheme, 8), default=TraceScheme.COUNTY)
    gtin: Mapped[str | None] = mapped_column(String(14))  # GTIN-14 of a GS1 code
    source_record_id: Mapped[int | None] = mapped_column(Integer)  # the harvest record (farming part), no FK


class BatchTest(Base):
    """A 快检/检测 result of a batch."""

    __tablename__ = "village_batch_test"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("village_batch.id", ondelete="RESTRICT"), index=True)
    institution: Mapped[str] = mapped_column(String(120))
    method: Mapped[CheckMethod] = mapped_column(StrEnumType(CheckMethod, 14))
    mode: Mapped[CheckMode] = mapped_column(StrEnumType(CheckMode, 10))
    standard: Mapped[str] = mapped_column(String(120))  # 依据标准, e.g. GB 2763-2021
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{item, result, limit}]
    result: Mapped[CheckResult] = mapped_column(StrEnumType(CheckResult, 6))
    report_no: Mapped[str] = mapped_column(String(60))
    tested_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class Certificate(Base):
    """A 承诺达标合格证 as issued."""

    __tablename__ = "village_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("village_batch.id", ondelete="RESTRICT"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("village_certificate.id", ondelete="RESTRICT"))
    product_code: Mapped[str] = mapped_column(String(40))
    product_name: Mapped[str] = mapped_column(String(60))  # 产品名称 as printed
    product_class: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    producer_name: Mapped[str] = mapped_column(String(120))  # 生产者/收购者 名称
    origin: Mapped[str] = mapped_column(String(200))  # 产地 (village)
    contact_enc: Mapped[str | None] = mapped_column(String(200))  # 联系方式, encrypted (printed on the PDF only)
    contact_masked: Mapped[str | None] = mapped_column(String(20))
    promise: Mapped[str] = mapped_column(String(300))  # 承诺事项, the fixed text as issued
    basis: Mapped[CertBasis] = mapped_column(StrEnumType(CertBasis, 16))
    test_id: Mapped[int | None] = mapped_column(ForeignKey("village_batch_test.id", ondelete="RESTRICT"))
    report_no: Mapped[str | None] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date, index=True)  # 开具日期 (the county's day)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(300))
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class BatchView(Base):
    """Opens of a batch's trace page on one day (the county's day)."""

    __tablename__ = "village_batch_view"
    __table_args__ = (UniqueConstraint("batch_id", "day", name="uq_village_batch_view_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("village_batch.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    views: Mapped[int] = mapped_column(Integer, default=0)


class Gtin(Base):
    """The GTIN-13 of an entity's product: GS1 company prefix + item reference + check digit."""

    __tablename__ = "village_gtin"
    __table_args__ = (UniqueConstraint("entity_id", "product_code", name="uq_village_gtin_entity_product"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="CASCADE"), index=True)
    product_code: Mapped[str] = mapped_column(String(40))
    item_ref: Mapped[int] = mapped_column(Integer)
    gtin13: Mapped[str] = mapped_column(String(13), unique=True)
