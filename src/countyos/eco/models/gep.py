"""Tables of the GEP (生态产品总值) accounts.

- ``GepInput``: one figure a run reads (a statistic, an area by class, a model input), with where it came
  from. A changed value is a new row with the next ``version``; the old row is kept (``current`` false).
- ``GepRun``: a saved, versioned report of one year: the parameter set used (version and content hash),
  a digest over the input rows and the parameter version (a run that would give the same digest as the
  year's latest report answers that report instead of making a new version), the totals.
- ``GepResult``: one item of a run: its physical quantity, its value in 元, the formula, the
  parameters it used and the input rows it read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class InputSource(StrEnum):
    """Where an input figure came from."""

    STATISTIC = "statistic"  # a statistical yearbook or bulletin (统计年鉴 2025 表 3-2)
    FILE = "file"  # an imported workbook (its name and hash)
    RECORD = "record"  # a department's record or a monitoring result
    LANDUSE = "landuse"  # areas by class from a land-use layer (its id and version)


class Category(StrEnum):
    """The three classes of the 2022 specification."""

    MATERIAL = "material"  # 物质产品
    REGULATING = "regulating"  # 调节服务
    CULTURAL = "cultural"  # 文化服务


class ResultStatus(StrEnum):
    COMPUTED = "computed"
    MISSING = "missing"  # an input it needs was not entered: counted as 0 and said in the report
    OFF = "off"  # switched off by the parameter set (not applicable, or not the county's practice)


class GepInput(Base):
    __tablename__ = "eco_gep_input"
    __table_args__ = (
        UniqueConstraint("year", "code", "class_code", "division_code", "version"),
        Index("ix_eco_gep_input_year_current", "year", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))  # see service/gep_inputs.CATALOGUE
    class_code: Mapped[str] = mapped_column(String(20), default="")  # accounting class, "" for the whole
    division_code: Mapped[str] = mapped_column(String(12))  # the county by default
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    source: Mapped[InputSource] = mapped_column(StrEnumType(InputSource, 12))
    source_ref: Mapped[str] = mapped_column(String(300))  # 统计年鉴 2025 表 3-2; a file name and hash; a layer
    note: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    entered_by: Mapped[str] = mapped_column(String(100))  # the name, kept when the account goes
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GepRun(Base):
    __tablename__ = "eco_gep_run"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    parameter_version: Mapped[str] = mapped_column(String(20))
    parameter_hash: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(String(12))
    material: Mapped[float] = mapped_column(Float)  # 元
    regulating: Mapped[float] = mapped_column(Float)
    cultural: Mapped[float] = mapped_column(Float)
    gep: Mapped[float] = mapped_column(Float)
    gdp: Mapped[float | None] = mapped_column(Float)  # 元, from the input statistic
    price_factor: Mapped[float] = mapped_column(Float, default=1.0)  # parameter prices to the year's
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    input_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    results: Mapped[list[GepResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="GepResult.position"
    )


class GepResult(Base):
    __tablename__ = "eco_gep_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eco_gep_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(40))
    category: Mapped[Category] = mapped_column(StrEnumType(Category, 12))
    status: Mapped[ResultStatus] = mapped_column(StrEnumType(ResultStatus, 10))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)  # 元
    formula: Mapped[str] = mapped_column(String(60))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # code → value, unit, source…
    input_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(500))

    run: Mapped[GepRun] = relationship(back_populates="results")
