"""The geo domain's records as the data catalogue publishes them live (``data/service/live.py``):
management components (部件, GB/T 47678.5) with their position as GeoJSON, and unit grids."""

from __future__ import annotations

import json
from collections.abc import Iterator

from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.geo.models import Component, Grid

COMPONENT_HEADERS = ("部件标识码", "部件名称", "部件类别代码", "主管部门名称", "所在单元网格", "状态", "geometry")
GRID_HEADERS = ("单元网格标识码", "网格名称", "乡镇街道代码", "geometry")


def _geojson(geom: object) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def components(session: Session, *, limit: int) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    stmt = select(Component).order_by(Component.code).limit(limit)
    rows = (
        [c.code, c.name, c.class_code, c.owner_dept_name or "", c.grid_code or "", str(c.status), _geojson(c.geom)]
        for c in session.scalars(stmt)
    )
    return COMPONENT_HEADERS, rows


def grids(session: Session, *, limit: int) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    stmt = select(Grid).order_by(Grid.code).limit(limit)
    rows = ([g.code, g.name or "", g.township_code or "", _geojson(g.geom)] for g in session.scalars(stmt))
    return GRID_HEADERS, rows
