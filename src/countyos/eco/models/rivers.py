"""Tables of the rivers part of the ecology domain (河长制/林长制).

- ``eco_river_area``: a river (line), lake or reservoir (polygon), a river section (河段, a line with its
  township) or a forest area (林区, polygon) — the things chiefs are bound to. Geometries as in geo:
  PostGIS ``geometry`` on PostgreSQL, WKB on SQLite, with the bounding box in four plain columns.
- ``eco_river_chief``: one assignment of a person (org user) at a level and in a role to one area, from
  a date to a date (an ended assignment stays, the history).
- ``eco_river_patrol``: one patrol (巡河/巡林) of an assignment, its track in ``eco_river_patrol_point``.
- ``eco_river_problem``: a problem found on a patrol, each one a case in the cases domain.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.geo.models import Geometry


class AreaKind(StrEnum):
    RIVER = "river"  # 河流 (line)
    SECTION = "section"  # 河段 (line, part of a river)
    LAKE = "lake"  # 湖泊 (polygon)
    RESERVOIR = "reservoir"  # 水库 (polygon)
    FOREST = "forest"  # 林区 (polygon)


LINE_KINDS = frozenset({AreaKind.RIVER, AreaKind.SECTION})


class ChiefLevel(StrEnum):
    COUNTY = "county"  # 县级
    TOWNSHIP = "township"  # 乡级
    VILLAGE = "village"  # 村级


class ChiefRole(StrEnum):
    RIVER = "river"  # 河长 (also of a lake or reservoir: 湖长 in practice)
    FOREST = "forest"  # 林长
    GENERAL = "general"  # 总河长


class PatrolState(StrEnum):
    OPEN = "open"  # started, track coming in
    FINISHED = "finished"


class RiverArea(Base):
    __tablename__ = "eco_river_area"
    __table_args__ = (
        Index("ix_eco_river_area_bbox", "minx", "maxx", "miny", "maxy"),
        Index("gix_eco_river_area_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AreaKind] = mapped_column(StrEnumType(AreaKind, 12), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("eco_river_area.id", ondelete="SET NULL"), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_name: Mapped[str | None] = mapped_column(String(60))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float | None] = mapped_column(Float)
    area_m2: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))  # file name, "drawn" or "demo"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def set_geometry(self, geom: BaseGeometry) -> None:
        self.geom = geom
        self.minx, self.miny, self.maxx, self.maxy = (float(v) for v in geom.bounds)


class RiverChief(Base):
    __tablename__ = "eco_river_chief"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("eco_river_area.id", ondelete="RESTRICT"), index=True)
    level: Mapped[ChiefLevel] = mapped_column(StrEnumType(ChiefLevel, 10), index=True)
    role: Mapped[ChiefRole] = mapped_column(StrEnumType(ChiefRole, 10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # last day in office; None while serving
    end_reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RiverPatrol(Base):
    __tablename__ = "eco_river_patrol"

    id: Mapped[int] = mapped_column(primary_key=True)
    chief_id: Mapped[int] = mapped_column(ForeignKey("eco_river_chief.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("eco_river_area.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="RESTRICT"), index=True)
    state: Mapped[PatrolState] = mapped_column(StrEnumType(PatrolState, 10), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # too little track: recorded, not counted
    flag_reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class RiverPatrolPoint(Base):
    __tablename__ = "eco_river_patrol_point"
    __table_args__ = (UniqueConstraint("patrol_id", "seq", name="uq_eco_river_patrol_point_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("eco_river_patrol.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the phone's number of the point (retries are ignored)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)


class RiverProblem(Base):
    __tablename__ = "eco_river_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("eco_river_patrol.id", ondelete="RESTRICT"), index=True)
    chief_id: Mapped[int] = mapped_column(ForeignKey("eco_river_chief.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("eco_river_area.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # a problem type of data/chief_duties.json
    note: Mapped[str | None] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"), index=True)
    case_number: Mapped[str | None] = mapped_column(String(24))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("case_attachment.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
