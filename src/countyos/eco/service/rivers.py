"""Rivers, lakes, sections and forest areas (河湖林区) and the chiefs bound to them (河长/林长).

Geometries are kept in WGS-84/CGCS2000 lon/lat like geo's; a river's or section's length and a lake's,
reservoir's or forest's area are measured in the CGCS2000 Gauss-Krüger zone of the shape's centre
(``geo.service.crs``). A shape must touch the county (the county's boundary as loaded in geo); its
township is the one holding the shape's representative point. Files are read by geo's readers
(GeoJSON, zipped Shapefile, GeoPackage) with a report of every feature.

An assignment binds a person at a level (县级/乡级/村级) and in a role (河长/林长/总河长) to one area
from a date; ending it sets its last day and keeps it (history). One person holds at most one open
assignment of a role to an area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.eco.models.rivers import LINE_KINDS, AreaKind, ChiefLevel, ChiefRole, RiverArea, RiverChief
from countyos.eco.schemas.rivers import AreaIn, ChiefIn
from countyos.geo.service import OutsideCounty, divisions, locate
from countyos.geo.service import crs as geo_crs
from countyos.geo.service import importing as geo_import
from countyos.org.models import User
from countyos.org.service import audit, users

MAX_FILE_BYTES = 50_000_000
MAX_FEATURES = 5_000
LINE_TYPES = ("LineString", "MultiLineString")
POLYGON_TYPES = ("Polygon", "MultiPolygon")
KIND_NAMES = {
    AreaKind.RIVER: N_("River"),
    AreaKind.SECTION: N_("River section"),
    AreaKind.LAKE: N_("Lake"),
    AreaKind.RESERVOIR: N_("Reservoir"),
    AreaKind.FOREST: N_("Forest area"),
}
LEVEL_NAMES = {ChiefLevel.COUNTY: N_("County level"), ChiefLevel.TOWNSHIP: N_("Township level"),
               ChiefLevel.VILLAGE: N_("Village level")}  # fmt: skip
ROLE_NAMES = {ChiefRole.RIVER: N_("River chief"), ChiefRole.FOREST: N_("Forest chief"),
              ChiefRole.GENERAL: N_("General river chief")}  # fmt: skip


# --- areas ---------------------------------------------------------------------------------------


def get_area(session: Session, *, area_id: int) -> RiverArea:
    a = session.get(RiverArea, area_id)
    if a is None:
        raise NotFound(N_("River, lake or forest area %(id)s does not exist"), id=area_id)
    return a


def get_area_by_code(session: Session, *, code: str) -> RiverArea | None:
    return session.scalar(select(RiverArea).where(RiverArea.code == code))


def list_areas(
    session: Session, *, kind: AreaKind | None = None, q: str = "", active: bool | None = True, limit: int = 500
) -> list[RiverArea]:
    stmt = select(RiverArea).order_by(RiverArea.kind, RiverArea.code).limit(limit)
    if kind is not None:
        stmt = stmt.where(RiverArea.kind == kind)
    if active is not None:
        stmt = stmt.where(RiverArea.active.is_(active))
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(RiverArea.name.like(like), RiverArea.code.like(like)))
    return list(session.scalars(stmt))


def measure(kind: AreaKind, geom: BaseGeometry) -> tuple[float | None, float | None]:
    """(length in metres, area in square metres) in the Gauss-Krüger zone of the shape's centre."""
    metric = geo_crs.to_metres(geom)
    if kind in LINE_KINDS:
        return round(float(metric.length), 2), None
    return None, round(float(metric.area), 2)


def check_geometry(kind: AreaKind, geom: BaseGeometry | None) -> tuple[BaseGeometry | None, str | None]:
    """The geometry made valid for KIND, or the English message id of why it cannot be used."""
    if geom is None or geom.is_empty:
        return None, N_("The feature has no geometry")
    want = LINE_TYPES if kind in LINE_KINDS else POLYGON_TYPES
    if geom.geom_type not in want:
        return None, N_("A %(kind)s needs a %(want)s geometry, not %(got)s")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None, N_("The coordinates are not longitude and latitude")
    if kind not in LINE_KINDS and not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.geom_type == "GeometryCollection":
            polys = [g for g in geom.geoms if g.geom_type in POLYGON_TYPES]
            geom = shapely.unary_union(polys) if polys else geom
        if geom.geom_type not in POLYGON_TYPES:
            return None, N_("The polygon is not valid")
    return geom, None


def _place(session: Session, geom: BaseGeometry) -> tuple[str | None, str | None]:
    """The township holding the shape's representative point; (None, None) without a county loaded.
    OutsideCounty when the county is known and the shape lies outside it."""
    county = divisions.the_county(session)
    if county is None:
        return None, None
    p = geom.representative_point() if geom.geom_type not in LINE_TYPES else geom.interpolate(0.5, normalized=True)
    if not county.geom.intersects(geom):
        raise OutsideCounty(N_("The shape lies outside the county"))
    try:
        place = locate(session, lon=p.x, lat=p.y)
    except OutsideCounty:
        return None, None  # crosses the county's edge: kept, no township
    return place.township_code, place.township_name


def _geom_from(body: AreaIn) -> BaseGeometry:
    try:
        geom = shape(body.geometry)
    except Exception as exc:  # shapely raises several types for a malformed GeoJSON geometry
        raise ValidationFailed(
            N_("The geometry is not a GeoJSON geometry"), errors=[{"field": "geometry", "message": "not valid"}]
        ) from exc
    checked, why = check_geometry(body.kind, geom)
    if checked is None:
        assert why is not None
        raise ValidationFailed(
            why,
            kind=gettext(KIND_NAMES[body.kind]),
            want=" / ".join(LINE_TYPES if body.kind in LINE_KINDS else POLYGON_TYPES),
            got=geom.geom_type,
            errors=[{"field": "geometry", "message": why}],
        )
    return checked


def _parent(session: Session, kind: AreaKind, parent_code: str | None) -> int | None:
    if not parent_code:
        return None
    parent = get_area_by_code(session, code=parent_code)
    if parent is None:
        raise ValidationFailed(
            N_("No river, lake or forest area has the code %(code)s"),
            code=parent_code,
            errors=[{"field": "parent_code", "message": N_("unknown code")}],
        )
    return parent.id


def _apply(session: Session, a: RiverArea, body: AreaIn, geom: BaseGeometry) -> None:
    a.kind, a.code, a.name = body.kind, body.code.strip(), body.name.strip()
    a.note = (body.note or "").strip() or None
    a.parent_id = _parent(session, body.kind, body.parent_code)
    a.set_geometry(geom)
    a.length_m, a.area_m2 = measure(body.kind, geom)
    try:
        a.township_code, a.township_name = _place(session, geom)
    except OutsideCounty as exc:
        raise ValidationFailed(exc.message, errors=[{"field": "geometry", "message": exc.message}]) from exc
    a.updated_at = utcnow()


def create_area(session: Session, *, actor: Actor, body: AreaIn, source: str | None = "drawn") -> RiverArea:
    if get_area_by_code(session, code=body.code.strip()) is not None:
        raise Conflict(
            N_("The code %(code)s is taken"), code=body.code, errors=[{"field": "code", "message": N_("taken")}]
        )
    a = RiverArea(active=True, source=source)
    _apply(session, a, body, _geom_from(body))
    session.add(a)
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.area.create", target_type="eco_river_area",
                 target_id=a.id, detail={"kind": str(a.kind), "code": a.code, "name": a.name})  # fmt: skip
    return a


def update_area(session: Session, *, actor: Actor, area_id: int, body: AreaIn) -> RiverArea:
    a = get_area(session, area_id=area_id)
    other = get_area_by_code(session, code=body.code.strip())
    if other is not None and other.id != a.id:
        raise Conflict(
            N_("The code %(code)s is taken"), code=body.code, errors=[{"field": "code", "message": N_("taken")}]
        )
    if body.parent_code and body.parent_code == a.code:
        raise ValidationFailed(
            N_("An area cannot be its own parent"), errors=[{"field": "parent_code", "message": "self"}]
        )
    _apply(session, a, body, _geom_from(body))
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.area.update", target_type="eco_river_area",
                 target_id=a.id, detail={"kind": str(a.kind), "code": a.code, "name": a.name})  # fmt: skip
    return a


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    total: int = 0
    added: int = 0
    updated: int = 0
    skipped: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # row, code, name, result, message

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "added": self.added, "updated": self.updated, "skipped": self.skipped,
                "rows": self.rows}  # fmt: skip


KIND_WORDS = {
    "river": AreaKind.RIVER, "河流": AreaKind.RIVER, "河道": AreaKind.RIVER,
    "section": AreaKind.SECTION, "河段": AreaKind.SECTION,
    "lake": AreaKind.LAKE, "湖泊": AreaKind.LAKE, "湖": AreaKind.LAKE,
    "reservoir": AreaKind.RESERVOIR, "水库": AreaKind.RESERVOIR,
    "forest": AreaKind.FOREST, "林区": AreaKind.FOREST, "林地": AreaKind.FOREST,
}  # fmt: skip


def import_file(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    kind: AreaKind | None = None,
    source_crs: str | None = None,
) -> ImportResult:
    """Areas from a GeoJSON, zipped Shapefile or GeoPackage: properties ``code``/编码, ``name``/名称,
    ``kind``/类型 (or KIND for the whole file), ``parent``/所属河流 (a parent's code). A feature whose
    code exists replaces that area. Each feature is reported; a bad one is skipped, the rest kept."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(N_("The file is too large"))
    rows, used_crs = geo_import.read_features(data, filename, source_crs=source_crs)
    if len(rows) > MAX_FEATURES:
        raise ValidationFailed(N_("The file has more than %(max)s features; split it"), max=MAX_FEATURES)
    out = ImportResult(total=len(rows))
    for r in rows:
        code = geo_import.pick(r.properties, "code", "编码", "河段编码", "id")
        name = geo_import.pick(r.properties, "name", "名称", "河流名称", "河段名称")
        word = geo_import.pick(r.properties, "kind", "类型", "type")
        k = kind or (KIND_WORDS.get(str(word).strip().lower()) if word is not None else None)
        parent = geo_import.pick(r.properties, "parent", "parent_code", "所属河流")
        line: dict[str, Any] = {"row": r.row, "code": str(code or ""), "name": str(name or "")}
        try:
            if k is None:
                raise ValidationFailed(N_("The kind is missing or unknown (river, section, lake, reservoir, forest)"))
            if code is None or name is None:
                raise ValidationFailed(N_("A code and a name are needed"))
            if r.geom is None:
                raise ValidationFailed(N_("The feature has no geometry"))
            body = AreaIn(
                kind=k, code=str(code).strip()[:40], name=str(name).strip()[:100],
                parent_code=str(parent).strip() if parent is not None else None,
                geometry=mapping(r.geom),
            )  # fmt: skip
            existing = get_area_by_code(session, code=body.code)
            with session.begin_nested():
                if existing is None:
                    a = create_area(session, actor=actor, body=body, source=filename[:200] or "import")
                    out.added += 1
                    line["result"] = "added"
                else:
                    a = update_area(session, actor=actor, area_id=existing.id, body=body)
                    out.updated += 1
                    line["result"] = "updated"
            line.update(id=a.id, length_m=a.length_m, area_m2=a.area_m2)
        except ValidationFailed as exc:
            out.skipped += 1
            line["result"] = "skipped"
            line["message"] = exc.message
        except Exception as exc:  # pydantic or a geometry error of one feature: reported, the rest go on
            out.skipped += 1
            line["result"] = "skipped"
            line["message"] = str(exc).splitlines()[0][:300]
        out.rows.append(line)
    audit.record(session, actor=actor, action="eco.rivers.area.import", target_type="eco_river_area",
                 detail={"file": filename[:200], "crs": used_crs, "added": out.added, "updated": out.updated,
                         "skipped": out.skipped})  # fmt: skip
    return out


# --- chiefs --------------------------------------------------------------------------------------


def get_chief(session: Session, *, chief_id: int) -> RiverChief:
    c = session.get(RiverChief, chief_id)
    if c is None:
        raise NotFound(N_("Chief assignment %(id)s does not exist"), id=chief_id)
    return c


def list_chiefs(
    session: Session,
    *,
    area_id: int | None = None,
    user_id: int | None = None,
    level: ChiefLevel | None = None,
    current: bool | None = None,
    on: date | None = None,
    limit: int = 2000,
) -> list[RiverChief]:
    stmt = select(RiverChief).order_by(RiverChief.level, RiverChief.area_id, RiverChief.starts_on).limit(limit)
    if area_id is not None:
        stmt = stmt.where(RiverChief.area_id == area_id)
    if user_id is not None:
        stmt = stmt.where(RiverChief.user_id == user_id)
    if level is not None:
        stmt = stmt.where(RiverChief.level == level)
    if current is not None:
        today = on or utcnow().date()
        serving = (RiverChief.starts_on <= today) & (RiverChief.ends_on.is_(None) | (RiverChief.ends_on >= today))
        stmt = stmt.where(serving if current else ~serving)
    return list(session.scalars(stmt))


def assign(session: Session, *, actor: Actor, body: ChiefIn) -> RiverChief:
    user = session.get(User, body.user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(N_("No active person has this id"), errors=[{"field": "user_id", "message": "unknown"}])
    area = get_area(session, area_id=body.area_id)
    if body.role == ChiefRole.FOREST and area.kind != AreaKind.FOREST:
        raise ValidationFailed(
            N_("A forest chief is bound to a forest area"), errors=[{"field": "role", "message": "forest"}]
        )
    if body.role != ChiefRole.FOREST and area.kind == AreaKind.FOREST:
        raise ValidationFailed(N_("A forest area has forest chiefs"), errors=[{"field": "role", "message": "forest"}])
    clash = session.scalar(
        select(RiverChief.id).where(
            RiverChief.user_id == body.user_id, RiverChief.area_id == body.area_id, RiverChief.role == body.role,
            RiverChief.ends_on.is_(None) | (RiverChief.ends_on >= body.starts_on),
        )
    )  # fmt: skip
    if clash is not None:
        raise Conflict(N_("This person already holds this role for this area; end that assignment first"))
    c = RiverChief(
        user_id=body.user_id, area_id=body.area_id, level=body.level, role=body.role, starts_on=body.starts_on,
        note=(body.note or "").strip() or None,
    )  # fmt: skip
    session.add(c)
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.chief.assign", target_type="eco_river_chief",
                 target_id=c.id, detail={"user_id": c.user_id, "area": area.code, "level": str(c.level),
                                         "role": str(c.role), "from": c.starts_on.isoformat()})  # fmt: skip
    return c


def end(session: Session, *, actor: Actor, chief_id: int, ends_on: date, reason: str | None = None) -> RiverChief:
    c = get_chief(session, chief_id=chief_id)
    if c.ends_on is not None:
        raise Conflict(N_("This assignment has already ended"))
    if ends_on < c.starts_on:
        raise ValidationFailed(
            N_("The last day cannot be before the first"), errors=[{"field": "ends_on", "message": "before start"}]
        )
    c.ends_on, c.end_reason = ends_on, (reason or "").strip() or None
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.chief.end", target_type="eco_river_chief",
                 target_id=c.id, detail={"to": ends_on.isoformat(), "reason": c.end_reason})  # fmt: skip
    return c


def names(session: Session, user_ids: list[int]) -> dict[int, str]:
    return {k: v.display_name for k, v in users.colleagues(session, user_ids=user_ids).items()}


def area_names(session: Session, area_ids: list[int]) -> dict[int, str]:
    ids = sorted(set(area_ids))
    if not ids:
        return {}
    return dict(session.execute(select(RiverArea.id, RiverArea.name).where(RiverArea.id.in_(ids))).all())
