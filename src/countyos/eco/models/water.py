"""Tables of the water part of the ecology domain: monitoring sections (断面/点位) and their samples.

A section has a target class (水质目标) and may be an automatic station (a sensing Thing of device class
``water_quality``). A sample (采样) keeps the values per parameter as measured and, computed when it is
saved with GB 3838-2002, the class per parameter, the sample's class, whether it meets the target and
the parameters past it with their 超标倍数. The section keeps its latest sample's class for lists and maps.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class WaterbodyType(StrEnum):
    RIVER = "river"
    LAKE = "lake"  # lake or reservoir (湖、库)


class SectionLevel(StrEnum):
    """断面级别."""

    NATIONAL = "national"  # 国控
    PROVINCIAL = "provincial"  # 省控
    CITY = "city"  # 市控
    COUNTY = "county"  # 县控
    BOUNDARY = "boundary"  # 交接断面


class SampleSource(StrEnum):
    AUTO = "auto"  # daily mean of an automatic station
    LAB = "lab"  # a laboratory report entered by hand
    IMPORT = "import"  # a laboratory report from a file


class WaterSection(Base):
    """断面/点位: where water is sampled or measured, with its target class."""

    __tablename__ = "eco_water_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # 断面编码
    name: Mapped[str] = mapped_column(String(100))
    water_name: Mapped[str] = mapped_column(String(100), default="")  # the river or lake
    waterbody: Mapped[WaterbodyType] = mapped_column(StrEnumType(WaterbodyType, 8), default=WaterbodyType.RIVER)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    division_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    level: Mapped[SectionLevel] = mapped_column(StrEnumType(SectionLevel, 12), default=SectionLevel.COUNTY)
    target_class: Mapped[str] = mapped_column(String(4), default="III")
    thing_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_thing.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_class: Mapped[str | None] = mapped_column(String(4))  # of the latest sample
    last_meets: Mapped[bool | None] = mapped_column(Boolean)
    last_sampled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WaterSample(Base):
    """One sample of a section: values per parameter and their GB 3838 classes."""

    __tablename__ = "eco_water_sample"
    __table_args__ = (
        UniqueConstraint("section_id", "source", "sampled_at", name="uq_eco_water_sample_section_source_time"),
        Index("ix_eco_water_sample_section_time", "section_id", "sampled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("eco_water_section.id", ondelete="CASCADE"))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)  # an automatic day: its local midnight
    source: Mapped[SampleSource] = mapped_column(StrEnumType(SampleSource, 8))
    values: Mapped[dict[str, float]] = mapped_column(JSON)  # code → value
    classes: Mapped[dict[str, Any]] = mapped_column(JSON)  # code → class (None for 水温)
    cls: Mapped[str | None] = mapped_column(String(4), index=True)
    target_class: Mapped[str] = mapped_column(String(4))  # the section's target when the sample was classified
    meets: Mapped[bool | None] = mapped_column(Boolean)
    exceeding: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # 超标项目 and 超标倍数
    hours: Mapped[dict[str, int] | None] = mapped_column(JSON)  # automatic: hours with data per parameter
    lab_name: Mapped[str] = mapped_column(String(100), default="")
    report_no: Mapped[str] = mapped_column(String(60), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    alarm_id: Mapped[int | None] = mapped_column(Integer)  # the exceedance's alarm, when raised
    case_id: Mapped[int | None] = mapped_column(Integer)  # the exceedance's case, when opened
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
