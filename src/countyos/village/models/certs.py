"""Tables of the certs part of the village domain.

- ``village_batch``: a batch (批次) of one product of one producer from one 基地 — class, quantity and unit,
  harvest date, the producer's batch number and the batch's trace code (GS1 element string with AIs
  (01)/(10)/(11) where the producer has a GTIN, the county's own code otherwise). A buyer who repacks makes
  a child batch (``parent_id``), so the chain is kept.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, UTCDateTime


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
