"""单元网格 (unit grids): generate, import, assign responsibility, query.

A grid code has 15 digits: the 12-digit village/community code + a 3-digit sequence (001–999)
numbered inside the village from west to east, then north to south. Each grid has an area class
(A 核心区 / B 一般区 / C 外围区) that picks case time limits, a responsible department and grid workers
(both from org).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.models import AreaClass, Division, DivisionKind, DivisionLevel, Grid, GridWorker
from countyos.geo.service import crs
from countyos.geo.service.divisions import require_county
from countyos.geo.service.importing import FeatureRow, ImportReport, RowError, pick
from countyos.geo.service.lookup import geometry_changed
from countyos.geo.service.partition import bisect_partition, lattice_cells, polygonal
from countyos.org.service import audit, departments, users

MAX_SEQUENCE = 999


@dataclass(frozen=True)
class GridInfo:
    """A grid as other domains see it."""

    code: str
    village_code: str
    township_code: str
    county_code: str
    name: str | None
    area_class: str
    department_id: int | None
    worker_ids: tuple[int, ...]
    approximate: bool
    area_m2: float


def _info(session: Session, g: Grid) -> GridInfo:
    workers = tuple(
        session.scalars(select(GridWorker.user_id).where(GridWorker.grid_id == g.id).order_by(GridWorker.user_id))
    )
    return GridInfo(
        code=g.code,
        village_code=g.village_code,
        township_code=g.township_code,
        county_code=g.county_code,
        name=g.name,
        area_class=str(g.area_class),
        department_id=g.department_id,
        worker_ids=workers,
        approximate=g.approximate,
        area_m2=g.area_m2,
    )


def get_by_code(session: Session, *, code: str) -> Grid:
    g = session.scalars(select(Grid).where(Grid.code == code)).first()
    if g is None:
        raise NotFound(N_("There is no grid with code %(code)s"), code=code)
    return g


def grid_for_code(session: Session, code: str) -> GridInfo:
    """The grid with this 15-digit code, with its responsible department and workers (404 if none)."""
    return _info(session, get_by_code(session, code=code))


def grids_of_worker(session: Session, user_id: int) -> list[GridInfo]:
    """The grids a grid worker (org user id) is responsible for, in code order."""
    rows = session.scalars(
        select(Grid)
        .join(GridWorker, GridWorker.grid_id == Grid.id)
        .where(GridWorker.user_id == user_id)
        .order_by(Grid.code)
    )
    return [_info(session, g) for g in rows]


def grids_of_department(session: Session, department_id: int) -> list[GridInfo]:
    rows = session.scalars(select(Grid).where(Grid.department_id == department_id).order_by(Grid.code))
    return [_info(session, g) for g in rows]


def count(session: Session) -> int:
    return len(session.scalars(select(Grid.id)).all())


def default_area_class(township: Division | None, village: Division) -> AreaClass:
    """核心区 for communities of a 街道, 一般区 for other communities, 外围区 for villages."""
    if village.kind == DivisionKind.COMMUNITY:
        return AreaClass.A if township is not None and township.kind == DivisionKind.STREET else AreaClass.B
    return AreaClass.C


def _new_grid(
    code: str, village: Division, geom: BaseGeometry, area_class: AreaClass, source: str, approximate: bool
) -> Grid:
    g = Grid(
        code=code,
        village_code=village.code,
        township_code=village.code[:9],
        county_code=village.code[:6],
        area_class=area_class,
        approximate=approximate,
        source=source,
        name=f"{village.name}{code[-3:]}",
    )
    g.set_geometry(geom)
    g.area_m2 = crs.area_m2(geom)
    return g


def _nw_order(geoms: list[BaseGeometry], row_height: float) -> list[int]:
    """Indexes of parts in reading order: bands north → south, west → east inside a band."""
    pts = [g.representative_point() for g in geoms]
    return sorted(range(len(geoms)), key=lambda i: (-math.floor(pts[i].y / row_height), pts[i].x))


@dataclass(frozen=True)
class GenerateResult:
    grids: int
    villages: int
    components_relocated: int


def generate(
    session: Session,
    *,
    actor: Actor,
    cell_m: float | None = None,
    households_per_grid: int | None = None,
    replace: bool = False,
) -> GenerateResult:
    """Cut every village into grids: by a square lattice of ``cell_m`` metres, or into
    ceil(households / ``households_per_grid``) equal parts. Slivers are folded into a neighbour."""
    if (cell_m is None) == (households_per_grid is None):
        raise ValidationFailed(N_("Give either a cell size in metres or a number of households per grid"))
    if cell_m is not None and not 50 <= cell_m <= 20_000:
        raise ValidationFailed(N_("The cell size must be between 50 and 20000 metres"))
    if households_per_grid is not None and households_per_grid < 1:
        raise ValidationFailed(N_("Households per grid must be at least 1"))
    county = require_county(session)
    existing = session.scalars(select(Grid.id)).first()
    if existing is not None and not replace:
        raise Conflict(N_("The county already has grids; regenerate with replace to delete and rebuild them"))
    divisions = list(session.scalars(select(Division).order_by(Division.code)))
    towns = {d.code: d for d in divisions if d.level == DivisionLevel.TOWNSHIP}
    villages = [d for d in divisions if d.level == DivisionLevel.VILLAGE]
    if not villages:
        raise ValidationFailed(N_("The county has no villages or communities to cut into grids"))
    if households_per_grid is not None:
        missing = [v.code for v in villages if v.households is None]
        if missing:
            raise ValidationFailed(
                N_(
                    "%(count)s villages have no household count (import it with the boundaries, column "
                    "households); for example %(codes)s"
                ),
                count=len(missing),
                codes=", ".join(missing[:5]),
                errors=[{"code": c, "field": "households", "message": "missing"} for c in missing[:1000]],
            )
    # Cut in lon/lat with a lattice whose steps are cell_m metres at the county's latitude: cutting in
    # projected metres and projecting back would bend the shared village edges and open gaps.
    lat0 = math.radians(county.geom.centroid.y)
    step_x = (cell_m or 0) / (111_320.0 * math.cos(lat0))
    step_y = (cell_m or 0) / 110_574.0
    new: list[Grid] = []
    errors = []
    for v in villages:
        if cell_m is not None:
            parts = [c.geom for c in lattice_cells(v.geom, step_x, size_y=step_y)]  # in reading order
        else:
            n = max(1, math.ceil((v.households or 0) / households_per_grid)) if households_per_grid else 1
            pieces = bisect_partition(v.geom, [1.0] * n)
            band = math.sqrt(v.geom.area / n)
            parts = [pieces[i] for i in _nw_order(pieces, band)]
        if len(parts) > MAX_SEQUENCE:
            errors.append({"code": v.code, "message": f"{len(parts)} grids > {MAX_SEQUENCE}"})
            continue
        area_class = default_area_class(towns.get(v.code[:9]), v)
        for seq, part in enumerate(parts, start=1):
            new.append(_new_grid(f"{v.code}{seq:03d}", v, polygonal(part), area_class, "generated", v.approximate))
    if errors:
        raise ValidationFailed(
            N_("Some villages would need more than 999 grids; use a larger cell size"), errors=errors
        )
    if replace:
        session.execute(delete(GridWorker))
        session.execute(delete(Grid))
        session.flush()
    session.add_all(new)
    session.flush()
    geometry_changed(session)
    from countyos.geo.service import components

    moved = components.relocate_all(session)
    audit.record(
        session,
        actor=actor,
        action="geo.grids.generate",
        target_type="county",
        target_id=county.code,
        detail={
            "cell_m": cell_m,
            "households_per_grid": households_per_grid,
            "grids": len(new),
            "replaced": bool(existing),
            "components_relocated": moved,
        },
    )
    return GenerateResult(grids=len(new), villages=len(villages), components_relocated=moved)


GRID_CODE_FIELDS = ("code", "grid_code", "bm", "wgbm", "dywgbsm", "szdywgbsm", "网格编码", "网格代码")
CLASS_FIELDS = ("area_class", "class", "qylb", "区域类别", "区域分类")
NAME_FIELDS = ("name", "mc", "名称", "网格名称")


def import_grids(
    session: Session,
    *,
    actor: Actor,
    rows: list[FeatureRow],
    source: str,
    skip_bad_rows: bool = False,
    replace: bool = False,
) -> ImportReport:
    """Import surveyed grids (code, geometry, optional area class and name); all or nothing."""
    county = require_county(session)
    report = ImportReport(total=len(rows))
    villages = {d.code: d for d in session.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE))}
    existing = {g.code: g for g in session.scalars(select(Grid))}
    seen: set[str] = set()
    good: list[tuple[FeatureRow, str, AreaClass | None, str | None]] = []
    for r in rows:
        errs = []
        raw = pick(r.properties, *GRID_CODE_FIELDS)
        code = str(raw).strip() if raw is not None else ""
        if len(code) != 15 or not code.isdigit():
            errs.append(RowError(r.row, N_("A grid code has 15 digits"), "code", code or None))
        elif not code.startswith(county.code):
            errs.append(RowError(r.row, N_("The code does not belong to this county"), "code", code))
        elif code[:12] not in villages:
            errs.append(
                RowError(
                    r.row,
                    N_("Its village or community %(village)s does not exist"),
                    "code",
                    code,
                    {"village": code[:12]},
                )
            )
        elif code[-3:] == "000":
            errs.append(RowError(r.row, N_("The grid sequence number must be 001 to 999"), "code", code))
        if code in seen:
            errs.append(RowError(r.row, N_("The code appears twice in the file"), "code", code))
        seen.add(code)
        cls_raw = pick(r.properties, *CLASS_FIELDS)
        area_class = None
        if cls_raw is not None:
            try:
                area_class = AreaClass(str(cls_raw).strip().upper()[:1])
            except ValueError:
                errs.append(RowError(r.row, N_("The area class must be A, B or C"), "area_class", code or None))
        g = r.geom
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            errs.append(RowError(r.row, N_("The geometry must be a polygon"), "geometry", code or None))
        elif not g.is_valid:
            errs.append(
                RowError(
                    r.row,
                    N_("The polygon is not valid: %(reason)s"),
                    "geometry",
                    code or None,
                    {"reason": shapely.is_valid_reason(g)},
                )
            )
        elif not g.intersects(county.geom):
            errs.append(
                RowError(
                    r.row,
                    N_("The polygon lies outside the county (check the coordinate system)"),
                    "geometry",
                    code or None,
                )
            )
        if code in existing and not replace and not errs:
            errs.append(
                RowError(r.row, N_("A grid with this code exists; import with replace to overwrite"), "code", code)
            )
        if errs:
            report.errors.extend(errs)
        else:
            name = pick(r.properties, *NAME_FIELDS)
            good.append((r, code, area_class, str(name) if name is not None else None))
    report.fail_if_bad(skip_bad_rows)
    report.skipped = len(rows) - len(good)
    towns = {d.code: d for d in session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP))}
    for r, code, area_class, name in good:
        v = villages[code[:12]]
        assert r.geom is not None
        g = existing.get(code)
        if g is None:
            g = _new_grid(
                code, v, r.geom, area_class or default_area_class(towns.get(v.code[:9]), v), source[:100], False
            )
            session.add(g)
        else:
            g.set_geometry(r.geom)
            g.area_m2 = crs.area_m2(r.geom)
            g.source, g.approximate = source[:100], False
            if area_class:
                g.area_class = area_class
        if name:
            g.name = name[:100]
        report.imported += 1
    session.flush()
    if report.imported:
        geometry_changed(session)
        from countyos.geo.service import components

        components.relocate_all(session)
    audit.record(
        session,
        actor=actor,
        action="geo.grids.import",
        target_type="county",
        target_id=county.code,
        detail={"source": source, "total": report.total, "imported": report.imported, "skipped": report.skipped},
    )
    return report


def update(
    session: Session,
    *,
    actor: Actor,
    code: str,
    area_class: AreaClass | None = None,
    department_id: int | None = None,
    clear_department: bool = False,
    worker_ids: list[int] | None = None,
    name: str | None = None,
) -> GridInfo:
    """Change a grid's area class, name, responsible department or grid workers."""
    g = get_by_code(session, code=code)
    before = _info(session, g)
    changes: dict[str, object] = {}
    if area_class is not None and area_class != g.area_class:
        g.area_class = area_class
        changes["area_class"] = [str(before.area_class), str(area_class)]
        geometry_changed(session)  # the lookup index carries area classes
    if name is not None and name != g.name:
        g.name = name[:100]
        changes["name"] = [before.name, name]
    if clear_department and g.department_id is not None:
        g.department_id = None
        changes["department_id"] = [before.department_id, None]
    elif department_id is not None and department_id != g.department_id:
        departments.get(session, department_id=department_id)  # 404 for an unknown department
        g.department_id = department_id
        changes["department_id"] = [before.department_id, department_id]
    if worker_ids is not None:
        wanted = sorted(set(worker_ids))
        for uid in wanted:
            users.get(session, user_id=uid)  # 404 for an unknown user
        if tuple(wanted) != before.worker_ids:
            session.execute(delete(GridWorker).where(GridWorker.grid_id == g.id))
            session.add_all([GridWorker(grid_id=g.id, user_id=uid) for uid in wanted])
            changes["worker_ids"] = [list(before.worker_ids), wanted]
    session.flush()
    if changes:
        audit.record(session, actor=actor, action="geo.grid.update", target_type="grid", target_id=code, detail=changes)
    return _info(session, g)


def assign_department(
    session: Session,
    *,
    actor: Actor,
    department_id: int,
    township_code: str | None = None,
    village_code: str | None = None,
) -> int:
    """Make a department responsible for every grid of a township or village; returns how many."""
    if not (township_code or village_code):
        raise ValidationFailed(N_("Name a township or a village"))
    departments.get(session, department_id=department_id)
    stmt = select(Grid)
    stmt = (
        stmt.where(Grid.township_code == township_code)
        if township_code
        else stmt.where(Grid.village_code == village_code)
    )
    rows = list(session.scalars(stmt))
    for g in rows:
        g.department_id = department_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="geo.grids.assign_department",
        target_type="division",
        target_id=township_code or village_code,
        detail={"department_id": department_id, "grids": len(rows)},
    )
    return len(rows)


def points(session: Session, *, codes: list[str]) -> dict[str, tuple[float, float]]:
    """A point inside each grid (its representative point, lon/lat): where a report shown "by grid
    only" is drawn, so that its exact place is not told."""
    if not codes:
        return {}
    rows = session.execute(select(Grid.code, Grid.geom).where(Grid.code.in_(sorted(set(codes))[:5000])))
    out: dict[str, tuple[float, float]] = {}
    for code, geom in rows:
        p = geom.representative_point()
        out[code] = (round(p.x, 6), round(p.y, 6))
    return out
