"""Pages of the assets part of the ecology domain.

- ``/eco/assets``: the land-use layers, the assets map (the layer's class polygons simplified for the
  browser over the township outlines, an SVG drawn by the server), hectares by class for the county
  and each township, drilling down to villages.
- ``/eco/assets/import``: the import form (file, name, year, source, mapping); source classes without
  an accounting class come back as a table to map (or leave out), each error beside its field.
- ``/eco/assets/esv``: the ESV account of a layer for a year and price method: service × class,
  divisions, a bar chart (SVG), Excel export; keeping the account needs eco.accounts.manage.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.routing import APIRouter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_xlsx
from countyos.eco.api.assets import areas_out, import_file, layer_out
from countyos.eco.models.assets import LandUseLayer, PriceMethod
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.schemas.assets import BUILTIN_MAPPINGS, MAX_FILE_BYTES, EsvRunIn, LayerIn
from countyos.eco.service import esv, landuse, landuse_read
from countyos.eco.service.landuse import UnmappedClasses
from countyos.geo.service import outline
from countyos.org.service import audit
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(ACCOUNTS_READ))]
Manager = Annotated[Auth, Depends(require(ACCOUNTS_MANAGE))]
ECOLOGY = N_("Ecology")
NAV = [
    NavItem(ECOLOGY, N_("Ecosystem assets"), "/eco/assets", ACCOUNTS_READ, order=515),
    NavItem(ECOLOGY, N_("Ecosystem service value (ESV)"), "/eco/assets/esv", ACCOUNTS_READ, order=516),
]
LayerQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
DivisionQ = Annotated[str, Query(max_length=12, pattern=r"^(\d{6}(\d{3}){0,2})?$")]
YearQ = Annotated[int | None, Query(ge=2010, le=2100)]
METHOD_NAMES = esv.METHOD_NAMES
BUILTIN_NAMES = {
    "default": N_("Accounting class codes or Chinese names"),
    "gbt21010": N_("GB/T 21010 land-use classes (third national land survey)"),
    "clcd": N_("CLCD raster codes"),
    "esa_worldcover": N_("ESA WorldCover raster codes"),
    "globeland30": N_("GlobeLand30 raster codes"),
}
IMPORT_FIELDS = ("name", "year", "source", "builtin", "mapping", "from_layer", "note")
MAP_WIDTH = 1000.0


def _class_labels() -> dict[str, dict[str, str]]:
    return {c.code: {"zh": c.zh, "en": c.en, "color": c.color} for c in landuse_read.classes().values()}


def _layer(session: Session, layer_id: int | None) -> LandUseLayer | None:
    if layer_id is None:
        return landuse.current_layer(session)
    return landuse.get_layer(session, layer_id=layer_id)


# --- the map ------------------------------------------------------------------------------------


def _frame(session: Session, layer: LandUseLayer | None) -> dict[str, Any] | None:
    """The SVG frame: the county's outline with its townships when there is a county, else the preview's
    own bounds; the preview's polygons as paths coloured by class."""
    try:
        o: outline.Outline | None = outline.outline(session)
    except NotFound:
        o = None
    preview = layer.preview if layer is not None else []
    if o is not None:
        x0, y0, x1, y1 = o.bounds
        kx, ky, width, height = o.kx, o.ky, o.width, o.height
    elif preview:
        xs, ys = [], []
        for item in preview:
            for ring in _rings(item["g"]):
                xs += [p[0] for p in ring]
                ys += [p[1] for p in ring]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        kx = MAP_WIDTH / max(x1 - x0, 1e-9)
        ky = kx / max(math.cos(math.radians((y0 + y1) / 2)), 0.2)
        width, height = MAP_WIDTH, (y1 - y0) * ky
    else:
        return None
    colors = _class_labels()
    paths = []
    for item in preview:
        d = "".join(
            "M" + "L".join(f"{(x - x0) * kx:.1f} {(y1 - y) * ky:.1f}" for x, y, *_ in ring) + "Z"
            for ring in _rings(item["g"])
            if len(ring) >= 3
        )
        if d:
            paths.append({"d": d, "c": item["c"], "color": colors.get(item["c"], {}).get("color", "#999")})
    areas = list(o.areas) if o is not None else []
    return {"width": width, "height": round(height, 1), "paths": paths, "areas": areas}


def _rings(g: dict[str, Any]) -> list[list[list[float]]]:
    if g.get("type") == "Polygon":
        return list(g["coordinates"])
    if g.get("type") == "MultiPolygon":
        return [ring for poly in g["coordinates"] for ring in poly]
    return []


# --- assets -------------------------------------------------------------------------------------


@router.get("/eco/assets")
def assets_page(
    request: Request, session: ReadSession, a: Reader, layer: LayerQ = None, division: DivisionQ = ""
) -> Response:
    chosen = _layer(session, layer)
    areas = areas_out(session, chosen.id, division or None) if chosen is not None else None
    present = set(areas.areas_ha) if areas is not None else set()
    for child in areas.children if areas is not None else []:
        present |= set(child.areas_ha)
    cols = [c for c in landuse_read.classes() if c in present]
    parent = None
    if areas is not None and len(areas.division) > 6:
        parent = areas.division[: 6 if len(areas.division) == 9 else 9]
    return templates(request).render(
        request,
        "eco/assets/index.html",
        {
            "layers": [layer_out(session, x) for x in landuse.list_layers(session)],
            "layer": layer_out(session, chosen) if chosen is not None else None,
            "areas": areas,
            "division_name": landuse.division_name(session, areas.division) if areas and areas.division else "",
            "parent": parent,
            "cols": cols,
            "classes": _class_labels(),
            "frame": _frame(session, chosen),
            "may_manage": a.actor.can(ACCOUNTS_MANAGE),
        },
    )


def _import_page(
    request: Request,
    session: Session,
    *,
    form: Refused | None = None,
    unmapped: dict[str, float] | None = None,
    class_field: str | None = None,
) -> Response:
    form = form or Refused.empty()
    return templates(request).render(
        request,
        "eco/assets/import.html",
        {
            "form": form,
            "v": form.values,
            "builtins": {k: BUILTIN_NAMES[k] for k in BUILTIN_MAPPINGS},
            "classes": _class_labels(),
            "unmapped": unmapped or {},
            "layers": [(x.id, f"{x.name} · {x.year} · v{x.version}") for x in landuse.list_layers(session)],
            "class_field": class_field,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
        },
        status_code=form.status,
    )


@router.get("/eco/assets/import")
def import_form(request: Request, session: ReadSession, a: Manager) -> Response:
    return _import_page(request, session)


def _mapping_with_choices(session: Session, form: Any, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The typed mapping JSON plus the classes chosen for the unmapped source classes (``map:<source>``)."""
    chosen = {}
    for key, value in form.multi_items():
        if key.startswith("map:") and isinstance(value, str) and value:
            chosen[key[4:][:100]] = value
    if not chosen:
        return values.get("mapping", ""), chosen
    base: dict[str, Any] = {}
    text = values.get("mapping", "").strip()
    if text:
        try:
            loaded = json.loads(text)
            base = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            return text, chosen  # refused by the model's parse below
    elif values.get("from_layer", "").isdigit():
        base = dict(landuse.get_layer(session, layer_id=int(values["from_layer"])).mapping)
    elif values.get("builtin") in landuse_read.builtin_mappings():
        base = landuse_read.builtin_mappings()[values["builtin"]].as_json()
    else:
        base = landuse_read.default_mapping().as_json()
    if isinstance(base.get("classes"), dict):
        base["classes"] = {**base["classes"], **chosen}
    else:
        base = {**base, **chosen}
    return json.dumps(base, ensure_ascii=False), chosen


@router.post("/eco/assets/import")
def import_submit(
    request: Request,
    session: WriteSession,
    a: Manager,
    form: PostedForm,
) -> Response:
    file = form.get("file")
    values = forms.typed(form, IMPORT_FIELDS)
    exclude = form.get("exclude_unmapped") == "1"
    chosen = {k[4:][:100]: v for k, v in form.multi_items() if k.startswith("map:") and isinstance(v, str) and v}
    shown = {**values, "exclude_unmapped": "1" if exclude else "", **{f"map:{k}": v for k, v in chosen.items()}}
    try:
        mapping_text, _ = _mapping_with_choices(session, form, values)
        body = forms.parse(LayerIn, {**values, "mapping": mapping_text, "exclude_unmapped": exclude})
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise CountyError(N_("Choose a file"))
        data = forms.read_upload(file, MAX_FILE_BYTES)  # type: ignore[arg-type]
        layer = import_file(session, a, body, data, file.filename)
    except UnmappedClasses as exc:
        session.rollback()
        refused = Refused.of(request, exc, shown)
        return _import_page(request, session, form=refused, unmapped=exc.unmapped, class_field=exc.field)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, shown)
        if isinstance(exc, CountyError) and exc.message_id == "Choose a file":
            refused.errors["file"] = refused.error or ""
        return _import_page(request, session, form=refused)
    esv.compute(session, actor=a.actor, layer_id=layer.id, year=layer.year if layer.year >= 2010 else None,
                method=PriceMethod.CPI if layer.year >= 2010 else PriceMethod.STANDARD)  # fmt: skip
    return redirect(f"/eco/assets?layer={layer.id}", flash=translate(request, "Imported"))


# --- ESV ----------------------------------------------------------------------------------------


def _esv_context(
    session: Session, layer: LandUseLayer, year: int | None, method: str | None, division: str
) -> dict[str, Any]:
    m = PriceMethod(method) if method and method in PriceMethod._value2member_map_ else None
    acc = esv.for_layer(session, layer_id=layer.id, year=year, method=m, division=division or None)
    code = division or landuse.county_key(session, layer_id=layer.id)
    everything = landuse.all_areas(session, layer_id=layer.id)
    rows = []
    if len(code) in (6, 9):
        for c, n in landuse.children_codes(session, parent_code=code):
            sub = esv.account(everything.get(c, {}), acc.unit)
            rows.append({"code": c, "name": n, "ha": sum(sub.areas.values()), "total": sub.total,
                         "by_service": sub.by_service})  # fmt: skip
    top = max(acc.by_class.values(), default=0.0) or 1.0
    bars = [{"c": k, "v": v, "w": round(600 * max(v, 0) / top, 1)} for k, v in acc.by_class.items()]
    return {
        "acc": acc,
        "code": code,
        "division_name": landuse.division_name(session, code) if code else "",
        "rows": rows,
        "bars": bars,
        "stored": esv.stored(session, layer_id=layer.id, year=acc.unit.year, method=acc.unit.method),
        "results": esv.results(session, layer_id=layer.id),
    }


@router.get("/eco/assets/esv")
def esv_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    layer: LayerQ = None,
    year: YearQ = None,
    method: Annotated[str, Query(max_length=16)] = "",
    division: DivisionQ = "",
) -> Response:
    chosen = _layer(session, layer)
    ctx: dict[str, Any] = {"acc": None, "rows": [], "bars": [], "stored": None, "results": [], "code": "",
                           "division_name": ""}  # fmt: skip
    error = None
    if chosen is not None:
        try:
            ctx = _esv_context(session, chosen, year, method or None, division)
        except CountyError as exc:
            error = exc.message
    query = {"layer": chosen.id if chosen else "", "year": year or "", "method": method, "division": division}
    return templates(request).render(
        request,
        "eco/assets/esv.html",
        {
            **ctx,
            "error": error,
            "layer": layer_out(session, chosen) if chosen is not None else None,
            "layers": [layer_out(session, x) for x in landuse.list_layers(session)],
            "services": esv.SERVICES,
            "classes": _class_labels(),
            "methods": METHOD_NAMES,
            "query": query,
            "export_url": "/eco/assets/esv/export?" + urlencode(query),
            "may_manage": a.actor.can(ACCOUNTS_MANAGE),
            "verification": esv.table().verification,
        },
        status_code=422 if error else 200,
    )


@router.post("/eco/assets/esv")
def esv_run(request: Request, session: WriteSession, a: Manager, form: PostedForm) -> Response:
    values = forms.typed(form, ("layer_id", "year", "method"))
    try:
        body = forms.parse(EsvRunIn, values)
        row = esv.compute(session, actor=a.actor, layer_id=body.layer_id, year=body.year, method=body.method)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return redirect(f"/eco/assets/esv?layer={values.get('layer_id', '')}", flash=refused.error or "", kind="error")
    q = urlencode({"layer": row.layer_id, "year": row.year, "method": str(row.method)})
    return redirect(f"/eco/assets/esv?{q}", flash=translate(request, "Saved"))


@router.get("/eco/assets/esv/export")
def esv_export(
    session: WriteSession,
    a: Reader,
    layer: LayerQ = None,
    year: YearQ = None,
    method: Annotated[str, Query(max_length=16)] = "",
    division: DivisionQ = "",
) -> Response:
    chosen = _layer(session, layer)
    if chosen is None:
        raise NotFound(N_("There is no land-use layer yet"))
    ctx = _esv_context(session, chosen, year, method or None, division)
    acc: esv.Account = ctx["acc"]
    names = landuse_read.classes()
    headers = ["class_code", "class", "hectares", *[esv.SERVICE_ZH[s] for s in esv.SERVICES], "ESV (元)"]
    rows: list[list[Any]] = []
    for k, ha in acc.areas.items():
        cs = acc.by_class_service[k]
        rows.append([k, names[k].zh if k in names else k, round(ha, 4), *[round(cs[s], 2) for s in esv.SERVICES],
                     round(acc.by_class[k], 2)])  # fmt: skip
    rows.append(["total", "合计", round(sum(acc.areas.values()), 4),
                 *[round(acc.by_service[s], 2) for s in esv.SERVICES], round(acc.total, 2)])  # fmt: skip
    rows.append([])
    rows.append(["division_code", "division", "hectares", *[esv.SERVICE_ZH[s] for s in esv.SERVICES], "ESV (元)"])
    for r in ctx["rows"]:
        rows.append([r["code"], r["name"], round(r["ha"], 4), *[round(r["by_service"][s], 2) for s in esv.SERVICES],
                     round(r["total"], 2)])  # fmt: skip
    rows.append([])
    u = acc.unit.as_dict()
    rows.append(
        ["unit_value", f"{acc.unit.value:.4f} 元/hm²", u.get("year"), u.get("method"), str(u.get("source", ""))]
    )
    audit.record(session, actor=a.actor, action="eco.esv.export", target_type="eco_landuse_layer", target_id=chosen.id,
                 detail={"year": acc.unit.year, "method": str(acc.unit.method), "division": ctx["code"]})  # fmt: skip
    filename = f"esv-{chosen.id}-{acc.unit.year}-{acc.unit.method}.xlsx"
    return Response(to_xlsx(headers, rows, "ESV"), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip
