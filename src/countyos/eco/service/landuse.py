"""Stored land-use layers and their areas by accounting class and division.

A layer is imported from a file (``landuse_read.measure``) with a mapping chosen at import; its areas are
kept for the county, each township (9 digits) and each village (12 digits), from the geo domain's
division polygons. Without a county set up, the areas are kept for the whole file only (division "").
Source classes the mapping does not name refuse the import (``UnmappedClasses``, with the list and
their areas) unless the person chose to leave them out; what was left out is kept with the layer.

Interface of the GEP part: ``class_areas`` and ``current_layer``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.assets import LandUseArea, LandUseLayer
from countyos.eco.service.landuse_read import (
    ALBERS,
    LIMITS,
    Limits,
    Mapping,
    Measured,
    Zone,
    default_mapping,
    measure,
)
from countyos.geo.models import Division, DivisionLevel
from countyos.org.service import audit

Layer = LandUseLayer
WHOLE_FILE = ""


class UnmappedClasses(ValidationFailed):
    """Source classes the mapping does not name: map them or leave them out on purpose."""

    code = "unmapped_classes"

    def __init__(self, unmapped: dict[str, float], field: str | None) -> None:
        super().__init__(
            N_("%(count)s source classes have no accounting class: %(names)s"),
            count=len(unmapped),
            names=", ".join(list(unmapped)[:20]),
            errors=[{"field": "mapping", "message": "Not valid"}],
        )
        self.unmapped = {k: round(v, 4) for k, v in sorted(unmapped.items(), key=lambda kv: -kv[1])}
        self.field = field

    def extra(self) -> dict[str, Any]:
        return {**super().extra(), "unmapped": self.unmapped, "class_field": self.field}


def zones(session: Session) -> list[Zone]:
    """The county, its townships and villages, as zones to measure within."""
    rows = session.execute(select(Division.code, Division.geom).order_by(Division.code)).all()
    return [Zone(code, geom) for code, geom in rows if geom is not None and not geom.is_empty]


def _county_code(session: Session) -> str | None:
    return session.scalar(select(Division.code).where(Division.level == DivisionLevel.COUNTY).limit(1))


def import_layer(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    name: str,
    year: int,
    source: str = "",
    mapping: Mapping | None = None,
    exclude_unmapped: bool = False,
    note: str = "",
    limits: Limits | None = None,
) -> LandUseLayer:
    """Measure the file within the county's divisions and store it as a new version of NAME/YEAR."""
    m = mapping or default_mapping()
    measured = measure(data, filename=filename, mapping=m, zones=zones(session), limits=limits or LIMITS, preview=True)
    if measured.unmapped and not exclude_unmapped:
        raise UnmappedClasses(measured.unmapped, measured.field)
    if not measured.mapped:
        raise ValidationFailed(N_("No area of the file maps to an accounting class"),
                               errors=[{"field": "mapping", "message": "Not valid"}])  # fmt: skip
    version = (session.scalar(select(func.max(Layer.version)).where(Layer.name == name, Layer.year == year)) or 0) + 1
    layer = Layer(
        name=name,
        year=year,
        version=version,
        source=source,
        file_name=filename[:255],
        file_kind=measured.kind,
        crs=measured.crs,
        class_field=measured.field,
        mapping=m.as_json(),
        source_classes={
            k: {"ha": round(v, 4), "class": measured.mapped.get(k) or ("-" if k in measured.excluded else None)}
            for k, v in measured.source_classes.items()
        },
        unmapped={k: round(v, 4) for k, v in measured.unmapped.items()},
        features=measured.features,
        pixels=measured.pixels,
        total_ha=measured.total_ha,
        projection=ALBERS,
        preview=measured.preview,
        note=note,
        created_by_id=actor.id,
    )
    session.add(layer)
    session.flush()
    _store_areas(session, layer, measured)
    audit.record(session, actor=actor, action="eco.landuse.import", target_type="eco_landuse_layer",
                 target_id=layer.id, detail={"name": name, "year": year, "version": version, "file": filename,
                                             "kind": str(measured.kind), "crs": measured.crs,
                                             "total_ha": round(measured.total_ha, 2),
                                             "unmapped": layer.unmapped})  # fmt: skip
    return layer


def _store_areas(session: Session, layer: LandUseLayer, measured: Measured) -> None:
    county = _county_code(session)
    rows = []
    for code, areas in measured.areas.items():
        if code == WHOLE_FILE and county is not None:
            continue  # the county's own polygon gives its areas
        for cls, ha in areas.items():
            if ha > 0:
                rows.append({"layer_id": layer.id, "division_code": code, "class_code": cls, "hectares": ha})
    if rows:
        session.execute(insert(LandUseArea), rows)


def get_layer(session: Session, *, layer_id: int) -> LandUseLayer:
    layer = session.get(Layer, layer_id)
    if layer is None:
        raise NotFound(N_("There is no land-use layer %(id)s"), id=layer_id)
    return layer


def list_layers(session: Session, *, limit: int = 100) -> list[LandUseLayer]:
    return list(session.scalars(select(Layer).order_by(Layer.year.desc(), Layer.id.desc()).limit(limit)))


def current_layer(session: Session, *, year: int | None = None) -> LandUseLayer | None:
    """The layer to account with: of YEAR when there is one, else the newest before it (the newest of
    all when YEAR is None); among several, the latest imported."""
    q = select(Layer).order_by(Layer.year.desc(), Layer.id.desc()).limit(1)
    if year is not None:
        q = q.where(Layer.year <= year)
    return session.scalar(q)


def county_key(session: Session, *, layer_id: int) -> str:
    """The division code under which the layer's county areas are kept ("" for a file without county)."""
    codes = set(session.scalars(select(LandUseArea.division_code).where(LandUseArea.layer_id == layer_id).distinct()))
    county = _county_code(session)
    if county is not None and county in codes:
        return county
    if WHOLE_FILE in codes:
        return WHOLE_FILE
    short = sorted(c for c in codes if len(c) == 6)
    return short[0] if short else (county or WHOLE_FILE)


def class_areas(session: Session, *, layer_id: int, division_code: str | None = None) -> dict[str, float]:
    """Hectares by accounting class of the layer in a division (the county when None)."""
    code = county_key(session, layer_id=layer_id) if division_code is None else division_code
    rows = session.execute(
        select(LandUseArea.class_code, LandUseArea.hectares).where(
            LandUseArea.layer_id == layer_id, LandUseArea.division_code == code
        )
    ).all()
    return {c: float(h) for c, h in rows}


def all_areas(session: Session, *, layer_id: int) -> dict[str, dict[str, float]]:
    """Division code → class → hectares, every division of the layer."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    rows = session.execute(
        select(LandUseArea.division_code, LandUseArea.class_code, LandUseArea.hectares).where(
            LandUseArea.layer_id == layer_id
        )
    )
    for code, cls, ha in rows:
        out[code][cls] = float(ha)
    return dict(out)


def children_codes(session: Session, *, parent_code: str | None) -> list[tuple[str, str]]:
    """(code, name) of the townships (PARENT None: of the county) or villages of a township."""
    parent = parent_code or _county_code(session)
    if parent is None:
        return []
    rows = session.execute(
        select(Division.code, Division.name).where(Division.parent_code == parent).order_by(Division.code)
    ).all()
    return [(c, n) for c, n in rows]


def division_name(session: Session, code: str) -> str:
    return session.scalar(select(Division.name).where(Division.code == code)) or code
