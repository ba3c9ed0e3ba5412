"""Road segments (路段) of the traffic part: import from GeoJSON, a zipped Shapefile or a GeoPackage, lists
and GeoJSON for maps. Parking lots are in ``traffic_parking.py``, road incidents in ``traffic_incidents.py``.

Import: every feature is read with pyogrio, its coordinates converted from the file's CRS to WGS 84 (a
GeoJSON without one is WGS 84), each LineString — and each part of a MultiLineString — becomes one
segment. Fields are found by name (``data/traffic_roads.json``): the route code (路线编码), the name, the
class (a field's words, else the code's prefix: G/S with three digits 国道/省道, with one, two or four digits
an expressway, X 县道, Y 乡道, C 村道), one-way. The length is geodesic on the WGS 84 ellipsoid
(``pyproj.Geod.geometry_length``). All or nothing: one bad row refuses the file, every bad row listed.
``replace`` removes the existing segments first (incidents keep their words, lose the link).
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.safety.models.traffic import RoadClass, RoadIncident, RoadSegment
from countyos.safety.schemas.traffic import RoadImportOut

MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_FEATURES = 20_000
MAX_VERTICES = 2_000_000
MAX_ERRORS = 200
MAX_GEOJSON = 5_000
GEOD = Geod(ellps="WGS84")
ImportMode = Literal["replace", "append"]

ROAD_CLASS_NAMES = {
    RoadClass.EXPRESSWAY: N_("Expressway"),
    RoadClass.NATIONAL: N_("National road"),
    RoadClass.PROVINCIAL: N_("Provincial road"),
    RoadClass.COUNTY: N_("County road"),
    RoadClass.TOWNSHIP: N_("Township road"),
    RoadClass.VILLAGE: N_("Village road"),
    RoadClass.URBAN: N_("Urban street"),
    RoadClass.OTHER: N_("Other road"),
}
ROAD_CLASS_COLOURS = {
    RoadClass.EXPRESSWAY: "#15803d",
    RoadClass.NATIONAL: "#dc2626",
    RoadClass.PROVINCIAL: "#ea580c",
    RoadClass.COUNTY: "#ca8a04",
    RoadClass.TOWNSHIP: "#2563eb",
    RoadClass.VILLAGE: "#6b7280",
    RoadClass.URBAN: "#7c3aed",
    RoadClass.OTHER: "#9ca3af",
}
ROAD_CLASS_WIDTHS = {
    RoadClass.EXPRESSWAY: 6,
    RoadClass.NATIONAL: 5,
    RoadClass.PROVINCIAL: 4,
    RoadClass.COUNTY: 3,
    RoadClass.TOWNSHIP: 2,
    RoadClass.VILLAGE: 1.5,
    RoadClass.URBAN: 2,
    RoadClass.OTHER: 1.5,
}


@cache
def road_rules() -> dict[str, Any]:
    """The route-code prefixes, the field names and the class words (``data/traffic_roads.json``)."""
    path = Path(__file__).resolve().parent.parent / "data" / "traffic_roads.json"
    out: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return out


_CODE = re.compile(r"^([A-Z])(\d+)")


def class_of_code(code: str | None) -> RoadClass | None:
    """The class a route code names by its prefix (G235 national, G25 expressway, X501 county …)."""
    if not code:
        return None
    m = _CODE.match(code.strip().upper())
    if m is None:
        return None
    rule = road_rules()["prefixes"].get(m.group(1))
    if rule is None:
        return None
    return RoadClass(rule["digits_3"] if len(m.group(2)) == 3 else rule["other"])


def class_of_words(words: str) -> RoadClass | None:
    value = road_rules()["class_words"].get(words.strip().lower()) or road_rules()["class_words"].get(words.strip())
    return RoadClass(value) if value else None


def geodesic_length(line: BaseGeometry) -> float:
    """Metres along the line on the WGS 84 ellipsoid."""
    return float(abs(GEOD.geometry_length(line)))


# --- import --------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: LineString
    code: str | None
    name: str
    road_class: RoadClass
    oneway: bool


def _err(row: int | None, field: str, message: str, **params: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"field": field, "message": message}
    if row is not None:
        out["row"] = row
    if params:
        out["params"] = params
    return out


def _field(names: list[str], wanted: list[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    for w in wanted:
        if w.lower() in lower:
            return lower[w.lower()]
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _read(data: bytes) -> tuple[list[Any], list[str], list[list[Any]], CRS]:
    from pyogrio import raw
    from pyogrio.errors import DataSourceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _fids, wkb, field_data = raw.read(io.BytesIO(data), max_features=MAX_FEATURES + 1)
    except (DataSourceError, ValueError, RuntimeError) as exc:
        raise ValidationFailed(
            N_("The file could not be read as GeoJSON, a zipped Shapefile or a GeoPackage: %(reason)s"),
            reason=str(exc)[:200],
            errors=[_err(None, "file", "Not valid")],
        ) from exc
    if len(wkb) > MAX_FEATURES:
        raise PayloadTooLarge(N_("The file has more than %(max)s features; split it"), max=MAX_FEATURES)
    names = [str(n) for n in meta["fields"]]
    crs_text = meta.get("crs")
    if not crs_text:
        is_json = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
        if not is_json:
            raise ValidationFailed(
                N_("The file names no coordinate system; add a .prj (Shapefile) or an SRS"),
                errors=[_err(None, "file", "Not valid")],
            )
        crs = CRS.from_epsg(4326)
    else:
        try:
            crs = CRS.from_user_input(crs_text)
        except CRSError as exc:
            raise ValidationFailed(N_("Unknown coordinate system %(crs)s"), crs=str(crs_text)[:80]) from exc
    return list(wkb), names, [list(col) for col in field_data], crs


def _to_wgs84(geoms: list[BaseGeometry | None], crs: CRS) -> list[BaseGeometry | None]:
    if crs.equals(CRS.from_epsg(4326)) or (crs.is_geographic and crs.to_epsg() in (4326, 4490, 4610)):
        return geoms  # WGS 84 and CGCS2000 differ by centimetres
    t = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)

    def xy(c: Any) -> Any:
        import numpy as np

        return np.column_stack(t.transform(c[:, 0], c[:, 1]))

    return [None if g is None else shapely.transform(g, xy) for g in geoms]


def parse_file(data: bytes) -> tuple[list[_Row], str]:
    """The segments of a road file, or a refusal listing every bad row (rows counted from 1)."""
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(N_("The file is too large"))
    wkb, names, columns, crs = _read(data)
    rules = road_rules()
    f_code, f_name = _field(names, rules["code_fields"]), _field(names, rules["name_fields"])
    f_class, f_oneway = _field(names, rules["class_fields"]), _field(names, rules["oneway_fields"])

    def col(name: str | None) -> list[Any]:
        return columns[names.index(name)] if name is not None else [None] * len(wkb)

    codes, titles, classes, oneways = col(f_code), col(f_name), col(f_class), col(f_oneway)
    geoms: list[BaseGeometry | None] = [None if b is None else shapely.from_wkb(b) for b in wkb]
    if sum(int(shapely.get_num_coordinates(g)) for g in geoms if g is not None) > MAX_VERTICES:
        raise PayloadTooLarge(N_("The file has more than %(max)s points; split it"), max=MAX_VERTICES)
    geoms = _to_wgs84(geoms, crs)
    rows: list[_Row] = []
    errors: list[dict[str, Any]] = []
    for i, g in enumerate(geoms, start=1):
        if len(errors) >= MAX_ERRORS:
            break
        code = _text(codes[i - 1]).upper() or None
        name = _text(titles[i - 1])
        if code is not None and len(code) > 40:
            errors.append(_err(i, "code", N_("The route code is longer than 40 characters")))
            continue
        if len(name) > 200:
            errors.append(_err(i, "name", N_("The name is longer than 200 characters")))
            continue
        if g is None or g.is_empty:
            errors.append(_err(i, "geometry", N_("The row has no line")))
            continue
        if g.geom_type == "LineString":
            parts = [g]
        elif g.geom_type == "MultiLineString":
            parts = list(getattr(g, "geoms", []))
        else:
            errors.append(_err(i, "geometry", N_("The row is not a line but a %(type)s"), type=g.geom_type))
            continue
        words = _text(classes[i - 1])
        road_class = class_of_words(words) if words else class_of_code(code)
        if words and road_class is None:
            errors.append(_err(i, "class", N_("Unknown road class %(words)s"), words=words[:40]))
            continue
        oneway = _text(oneways[i - 1]).lower() in rules["true_words"]
        bad = False
        for part in parts:
            x0, y0, x1, y1 = part.bounds
            if part.is_empty or len(part.coords) < 2 or not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
                errors.append(_err(i, "geometry", N_("The line is empty or outside the world")))
                bad = True
                break
            if any(math.isnan(v) for v in (x0, y0, x1, y1)):
                errors.append(_err(i, "geometry", N_("The line is empty or outside the world")))
                bad = True
                break
        if bad:
            continue
        for part in parts:
            line = LineString([(float(c[0]), float(c[1])) for c in part.coords])
            rows.append(_Row(line, code, name, road_class or RoadClass.OTHER, oneway))
    if errors:
        raise ValidationFailed(
            N_("%(n)s rows of the file are not valid; nothing was imported"), n=len(errors), errors=errors
        )
    if not rows:
        raise ValidationFailed(N_("The file holds no road line"), errors=[_err(None, "file", "Not valid")])
    auth = crs.to_authority()
    return rows, f"{auth[0]}:{auth[1]}" if auth else (crs.name or "")


def segment_of(line: LineString, *, code: str | None, name: str, road_class: RoadClass, oneway: bool) -> RoadSegment:
    """A new segment of LINE (WGS 84) with its geodesic length and its ends."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    return RoadSegment(
        code=code,
        name=name,
        road_class=road_class,
        geom=line,
        length_m=round(geodesic_length(line), 2),
        start_lon=x0,
        start_lat=y0,
        end_lon=x1,
        end_lat=y1,
        oneway=oneway,
    )


def import_roads(session: Session, *, actor: Actor, data: bytes, mode: ImportMode = "append") -> RoadImportOut:
    """Import a road file all or nothing; REPLACE removes every segment first."""
    rows, crs = parse_file(data)
    removed = 0
    if mode == "replace":
        session.execute(update(RoadIncident).where(RoadIncident.road_id.is_not(None)).values(road_id=None))
        removed = session.scalar(select(func.count()).select_from(RoadSegment)) or 0
        session.execute(delete(RoadSegment))
    segments = [segment_of(r.line, code=r.code, name=r.name, road_class=r.road_class, oneway=r.oneway) for r in rows]
    session.add_all(segments)
    session.flush()
    total = sum(s.length_m for s in segments)
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.roads_import",
        target_type="safety_road",
        detail={"mode": mode, "created": len(segments), "removed": removed, "crs": crs, "km": round(total / 1000, 3)},
    )
    return RoadImportOut(mode=mode, created=len(segments), removed=removed, crs=crs, total_km=round(total / 1000, 3))


# --- reading -------------------------------------------------------------------------------------


def get_road(session: Session, road_id: int) -> RoadSegment:
    road = session.get(RoadSegment, road_id)
    if road is None:
        raise NotFound(N_("No such road segment"))
    return road


def list_roads(
    session: Session,
    *,
    q: str | None = None,
    road_class: RoadClass | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[RoadSegment], int]:
    """Segments by code and name, filtered by words in the code or name and by class; with the count."""
    stmt = select(RoadSegment)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(RoadSegment.code.ilike(like), RoadSegment.name.ilike(like)))
    if road_class is not None:
        stmt = stmt.where(RoadSegment.road_class == road_class)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(RoadSegment.code, RoadSegment.name, RoadSegment.id).offset(offset).limit(limit)
    )
    return list(rows), total


def road_choices(session: Session, *, limit: int = 1000) -> list[RoadSegment]:
    return list(session.scalars(select(RoadSegment).order_by(RoadSegment.code, RoadSegment.id).limit(limit)))


def summary(session: Session) -> dict[RoadClass, tuple[int, float]]:
    """Segments and kilometres by class."""
    rows = session.execute(
        select(RoadSegment.road_class, func.count(), func.coalesce(func.sum(RoadSegment.length_m), 0.0)).group_by(
            RoadSegment.road_class
        )
    ).all()
    return {RoadClass(c): (int(n), round(float(m) / 1000, 2)) for c, n, m in rows}


def all_roads(session: Session, *, limit: int = MAX_GEOJSON) -> list[RoadSegment]:
    return list(session.scalars(select(RoadSegment).order_by(RoadSegment.id).limit(limit)))


def geojson(
    session: Session,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    road_class: RoadClass | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    """A FeatureCollection of the segments that meet BBOX (min lon, min lat, max lon, max lat), at most LIMIT
    (``truncated`` says when more matched). The database keeps the segments with an end on the box's side of
    each edge; the lines are then tested exactly."""
    stmt = select(RoadSegment)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise ValidationFailed.on_field("bbox", N_("The box must be min lon, min lat, max lon, max lat"))
        stmt = stmt.where(
            (RoadSegment.start_lon >= x0) | (RoadSegment.end_lon >= x0),
            (RoadSegment.start_lon <= x1) | (RoadSegment.end_lon <= x1),
            (RoadSegment.start_lat >= y0) | (RoadSegment.end_lat >= y0),
            (RoadSegment.start_lat <= y1) | (RoadSegment.end_lat <= y1),
        )
    if road_class is not None:
        stmt = stmt.where(RoadSegment.road_class == road_class)
    rows = list(session.scalars(stmt.order_by(RoadSegment.id).limit(limit + 1)))
    truncated = len(rows) > limit
    features = []
    for r in rows[:limit]:
        if bbox is not None and not shapely.intersects(r.geom, shapely.box(*bbox)):
            continue
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": mapping(r.geom),
                "properties": {
                    "code": r.code,
                    "name": r.name,
                    "road_class": r.road_class.value,
                    "length_m": r.length_m,
                    "oneway": r.oneway,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "truncated": truncated}
