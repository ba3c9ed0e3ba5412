"""OGC API Features-style collections over divisions, grids and components (framework-independent).

Collections: ``counties``, ``townships``, ``villages``, ``grids``, ``components``. Items are GeoJSON
features; ``bbox`` selects features whose geometry intersects the box (PostGIS ``ST_Intersects`` on
the GiST index on PostgreSQL; bbox columns + shapely on SQLite), property filters are exact matches
(``q`` on components matches a code prefix or a name part), and coordinates are returned in the
requested CRS (EPSG:4326, EPSG:4490, gcj02 or bd09).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.models import STATUS_ZH, Component, ComponentStatus, Division, DivisionLevel, Grid, GridWorker
from countyos.geo.service import packaged
from countyos.geo.service.crs import normalize_crs, transform_geometry

MAX_ITEMS = 10_000
CRS_URIS = {
    "wgs84": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "cgcs2000": "http://www.opengis.net/def/crs/EPSG/0/4490",
    "gcj02": "gcj02",
    "bd09": "bd09",
}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str  # message id
    description: str  # message id
    model: type[Any]
    filters: tuple[str, ...]
    level: DivisionLevel | None = None


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in [
        Collection(
            "counties",
            N_("County"),
            N_("The county boundary (GB/T 2260 code)"),
            Division,
            ("code", "name"),
            DivisionLevel.COUNTY,
        ),
        Collection(
            "townships",
            N_("Townships and streets"),
            N_("Townships, towns and streets (9-digit codes)"),
            Division,
            ("code", "name", "kind", "approximate"),
            DivisionLevel.TOWNSHIP,
        ),
        Collection(
            "villages",
            N_("Villages and communities"),
            N_("Villages and communities (12-digit NBS codes)"),
            Division,
            ("code", "name", "kind", "approximate", "parent_code"),
            DivisionLevel.VILLAGE,
        ),
        Collection(
            "grids",
            N_("Unit grids"),
            N_("Unit grids (15-digit codes) with area class and responsibility"),
            Grid,
            ("code", "village_code", "township_code", "area_class", "department_id", "approximate"),
        ),
        Collection(
            "components",
            N_("Management components"),
            N_("Management components (GB/T 47678.5, 17-digit codes)"),
            Component,
            ("code", "class_code", "major_code", "status", "grid_code", "township_code", "village_code", "q"),
        ),
    ]
}


def get_collection(collection_id: str) -> Collection:
    c = COLLECTIONS.get(collection_id)
    if c is None:
        raise NotFound(
            N_("There is no collection %(id)s; the collections are %(ids)s"),
            id=collection_id,
            ids=", ".join(COLLECTIONS),
        )
    return c


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError as exc:
        raise ValidationFailed(N_("bbox must be four numbers: minLon,minLat,maxLon,maxLat")) from exc
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3] or not all(np.isfinite(parts)):
        raise ValidationFailed(N_("bbox must be four numbers: minLon,minLat,maxLon,maxLat"))
    return parts[0], parts[1], parts[2], parts[3]


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise ValidationFailed(N_("%(value)s is not true or false"), value=value)


def _filtered(c: Collection, filters: dict[str, str]) -> Select[Any]:
    m = c.model
    stmt = select(m)
    if c.level is not None:
        stmt = stmt.where(m.level == c.level)
    for key, value in filters.items():
        if key not in c.filters:
            raise ValidationFailed(
                N_("Unknown filter %(key)s; this collection filters by %(keys)s"), key=key, keys=", ".join(c.filters)
            )
        if key == "approximate":
            stmt = stmt.where(m.approximate == _bool(value))
        elif key == "department_id":
            if not value.isdigit():
                raise ValidationFailed(N_("department_id must be a number"))
            stmt = stmt.where(m.department_id == int(value))
        elif key == "major_code":
            stmt = stmt.where(m.class_code.like(value + "%"))
        elif key == "q":
            stmt = stmt.where(m.code.like(value + "%") | m.name.contains(value))
        elif key == "status":
            try:
                stmt = stmt.where(m.status == ComponentStatus(value))
            except ValueError as exc:
                raise ValidationFailed(N_("Unknown status %(status)s"), status=value) from exc
        else:
            stmt = stmt.where(getattr(m, key) == value)
    return stmt.order_by(m.code)


def _bbox_ids(session: Session, c: Collection, stmt: Select[Any], bbox: tuple[float, float, float, float]) -> list[int]:
    """Ids of the filtered rows whose geometry intersects the box, in code order."""
    m = c.model
    ids = stmt.with_only_columns(m.id)
    if session.get_bind().dialect.name == "postgresql":
        envelope = func.ST_MakeEnvelope(*bbox, 4326)
        return list(session.scalars(ids.where(func.ST_Intersects(m.__table__.c.geom, envelope))))
    minx, miny, maxx, maxy = bbox
    rows = session.execute(
        stmt.with_only_columns(m.id, m.geom).where(m.minx <= maxx, m.maxx >= minx, m.miny <= maxy, m.maxy >= miny)
    ).all()
    if not rows:
        return []
    hits = shapely.intersects(np.array([r.geom for r in rows], dtype=object), box(*bbox))
    return [r.id for r, hit in zip(rows, hits, strict=True) if hit]


def query_items(
    session: Session,
    collection_id: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    filters: dict[str, str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Any], int]:
    """The page of rows and the number matched."""
    c = get_collection(collection_id)
    if not 1 <= limit <= MAX_ITEMS or offset < 0:
        raise ValidationFailed(N_("limit must be 1 to %(max)s and offset at least 0"), max=MAX_ITEMS)
    stmt = _filtered(c, filters or {})
    if bbox is None:
        matched = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        rows = list(session.scalars(stmt.limit(limit).offset(offset)))
        return rows, matched
    ids = _bbox_ids(session, c, stmt, bbox)
    page = ids[offset : offset + limit]
    by_id = {r.id: r for r in session.scalars(select(c.model).where(c.model.id.in_(page)))} if page else {}
    return [by_id[i] for i in page], len(ids)


def get_item(session: Session, collection_id: str, feature_id: str) -> Any:
    c = get_collection(collection_id)
    row = session.scalars(_filtered(c, {}).where(c.model.code == feature_id)).first()
    if row is None:
        raise NotFound(N_("There is no feature %(id)s in %(collection)s"), id=feature_id, collection=collection_id)
    return row


# --- GeoJSON --------------------------------------------------------------------------------------


def _geometry(geom: BaseGeometry, crs: str) -> dict[str, Any]:
    out = transform_geometry(geom, to=crs) if crs in ("gcj02", "bd09") else geom
    out = shapely.transform(out, lambda xy: np.round(xy, 7))
    return dict(mapping(out))


def _division_props(d: Division) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "level": str(d.level),
        "kind": str(d.kind),
        "parent_code": d.parent_code,
        "approximate": d.approximate,
        "source": d.source,
        "source_crs": d.crs,
        "area_m2": round(d.area_m2, 1),
        "households": d.households,
    }


def grid_props(g: Grid, workers: dict[int, list[int]], names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": g.code,
        "name": g.name,
        "village_code": g.village_code,
        "village_name": names.get(g.village_code),
        "township_code": g.township_code,
        "township_name": names.get(g.township_code),
        "county_code": g.county_code,
        "area_class": str(g.area_class),
        "department_id": g.department_id,
        "worker_ids": workers.get(g.id, []),
        "approximate": g.approximate,
        "source": g.source,
        "area_m2": round(g.area_m2, 1),
    }


def component_props(c: Component) -> dict[str, Any]:
    cls = packaged.component_classes().get(c.class_code)
    return {
        "code": c.code,
        "class_code": c.class_code,
        "class_name": cls.name if cls else None,
        "major_code": c.class_code[:2],
        "major_name": cls.major_name if cls else None,
        "name": c.name,
        "status": str(c.status),
        "status_name": STATUS_ZH.get(c.status),
        "grid_code": c.grid_code,
        "township_code": c.township_code,
        "township_name": c.township_name,
        "village_code": c.village_code,
        "village_name": c.village_name,
        "owner_dept_code": c.owner_dept_code,
        "owner_dept_name": c.owner_dept_name,
        "property_unit_code": c.property_unit_code,
        "property_unit_name": c.property_unit_name,
        "maintainer_code": c.maintainer_code,
        "maintainer_name": c.maintainer_name,
        "initial_date": c.initial_date.isoformat() if c.initial_date else None,
        "change_date": c.change_date.isoformat() if c.change_date else None,
        "data_source": c.data_source,
        "note": c.note,
    }


def to_features(session: Session, collection_id: str, rows: list[Any], crs: str) -> list[dict[str, Any]]:
    name = normalize_crs(crs)
    props: Callable[[Any], dict[str, Any]]
    if collection_id == "grids":
        ids = [g.id for g in rows]
        workers: dict[int, list[int]] = {}
        if ids:
            for gid, uid in session.execute(
                select(GridWorker.grid_id, GridWorker.user_id)
                .where(GridWorker.grid_id.in_(ids))
                .order_by(GridWorker.user_id)
            ):
                workers.setdefault(gid, []).append(uid)
        codes = {g.village_code for g in rows} | {g.township_code for g in rows}
        names = (
            dict(session.execute(select(Division.code, Division.name).where(Division.code.in_(codes))).all())
            if codes
            else {}
        )
        props = lambda g: grid_props(g, workers, names)  # noqa: E731
    elif collection_id == "components":
        props = component_props
    else:
        props = _division_props
    return [
        {"type": "Feature", "id": r.code, "geometry": _geometry(r.geom, name), "properties": props(r)} for r in rows
    ]


@dataclass(frozen=True)
class Hit:
    kind: str
    code: str
    name: str | None
    approximate: bool
    bbox: tuple[float, float, float, float]


def search(session: Session, q: str, *, limit: int = 20) -> list[Hit]:
    """Divisions, grids and components whose code starts with ``q`` or whose name contains it."""
    q = (q or "").strip()
    if not q:
        return []
    hits: list[Hit] = []
    sources: list[tuple[Any, Callable[[Any], str]]] = [
        (Division, lambda r: str(r.level)),
        (Grid, lambda r: "grid"),
        (Component, lambda r: "component"),
    ]
    for m, kind_of in sources:
        cond = m.code.like(q + "%") if q.isdigit() else m.name.contains(q)
        for r in session.scalars(select(m).where(cond).order_by(func.length(m.code), m.code).limit(limit)):
            hits.append(
                Hit(
                    kind=kind_of(r),
                    code=r.code,
                    name=r.name,
                    approximate=bool(getattr(r, "approximate", 0)),
                    bbox=(r.minx, r.miny, r.maxx, r.maxy),
                )
            )
            if len(hits) >= limit:
                return hits
    return hits
