"""Tables of the air part of the ecology domain: stations bound to sensing devices, and their hourly and
daily indices (HJ 633-2012) computed from the devices' hourly rollups."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class StationKind(StrEnum):
    """国控 / 省控 / 县控 stations and 微站 (small sensors)."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    COUNTY = "county"
    MICRO = "micro"


class AirStation(Base):
    """An air monitoring station: a sensing device (class ``air_station``) and which of its datastreams
    measures each pollutant (``streams``: so2/no2/co/o3/pm10/pm25 → datastream id)."""

    __tablename__ = "eco_air_station"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[StationKind] = mapped_column(StrEnumType(StationKind, 12), default=StationKind.COUNTY)
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    streams: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the last hour whose AQI was weighed against the limit (raise or clear), so an hour counts once
    checked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AirHourly(Base):
    """One station's hour (``start`` in UTC): valid hourly concentrations (None: fewer than 45 minutes of
    data), the O3 8-hour moving average ending with this hour, the real-time sub-indices and AQI."""

    __tablename__ = "eco_air_hourly"

    station_id: Mapped[int] = mapped_column(ForeignKey("eco_air_station.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    so2: Mapped[float | None] = mapped_column(Float)
    no2: Mapped[float | None] = mapped_column(Float)
    co: Mapped[float | None] = mapped_column(Float)
    o3: Mapped[float | None] = mapped_column(Float)
    pm10: Mapped[float | None] = mapped_column(Float)
    pm25: Mapped[float | None] = mapped_column(Float)
    o3_8h: Mapped[float | None] = mapped_column(Float)
    minutes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # pollutant → minutes of data
    iaqi: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    aqi: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    primary: Mapped[list[str]] = mapped_column(JSON, default=list)
    exceeding: Mapped[list[str]] = mapped_column(JSON, default=list)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # capped, substituted
    valid: Mapped[bool] = mapped_column(Boolean, default=False)  # every pollutant has a valid value
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AirDaily(Base):
    """One station's local day (``start``: local midnight in UTC): 24-hour averages (None: fewer than 20
    valid hours), the O3 1-hour maximum and maximum 8-hour moving average, the daily sub-indices and AQI."""

    __tablename__ = "eco_air_daily"

    station_id: Mapped[int] = mapped_column(ForeignKey("eco_air_station.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    so2: Mapped[float | None] = mapped_column(Float)
    no2: Mapped[float | None] = mapped_column(Float)
    co: Mapped[float | None] = mapped_column(Float)
    pm10: Mapped[float | None] = mapped_column(Float)
    pm25: Mapped[float | None] = mapped_column(Float)
    o3_1h: Mapped[float | None] = mapped_column(Float)
    o3_8h: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # key → valid hours (o3_8h: windows)
    iaqi: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    aqi: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    primary: Mapped[list[str]] = mapped_column(JSON, default=list)
    exceeding: Mapped[list[str]] = mapped_column(JSON, default=list)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
