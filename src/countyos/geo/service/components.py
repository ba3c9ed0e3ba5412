"""管理部件 (management components, GB/T 47678.5): inventory, import, search.

A component's identity code (管理部件标识码, 17 digits) = 6-digit division code + 5-digit class code
(2 major + 3 minor, from the packaged directory) + 6-digit sequence. Its grid, township and village
are resolved from its location whenever it is written, and again for every component when the grids
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.geo.models import STATUS_ZH, Component, ComponentStatus
from countyos.geo.service import packaged
from countyos.geo.service.crs import normalize_crs, transform_geometry
from countyos.geo.service.divisions import require_county
from countyos.geo.service.importing import FeatureRow, ImportReport, RowError, pick
from countyos.geo.service.lookup import PlaceBatch, locate_many, outside_error
from countyos.org.service import audit

STATUS_BY_TEXT = {**{v: k for k, v in STATUS_ZH.items()}, **{s.value: s for s in ComponentStatus}}
DATA_SOURCES = ("实测", "地形图", "基础地理数据", "其他")


def parse_status(value: Any) -> ComponentStatus:
    s = STATUS_BY_TEXT.get(str(value).strip().lower()) or STATUS_BY_TEXT.get(str(value).strip())
    if s is None:
        raise ValueError(value)
    return s


def parse_date(value: Any) -> date | None:
    """YYYYMMDD (the standard's form), YYYY-MM-DD, YYYY/MM/DD or an Excel date; None when empty."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-")
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def _point_of(geom: BaseGeometry) -> Point:
    if geom.geom_type == "Point":
        return geom
    if geom.geom_type in ("LineString", "MultiLineString"):
        return geom.interpolate(0.5, normalized=True) if geom.geom_type == "LineString" else geom.representative_point()
    return geom.representative_point()


def _apply_place(c: Component, batch: PlaceBatch, i: int) -> bool:
    """Copy the located grid/township/village into the component; True when something changed."""
    p = batch[i]
    new = (p.grid_code, p.township_code, p.township_name, p.village_code, p.village_name) if p else (None,) * 5
    old = (c.grid_code, c.township_code, c.township_name, c.village_code, c.village_name)
    if new == old:
        return False
    c.grid_code, c.township_code, c.township_name, c.village_code, c.village_name = new
    return True


def next_sequences(session: Session, county_code: str, class_codes: set[str]) -> dict[str, int]:
    """The next free 6-digit sequence per class."""
    out = {}
    for cls in class_codes:
        prefix = county_code + cls
        top = session.scalar(select(func.max(Component.code)).where(Component.code.like(prefix + "%")))
        out[cls] = int(top[11:]) + 1 if top else 1
    return out


def get_by_code(session: Session, *, code: str) -> Component:
    c = session.scalars(select(Component).where(Component.code == code)).first()
    if c is None:
        raise NotFound(N_("There is no component with code %(code)s"), code=code)
    return c


@dataclass
class ComponentFilter:
    q: str | None = None  # code prefix or name substring
    class_code: str | None = None
    major_code: str | None = None
    status: ComponentStatus | None = None
    grid_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None


def query(f: ComponentFilter) -> Select[Any]:
    stmt = select(Component).order_by(Component.code)
    if f.q:
        stmt = stmt.where(Component.code.like(f.q + "%") | Component.name.contains(f.q))
    if f.class_code:
        stmt = stmt.where(Component.class_code == f.class_code)
    if f.major_code:
        stmt = stmt.where(Component.class_code.like(f.major_code + "%"))
    if f.status:
        stmt = stmt.where(Component.status == f.status)
    if f.grid_code:
        stmt = stmt.where(Component.grid_code == f.grid_code)
    if f.township_code:
        stmt = stmt.where(Component.township_code == f.township_code)
    if f.village_code:
        stmt = stmt.where(Component.village_code == f.village_code)
    return stmt


def counts_by_class(session: Session) -> dict[str, int]:
    rows = session.execute(select(Component.class_code, func.count()).group_by(Component.class_code)).all()
    return {c: int(n) for c, n in rows}


@dataclass
class ComponentIn:
    """The attributes of one component (names follow GB/T 47678.5 表2)."""

    class_code: str
    geom: BaseGeometry  # WGS-84/CGCS2000
    code: str | None = None
    name: str | None = None
    owner_dept_code: str | None = None
    owner_dept_name: str | None = None
    property_unit_code: str | None = None
    property_unit_name: str | None = None
    maintainer_code: str | None = None
    maintainer_name: str | None = None
    status: ComponentStatus = ComponentStatus.INTACT
    initial_date: date | None = None
    change_date: date | None = None
    data_source: str | None = None
    note: str | None = None


_TEXT_LIMITS = {
    "name": 30,
    "owner_dept_code": 18,
    "owner_dept_name": 100,
    "property_unit_code": 18,
    "property_unit_name": 100,
    "maintainer_code": 18,
    "maintainer_name": 100,
    "data_source": 30,
    "note": 1000,
}


def check(item: ComponentIn, county_code: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Problems with one component as (field, message id, params); empty when it is valid."""
    problems: list[tuple[str, str, dict[str, Any]]] = []
    classes = packaged.component_classes()
    if item.class_code not in classes:
        problems.append(
            ("class_code", N_("Unknown component class %(cls)s (GB/T 47678.5 管理部件)"), {"cls": item.class_code})
        )
    if item.code is not None:
        if len(item.code) != 17 or not item.code.isdigit():
            problems.append(("code", N_("A component code has 17 digits"), {}))
        elif not item.code.startswith(county_code):
            problems.append(("code", N_("The code does not belong to this county"), {}))
        elif item.code[6:11] != item.class_code:
            problems.append(
                ("code", N_("Digits 7–11 of the code must be the class code %(cls)s"), {"cls": item.class_code})
            )
        elif item.code[11:] == "000000":
            problems.append(("code", N_("The sequence number (last 6 digits) must not be 000000"), {}))
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(item, name)
        if value is not None and len(str(value)) > limit:
            problems.append((name, N_("At most %(max)s characters"), {"max": limit}))
    if item.geom is None or item.geom.is_empty:
        problems.append(("geometry", N_("A location is required"), {}))
    elif item.geom.geom_type not in ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        problems.append(("geometry", N_("The location must be a point, a line or a polygon"), {}))
    return problems


def _new(item: ComponentIn, code: str) -> Component:
    cls = packaged.component_classes()[item.class_code]
    p = _point_of(item.geom)
    c = Component(
        code=code,
        class_code=item.class_code,
        name=(item.name or cls.name)[:30],
        owner_dept_code=item.owner_dept_code,
        owner_dept_name=item.owner_dept_name,
        property_unit_code=item.property_unit_code,
        property_unit_name=item.property_unit_name,
        maintainer_code=item.maintainer_code,
        maintainer_name=item.maintainer_name,
        status=item.status,
        initial_date=item.initial_date or utcnow().date(),
        change_date=item.change_date,
        data_source=item.data_source,
        note=item.note,
        lon=float(p.x),
        lat=float(p.y),
    )
    c.set_geometry(item.geom)
    return c


def create(session: Session, *, actor: Actor, item: ComponentIn) -> Component:
    """Add one component; its code is assigned when not given, its grid resolved from its location."""
    county = require_county(session)
    problems = check(item, county.code)
    if problems:
        raise ValidationFailed(errors=[{"field": f, "message": gettext(m, **p)} for f, m, p in problems])
    if item.code and session.scalar(select(Component.id).where(Component.code == item.code)) is not None:
        raise Conflict(N_("A component with code %(code)s exists"), code=item.code)
    code = item.code
    if not code:
        seq = next_sequences(session, county.code, {item.class_code})[item.class_code]
        code = f"{county.code}{item.class_code}{seq:06d}"
    p = _point_of(item.geom)
    batch = locate_many(session, np.array([p.x]), np.array([p.y]))
    if not batch.inside[0]:
        raise outside_error(float(p.x), float(p.y))
    c = _new(item, code)
    _apply_place(c, batch, 0)
    session.add(c)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="geo.component.create",
        target_type="component",
        target_id=code,
        detail={"class_code": c.class_code, "grid_code": c.grid_code},
    )
    return c


EDITABLE = (
    "name",
    "owner_dept_code",
    "owner_dept_name",
    "property_unit_code",
    "property_unit_name",
    "maintainer_code",
    "maintainer_name",
    "status",
    "data_source",
    "note",
)


def update_component(
    session: Session, *, actor: Actor, code: str, changes: dict[str, Any], geom: BaseGeometry | None = None
) -> Component:
    """Change attributes (and location); sets 变更日期 to today."""
    c = get_by_code(session, code=code)
    diff: dict[str, Any] = {}
    for k, v in changes.items():
        if k not in EDITABLE:
            raise ValidationFailed(N_("The field %(field)s cannot be changed"), field=k)
        if k == "status":
            try:
                v = parse_status(v)
            except ValueError as exc:
                raise ValidationFailed(N_("Unknown status %(status)s"), status=str(v)) from exc
        if k in _TEXT_LIMITS and v is not None and len(str(v)) > _TEXT_LIMITS[k]:
            raise ValidationFailed(N_("%(field)s: at most %(max)s characters"), field=k, max=_TEXT_LIMITS[k])
        if getattr(c, k) != v:
            diff[k] = [getattr(c, k), v]
            setattr(c, k, v)
    if geom is not None:
        p = _point_of(geom)
        batch = locate_many(session, np.array([p.x]), np.array([p.y]))
        if not batch.inside[0]:
            raise outside_error(float(p.x), float(p.y))
        c.set_geometry(geom)
        c.lon, c.lat = float(p.x), float(p.y)
        _apply_place(c, batch, 0)
        diff["location"] = [None, [c.lon, c.lat]]
    if diff:
        c.change_date = utcnow().date()
        session.flush()
        audit.record(
            session, actor=actor, action="geo.component.update", target_type="component", target_id=code, detail=diff
        )
    return c


def relocate_all(session: Session) -> int:
    """Resolve grid, township and village of every component again (after grids or boundaries change)."""
    rows = list(session.scalars(select(Component).order_by(Component.id)))
    if not rows:
        return 0
    batch = locate_many(session, np.array([c.lon for c in rows]), np.array([c.lat for c in rows]))
    changed = sum(1 for i, c in enumerate(rows) if _apply_place(c, batch, i))
    session.flush()
    return changed


# --- import ---------------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("GLBJBSM", "code", "标识码", "管理部件标识码", "OBJCODE"),
    "class_code": ("class_code", "LBDM", "类别代码", "小类代码"),
    "name": ("GLBJMC", "name", "名称", "管理部件名称", "OBJNAME"),
    "owner_dept_code": ("ZGBMDM", "owner_dept_code", "主管部门代码", "DEPTCODE1"),
    "owner_dept_name": ("ZGBMMC", "owner_dept_name", "主管部门名称", "DEPTNAME1"),
    "property_unit_code": ("QSDWDM", "property_unit_code", "权属单位代码", "DEPTCODE2"),
    "property_unit_name": ("QSDWMC", "property_unit_name", "权属单位名称", "DEPTNAME2"),
    "maintainer_code": ("YHDWDM", "maintainer_code", "养护单位代码", "DEPTCODE3"),
    "maintainer_name": ("YHDWMC", "maintainer_name", "养护单位名称", "DEPTNAME3"),
    "status": ("GLBJZT", "status", "状态", "管理部件状态", "OBJSTATE"),
    "initial_date": ("CSRQ", "initial_date", "初始日期", "ORDATE"),
    "change_date": ("BGRQ", "change_date", "变更日期", "CHDATE"),
    "data_source": ("SJLY", "data_source", "数据来源", "DATASOURCE"),
    "note": ("BZ", "note", "备注", "NOTE"),
    "lon": ("lon", "lng", "longitude", "x", "经度", "JD"),
    "lat": ("lat", "latitude", "y", "纬度", "WD"),
    "wkt": ("wkt", "geometry", "geom", "几何"),
}


def _text(props: dict[str, Any], key: str) -> str | None:
    v = pick(props, *COLUMNS[key])
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _row_item(r: FeatureRow, crs: str) -> tuple[ComponentIn | None, list[tuple[str, str, dict[str, Any]]]]:
    props = r.properties
    problems: list[tuple[str, str, dict[str, Any]]] = []
    code = _text(props, "code")
    class_code = _text(props, "class_code") or (code[6:11] if code and len(code) == 17 else None)
    if not class_code:
        problems.append(("class_code", N_("The class code (or a 17-digit component code) is required"), {}))
    geom = r.geom
    if geom is None:
        wkt = _text(props, "wkt")
        lon, lat = pick(props, *COLUMNS["lon"]), pick(props, *COLUMNS["lat"])
        try:
            if wkt:
                geom = shapely.from_wkt(wkt)
            elif lon is not None and lat is not None:
                geom = Point(float(lon), float(lat))
        except (ValueError, shapely.errors.GEOSException):
            problems.append(("geometry", N_("The location cannot be read"), {}))
        if geom is None and not problems:
            problems.append(("geometry", N_("A location is required (lon and lat, WKT, or a GeoJSON feature)"), {}))
        elif geom is not None and normalize_crs(crs) in ("gcj02", "bd09"):
            geom = transform_geometry(geom, to="wgs84", source=crs)
    status = ComponentStatus.INTACT
    raw_status = _text(props, "status")
    if raw_status:
        try:
            status = parse_status(raw_status)
        except ValueError:
            problems.append(
                ("status", N_("Unknown status %(status)s; use 完好, 破损, 丢失, 废弃 or 移除"), {"status": raw_status})
            )
    dates: dict[str, date | None] = {}
    for key in ("initial_date", "change_date"):
        try:
            dates[key] = parse_date(pick(props, *COLUMNS[key]))
        except ValueError:
            problems.append((key, N_("Dates are written YYYYMMDD or YYYY-MM-DD"), {}))
    if problems or not class_code or geom is None:
        return None, problems
    item = ComponentIn(
        class_code=class_code,
        geom=geom,
        code=code,
        status=status,
        initial_date=dates.get("initial_date"),
        change_date=dates.get("change_date"),
        **{
            k: _text(props, k)
            for k in (
                "name",
                "owner_dept_code",
                "owner_dept_name",
                "property_unit_code",
                "property_unit_name",
                "maintainer_code",
                "maintainer_name",
                "data_source",
                "note",
            )
        },
    )
    return item, []


def import_components(
    session: Session,
    *,
    actor: Actor,
    rows: list[FeatureRow],
    source: str,
    crs: str = "wgs84",
    skip_bad_rows: bool = False,
) -> ImportReport:
    """Import components from table rows or features; every bad row is reported, nothing is written
    unless all rows are good or ``skip_bad_rows`` is set."""
    county = require_county(session)
    report = ImportReport(total=len(rows), source_crs=crs)
    existing = set(session.scalars(select(Component.code)))
    items: list[tuple[int, ComponentIn]] = []
    seen: set[str] = set()
    for r in rows:
        item, problems = _row_item(r, crs)
        if item is not None:
            problems = check(item, county.code)
            if item.code and not problems:
                if item.code in existing:
                    problems.append(("code", N_("A component with this code exists"), {}))
                elif item.code in seen:
                    problems.append(("code", N_("The code appears twice in the file"), {}))
                seen.add(item.code)
        if problems:
            code = _text(r.properties, "code")
            report.errors.extend(RowError(r.row, m, f, code, p) for f, m, p in problems)
        else:
            assert item is not None
            items.append((r.row, item))
    # Locations: one batch lookup for all rows.
    if items:
        pts = [_point_of(it.geom) for _, it in items]
        batch = locate_many(session, np.array([p.x for p in pts]), np.array([p.y for p in pts]))
        outside = [i for i in range(len(items)) if not batch.inside[i]]
        for i in outside:
            row, it = items[i]
            report.errors.append(
                RowError(
                    row,
                    N_(
                        "The location is outside the county (check the coordinate "
                        "system and that longitude and latitude are not swapped)"
                    ),
                    "geometry",
                    it.code,
                )
            )
        keep = [i for i in range(len(items)) if batch.inside[i]]
    else:
        keep = []
    report.errors.sort(key=lambda e: e.row)
    report.fail_if_bad(skip_bad_rows)
    report.skipped = report.total - len(keep)
    if keep:
        seq = next_sequences(session, county.code, {items[i][1].class_code for i in keep if not items[i][1].code})
        new = []
        for i in keep:
            _, it = items[i]
            if it.code:
                code = it.code
            else:
                code = f"{county.code}{it.class_code}{seq[it.class_code]:06d}"
                seq[it.class_code] += 1
            c = _new(it, code)
            _apply_place(c, batch, i)
            new.append(c)
        session.add_all(new)
        session.flush()
        report.imported = len(new)
    audit.record(
        session,
        actor=actor,
        action="geo.components.import",
        target_type="county",
        target_id=county.code,
        detail={"source": source, "total": report.total, "imported": report.imported, "skipped": report.skipped},
    )
    return report


def set_status_many(session: Session, *, actor: Actor, codes: list[str], status: ComponentStatus) -> int:
    result = session.execute(
        update(Component).where(Component.code.in_(codes)).values(status=status, change_date=utcnow().date())
    )
    n = getattr(result, "rowcount", 0)
    audit.record(
        session,
        actor=actor,
        action="geo.components.status",
        target_type="component",
        target_id=None,
        detail={"codes": codes[:100], "status": str(status), "count": n},
    )
    return int(n or 0)
