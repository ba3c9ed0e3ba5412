"""基地/地块 of producers: polygons drawn on the map or imported from GeoJSON / zipped Shapefile /
GeoPackage (geo's readers), their area measured in the CGCS2000 Gauss-Krüger zone of the shape's centre
(``geo.service.crs.area_m2``), the village holding the shape's representative point, what is grown there
and its 设施; the sensing devices (Things) attached to a base.

A file is imported all or nothing: every feature is checked first and the report lists each bad one;
nothing is written while one is bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.service import crs as geo_crs
from countyos.geo.service import importing as geo_import
from countyos.geo.service import locate
from countyos.org.service import audit
from countyos.sensing.models import Thing
from countyos.sensing.service import devices as sensing_devices
from countyos.village.models.producers import BaseDevice, Facility, ProductionBase
from countyos.village.schemas.producers import MAX_VERTICES, BaseIn
from countyos.village.service import producers, scope

MAX_FILE_BYTES = 10_000_000
MAX_FEATURES = 500
MAX_AREA_M2 = 10_000_000.0  # 1000 ha: a larger shape is a mistake (a township, not a plot)
POLYGON_TYPES = ("Polygon", "MultiPolygon")
FACILITY_WORDS = {
    **{f.value: f for f in Facility},
    "露地": Facility.OPEN_FIELD, "大棚": Facility.GREENHOUSE, "温室": Facility.GREENHOUSE, "果园": Facility.ORCHARD,
    "茶园": Facility.TEA_GARDEN, "池塘": Facility.POND, "鱼塘": Facility.POND, "圈舍": Facility.PEN,
    "林地": Facility.FOREST_LAND,
}  # fmt: skip


def _geom_error(message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": "geometry", "message": message}], **params)


def check_geometry(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygon made valid, or a field error on ``geometry``."""
    if geom is None or geom.is_empty:
        raise _geom_error(N_("The feature has no geometry"))
    if geom.geom_type not in POLYGON_TYPES:
        raise _geom_error(N_("A base is a polygon, not a %(got)s"), got=geom.geom_type)
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise _geom_error(N_("The geometry has too many vertices"))
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise _geom_error(N_("The coordinates are not longitude and latitude"))
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.geom_type == "GeometryCollection":
            polys = [g for g in geom.geoms if g.geom_type in POLYGON_TYPES]
            geom = shapely.unary_union(polys) if polys else geom
        if geom.geom_type not in POLYGON_TYPES or geom.is_empty:
            raise _geom_error(N_("The polygon is not valid"))
    area = geo_crs.area_m2(geom)
    if area <= 0 or area > MAX_AREA_M2:
        raise _geom_error(N_("A base's area must be above 0 and at most 1000 ha"))
    return geom


def _geom_from(body: BaseIn) -> BaseGeometry:
    try:
        geom = shape(body.geometry)
    except Exception as exc:  # shapely raises several types for a malformed GeoJSON geometry
        raise _geom_error(N_("The geometry is not a GeoJSON geometry")) from exc
    return check_geometry(geom)


def _village_of(session: Session, body: BaseIn, geom: BaseGeometry) -> tuple[str | None, str | None]:
    if body.village_code:
        return producers._village(session, body.village_code)
    p = geom.representative_point()
    try:
        place = locate(session, lon=p.x, lat=p.y)
    except CountyError:
        return None, None
    return place.village_code, place.village_name


def _next_code(session: Session, entity_id: int) -> str:
    n = session.scalar(select(func.count()).where(ProductionBase.entity_id == entity_id)) or 0
    while True:
        n += 1
        code = f"JD{entity_id:05d}-{n:02d}"
        if session.scalar(select(ProductionBase.id).where(ProductionBase.code == code)) is None:
            return code


def _apply(session: Session, b: ProductionBase, body: BaseIn, geom: BaseGeometry) -> None:
    code = body.code or b.code or _next_code(session, body.entity_id)
    other = session.scalar(
        select(ProductionBase.id).where(ProductionBase.code == code, ProductionBase.id != (b.id or 0))
    )
    if other is not None:
        raise ValidationFailed(
            N_("The code %(code)s is taken"), code=code, errors=[{"field": "code", "message": N_("taken")}]
        )
    b.entity_id, b.code, b.name, b.facility = body.entity_id, code, body.name.strip(), body.facility
    b.product_codes = producers._check_products(body.product_codes)
    b.village_code, b.village_name = _village_of(session, body, geom)
    b.geom = geom
    b.minx, b.miny, b.maxx, b.maxy = (float(v) for v in geom.bounds)
    b.area_m2 = round(geo_crs.area_m2(geom), 1)


def _detail(b: ProductionBase) -> dict[str, Any]:
    return {"entity": b.entity_id, "code": b.code, "name": b.name, "facility": str(b.facility), "area_m2": b.area_m2}


def create_base(session: Session, *, actor: Actor, body: BaseIn) -> ProductionBase:
    scope.entity_for(session, actor, body.entity_id, write=True)
    b = ProductionBase(active=True, created_by=actor.name, version=1)
    _apply(session, b, body, _geom_from(body))
    session.add(b)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.base.create", target_type="village_base",
                 target_id=b.id, detail=_detail(b))  # fmt: skip
    return b


def get_base(session: Session, *, actor: Actor, base_id: int, write: bool = False) -> ProductionBase:
    b = session.get(ProductionBase, base_id)
    if b is None:
        raise NotFound(N_("No such base"))
    try:
        scope.entity_for(session, actor, b.entity_id, write=write)
    except NotFound as exc:
        raise NotFound(N_("No such base")) from exc
    return b


def update_base(session: Session, *, actor: Actor, base_id: int, body: BaseIn) -> ProductionBase:
    b = get_base(session, actor=actor, base_id=base_id, write=True)
    if body.entity_id != b.entity_id:
        scope.entity_for(session, actor, body.entity_id, write=True)
    _apply(session, b, body, _geom_from(body))
    b.version += 1
    session.flush()
    audit.record(session, actor=actor, action="village.producers.base.update", target_type="village_base",
                 target_id=b.id, detail=_detail(b))  # fmt: skip
    return b


def as_input(b: ProductionBase) -> dict[str, Any]:
    import json

    return {
        "entity_id": str(b.entity_id), "code": b.code, "name": b.name, "facility": b.facility.value,
        "product_codes": list(b.product_codes), "village_code": b.village_code or "",
        "geometry": json.dumps(mapping(b.geom)),
    }  # fmt: skip


def list_bases(
    session: Session, *, actor: Actor, entity_id: int | None = None, village_code: str | None = None, limit: int = 500
) -> list[ProductionBase]:
    stmt = select(ProductionBase).where(ProductionBase.active.is_(True))
    if not scope.sees_all(actor):
        stmt = stmt.where(ProductionBase.entity_id.in_(scope.entity_ids_of(session, actor) or [0]))
    if entity_id is not None:
        stmt = stmt.where(ProductionBase.entity_id == entity_id)
    if village_code:
        stmt = stmt.where(ProductionBase.village_code.startswith(village_code, autoescape=True))
    return list(session.scalars(stmt.order_by(ProductionBase.entity_id, ProductionBase.code).limit(limit)))


def feature(b: ProductionBase, entity_name: str = "") -> dict[str, Any]:
    """The base as a GeoJSON Feature."""
    return {
        "type": "Feature", "id": b.id, "geometry": mapping(b.geom),
        "properties": {"id": b.id, "code": b.code, "name": b.name, "entity_id": b.entity_id, "entity": entity_name,
                       "facility": str(b.facility), "products": list(b.product_codes), "area_m2": b.area_m2,
                       "village_code": b.village_code, "village_name": b.village_name,
                       "url": f"/village/bases/{b.id}"},
    }  # fmt: skip


def collection(session: Session, bases: list[ProductionBase]) -> dict[str, Any]:
    names = producers.names(session, [b.entity_id for b in bases])
    return {"type": "FeatureCollection", "features": [feature(b, names.get(b.entity_id, "")) for b in bases]}


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    total: int = 0
    added: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # row, name, result, message
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "added": self.added, "ok": self.ok, "rows": self.rows}


def import_file(
    session: Session,
    *,
    actor: Actor,
    entity_id: int,
    data: bytes,
    filename: str,
    facility: Facility | None = None,
    source_crs: str | None = None,
) -> ImportReport:
    """Bases of one entity from a GeoJSON, zipped Shapefile or GeoPackage: properties name/名称,
    code/编码, facility/设施, products/品种 (product codes separated by commas). All or nothing: a bad
    feature refuses the file (422 with every row's problem); a good file adds every feature."""
    scope.entity_for(session, actor, entity_id, write=True)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(N_("The file is too large"))
    rows, used_crs = geo_import.read_features(data, filename, source_crs=source_crs)
    if len(rows) > MAX_FEATURES:
        raise ValidationFailed(N_("The file has more than %(max)s features; split it"), max=MAX_FEATURES)
    if not rows:
        raise ValidationFailed(N_("The file has no features"))
    out = ImportReport(total=len(rows))
    bodies: list[tuple[dict[str, Any], BaseIn, BaseGeometry]] = []
    for r in rows:
        name = geo_import.pick(r.properties, "name", "名称", "基地名称")
        code = geo_import.pick(r.properties, "code", "编码", "基地编码")
        word = geo_import.pick(r.properties, "facility", "设施", "类型")
        prods = geo_import.pick(r.properties, "products", "product_codes", "品种")
        line: dict[str, Any] = {"row": r.row, "name": str(name or "")}
        try:
            fac = facility or (FACILITY_WORDS.get(str(word).strip()) if word is not None else None)
            if fac is None:
                raise ValidationFailed(N_("The facility is missing or unknown"))
            geom = check_geometry(r.geom)
            codes = [c.strip() for c in str(prods or "").replace("，", ",").split(",") if c.strip()]
            body = BaseIn(
                entity_id=entity_id, code=str(code).strip()[:40] if code else None,
                name=str(name or f"{filename[:60]} {r.row}").strip()[:100], facility=fac, product_codes=codes,
                geometry=mapping(geom),
            )  # fmt: skip
            producers._check_products(body.product_codes)
            line["result"] = "ok"
            bodies.append((line, body, geom))
        except ValidationFailed as exc:
            line.update(result="refused", message=exc.message)
            out.ok = False
        except Exception as exc:  # pydantic or a geometry error of one feature: reported with the others
            line.update(result="refused", message=str(exc).splitlines()[0][:300])
            out.ok = False
        out.rows.append(line)
    if not out.ok:
        bad = [x for x in out.rows if x["result"] == "refused"]
        raise ValidationFailed(
            N_("%(count)s of %(total)s features are not valid; nothing was imported"),
            count=len(bad),
            total=out.total,
            errors=[{"field": f"row {x['row']}", "message": x.get("message", "")} for x in bad[:100]],
        )
    for line, body, geom in bodies:
        b = ProductionBase(active=True, created_by=actor.name, version=1)
        _apply(session, b, body, geom)
        session.add(b)
        session.flush()
        line.update(id=b.id, code=b.code, area_m2=b.area_m2)
        out.added += 1
    audit.record(session, actor=actor, action="village.producers.base.import", target_type="village_entity",
                 target_id=entity_id, detail={"file": filename[:200], "crs": used_crs, "added": out.added})  # fmt: skip
    return out


# --- devices -------------------------------------------------------------------------------------


def devices_of(session: Session, *, base_ids: list[int]) -> list[tuple[BaseDevice, Thing]]:
    if not base_ids:
        return []
    stmt = (
        select(BaseDevice, Thing)
        .join(Thing, Thing.id == BaseDevice.thing_id)
        .where(BaseDevice.base_id.in_(base_ids))
        .order_by(Thing.device_key)
    )
    return [(bd, t) for bd, t in session.execute(stmt).all()]


def attach(session: Session, *, actor: Actor, base_id: int, device_key: str) -> BaseDevice:
    b = get_base(session, actor=actor, base_id=base_id, write=True)
    thing = sensing_devices.get_by_key(session, device_key=device_key.strip())
    if thing is None:
        raise ValidationFailed(
            N_("No device has the key %(key)s"), key=device_key,
            errors=[{"field": "device_key", "message": N_("No such device")}],
        )  # fmt: skip
    current = session.scalar(select(BaseDevice).where(BaseDevice.thing_id == thing.id))
    if current is not None:
        if current.base_id == b.id:
            return current
        raise Conflict(N_("This device is attached to another base; detach it there first"))
    bd = BaseDevice(base_id=b.id, thing_id=thing.id, attached_at=utcnow(), attached_by=actor.name)
    session.add(bd)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.device.attach", target_type="village_base",
                 target_id=b.id, detail={"device": thing.device_key})  # fmt: skip
    return bd


def detach(session: Session, *, actor: Actor, base_id: int, thing_id: int) -> None:
    b = get_base(session, actor=actor, base_id=base_id, write=True)
    gone = session.execute(delete(BaseDevice).where(BaseDevice.base_id == b.id, BaseDevice.thing_id == thing_id))
    if not int(getattr(gone, "rowcount", 0) or 0):
        raise NotFound(N_("This device is not attached to this base"))
    audit.record(session, actor=actor, action="village.producers.device.detach", target_type="village_base",
                 target_id=b.id, detail={"thing": thing_id})  # fmt: skip


def device_choices(session: Session, *, limit: int = 200) -> list[Thing]:
    """Field devices a base may carry (greenhouse and soil stations), not yet attached anywhere."""
    taken = select(BaseDevice.thing_id)
    stmt = select(Thing).where(Thing.device_class.in_(["greenhouse", "soil"]), Thing.id.not_in(taken))
    return list(session.scalars(stmt.order_by(Thing.device_key).limit(limit)))
