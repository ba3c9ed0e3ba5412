"""ORM models of the geo domain: divisions, unit grids, grid workers, management components.

Geometries are lon/lat in CGCS2000 ≈ WGS-84. On PostgreSQL they are PostGIS ``geometry`` columns
(SRID 4326, GiST-indexed); on SQLite (no SpatiaLite) they are WKB blobs. Every geometry row also keeps
its bounding box in four plain columns, so both backends can prefilter by bbox with an ordinary index.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import shapely
from geoalchemy2 import Geometry as PostGISGeometry
from geoalchemy2.elements import WKBElement
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime

SRID = 4326


class _WkbIn(FunctionElement[Any]):
    name = "countyos_wkb_in"
    inherit_cache = True


class _WkbOut(FunctionElement[Any]):
    name = "countyos_wkb_out"
    inherit_cache = True


@compiles(_WkbIn)
@compiles(_WkbOut)
def _plain(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_WkbIn, "postgresql")
def _pg_in(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


@compiles(_WkbOut, "postgresql")
def _pg_out(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


class Geometry(TypeDecorator[BaseGeometry]):
    """A shapely geometry: PostGIS ``geometry(GEOMETRY, 4326)`` on PostgreSQL, WKB on SQLite."""

    impl = LargeBinary
    cache_ok = True
    # Read by geoalchemy2's DDL hooks: the GiST indexes are declared in the models, not added by it.
    spatial_index = False
    management = False
    use_typmod = None
    srid = SRID
    geometry_type = "GEOMETRY"

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        # geoalchemy2's DDL hooks ask with no dialect; the indexes are ours (see __table_args__), so answer
        # "not a PostGIS type" there and let it leave the columns alone.
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(PostGISGeometry(geometry_type="GEOMETRY", srid=SRID, spatial_index=False))
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> Any:
        return _WkbIn(bindvalue)

    def column_expression(self, col: Any) -> Any:
        return type_coerce(_WkbOut(col), self)

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return bytes(shapely.to_wkb(value, include_srid=False))

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            value = value.data
        return shapely.from_wkb(bytes(value))


class DivisionLevel(StrEnum):
    COUNTY = "county"  # 区县 (6-digit GB/T 2260)
    TOWNSHIP = "township"  # 乡镇街道 (9-digit)
    VILLAGE = "village"  # 村/社区 (12-digit NBS)


CODE_LENGTH = {DivisionLevel.COUNTY: 6, DivisionLevel.TOWNSHIP: 9, DivisionLevel.VILLAGE: 12}


class DivisionKind(StrEnum):
    COUNTY = "county"  # 县/区/市
    STREET = "street"  # 街道
    TOWN = "town"  # 镇
    TOWNSHIP = "township"  # 乡 (incl. 民族乡, 苏木)
    COMMUNITY = "community"  # 居委会/社区
    VILLAGE = "village"  # 村委会/嘎查
    OTHER = "other"  # 开发区、农场、林场…


class AreaClass(StrEnum):
    """Area class of a grid, which picks the time limits of cases in it."""

    A = "A"  # 核心区
    B = "B"  # 一般区
    C = "C"  # 外围区


class ComponentStatus(StrEnum):
    """管理部件状态 (GB/T 47678.5 表2 GLBJZT)."""

    INTACT = "intact"  # 完好
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 丢失
    ABANDONED = "abandoned"  # 废弃
    REMOVED = "removed"  # 移除


STATUS_ZH = {
    ComponentStatus.INTACT: "完好",
    ComponentStatus.DAMAGED: "破损",
    ComponentStatus.LOST: "丢失",
    ComponentStatus.ABANDONED: "废弃",
    ComponentStatus.REMOVED: "移除",
}


class _BBox:
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)

    def set_geometry(self, geom: BaseGeometry) -> None:
        self.geom = geom
        self.minx, self.miny, self.maxx, self.maxy = (float(v) for v in geom.bounds)


class Division(_BBox, Base):
    """An administrative division: county (6), township/street (9) or village/community (12 digits)."""

    __tablename__ = "geo_division"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    level: Mapped[DivisionLevel] = mapped_column(StrEnumType(DivisionLevel, 10), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[DivisionKind] = mapped_column(StrEnumType(DivisionKind, 12))
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    crs: Mapped[str] = mapped_column(String(20), default="EPSG:4490")  # CRS of the source data
    households: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_geo_division_bbox", "minx", "maxx", "miny", "maxy"),
        Index("gix_geo_division_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )


class Grid(_BBox, Base):
    """单元网格: 15-digit code = 12-digit village code + 3-digit sequence (west→east, north→south)."""

    __tablename__ = "geo_grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(9), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    area_class: Mapped[AreaClass] = mapped_column(StrEnumType(AreaClass, 1), default=AreaClass.B)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="SET NULL"), index=True)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_geo_grid_bbox", "minx", "maxx", "miny", "maxy"),
        Index("gix_geo_grid_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )


class GridWorker(Base):
    """A grid worker (网格员, an org user) responsible for patrolling a grid."""

    __tablename__ = "geo_grid_worker"

    grid_id: Mapped[int] = mapped_column(ForeignKey("geo_grid.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), primary_key=True, index=True)


class Component(_BBox, Base):
    """管理部件: the 18 standard attributes of GB/T 47678.5 表2 plus the location."""

    __tablename__ = "geo_component"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(17), unique=True)  # GLBJBSM: 6 division + 5 class + 6 seq
    class_code: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(30))  # GLBJMC
    owner_dept_code: Mapped[str | None] = mapped_column(String(18))  # 主管部门代码 ZGBMDM
    owner_dept_name: Mapped[str | None] = mapped_column(String(100))  # 主管部门名称 ZGBMMC
    property_unit_code: Mapped[str | None] = mapped_column(String(18))  # 权属单位代码 QSDWDM
    property_unit_name: Mapped[str | None] = mapped_column(String(100))  # 权属单位名称 QSDWMC
    maintainer_code: Mapped[str | None] = mapped_column(String(18))  # 养护单位代码 YHDWDM
    maintainer_name: Mapped[str | None] = mapped_column(String(100))  # 养护单位名称 YHDWMC
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)  # SZDYWGBSM
    status: Mapped[ComponentStatus] = mapped_column(
        StrEnumType(ComponentStatus, 10), index=True, default=ComponentStatus.INTACT
    )
    initial_date: Mapped[date] = mapped_column(Date)  # 初始日期 CSRQ
    change_date: Mapped[date | None] = mapped_column(Date)  # 变更日期 BGRQ
    data_source: Mapped[str | None] = mapped_column(String(30))  # 数据来源 SJLY
    note: Mapped[str | None] = mapped_column(Text)  # 备注 BZ
    township_code: Mapped[str | None] = mapped_column(String(9), index=True)  # SZJDDM
    township_name: Mapped[str | None] = mapped_column(String(50))  # SZJDMC
    village_code: Mapped[str | None] = mapped_column(String(12))  # SZSQDM
    village_name: Mapped[str | None] = mapped_column(String(50))  # SZSQMC
    lon: Mapped[float] = mapped_column(Float)  # representative point (the point itself, or a line's middle)
    lat: Mapped[float] = mapped_column(Float)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_geo_component_bbox", "minx", "maxx", "miny", "maxy"),
        Index("gix_geo_component_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )


class GeoState(Base):
    """One row: ``version`` grows and ``stamp`` changes with every change of division or grid geometry,
    so that each process knows when its in-memory spatial index is stale (a random stamp, unlike a
    counter, never repeats after a rolled-back transaction)."""

    __tablename__ = "geo_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    stamp: Mapped[str] = mapped_column(String(32), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
