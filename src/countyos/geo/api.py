"""JSON API of the geo domain under ``/api/v1/geo``.

OGC API Features-style: ``/collections``, ``/collections/{id}``, ``/collections/{id}/items`` (GeoJSON,
``bbox``, ``limit``/``offset``, property filters, ``crs``) and ``/collections/{id}/items/{code}``; plus
point lookup, coordinate conversion, search, grid responsibility, components and imports.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from shapely.geometry import shape
from starlette.responses import JSONResponse, Response

from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import DEFAULT_LOCALE, N_, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.geo import flows, schemas
from countyos.geo.service import basemap, components, crs, divisions, features, grids, lookup, packaged, validate
from countyos.geo.service import search as search_service
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/geo", tags=["geo"])

GEOJSON = "application/geo+json"
RESERVED = {"bbox", "limit", "offset", "crs", "bbox-crs", "f"}
MAX_UPLOAD = 20_000_000

Read = Annotated[Auth, Depends(require("geo.read"))]
Write = Annotated[Auth, Depends(require("geo.write"))]


def _collection_out(request: Request, c: features.Collection) -> dict[str, Any]:
    base = str(request.url_for("geo_collection", collection_id=c.id))
    return {
        "id": c.id,
        "title": gettext(c.title),
        "description": gettext(c.description),
        "itemType": "feature",
        "crs": list(features.CRS_URIS.values()),
        "storageCrs": features.CRS_URIS["wgs84"],
        "filters": list(c.filters),
        "links": [
            {"rel": "self", "type": "application/json", "href": base},
            {"rel": "items", "type": GEOJSON, "href": base + "/items"},
        ],
    }


@router.get("/collections")
def list_collections(request: Request, _: Read) -> dict[str, Any]:
    return {
        "collections": [_collection_out(request, c) for c in features.COLLECTIONS.values()],
        "links": [{"rel": "self", "type": "application/json", "href": str(request.url)}],
    }


@router.get("/collections/{collection_id}", name="geo_collection")
def get_collection(request: Request, collection_id: str, _: Read) -> dict[str, Any]:
    return _collection_out(request, features.get_collection(collection_id))


def _page_link(request: Request, rel: str, offset: int) -> dict[str, str]:
    return {"rel": rel, "type": GEOJSON, "href": str(request.url.include_query_params(offset=offset))}


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON  # what the OpenAPI description lists for the feature routes


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse)
def list_items(
    request: Request,
    collection_id: str,
    session: ReadSession,
    _: Read,
    bbox: str | None = None,
    limit: Annotated[int, Query(ge=1, le=features.MAX_ITEMS)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    crs_name: Annotated[str, Query(alias="crs")] = "EPSG:4326",
    bbox_crs: Annotated[str, Query(alias="bbox-crs")] = "EPSG:4326",
) -> JSONResponse:
    """GeoJSON features; other query parameters are property filters (see the collection's ``filters``)."""
    out_crs = crs.normalize_crs(crs_name)
    box = features.parse_bbox(bbox)
    if box is not None and crs.normalize_crs(bbox_crs) in ("gcj02", "bd09"):
        x0, y0 = crs.to_wgs84(box[0], box[1], bbox_crs)
        x1, y1 = crs.to_wgs84(box[2], box[3], bbox_crs)
        box = (x0, y0, x1, y1)
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    rows, matched = features.query_items(session, collection_id, bbox=box, filters=filters, limit=limit, offset=offset)
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)}]
    if offset + len(rows) < matched:
        links.append(_page_link(request, "next", offset + limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(0, offset - limit)))
    body = {
        "type": "FeatureCollection",
        "features": features.to_features(session, collection_id, rows, out_crs),
        "numberMatched": matched,
        "numberReturned": len(rows),
        "links": links,
    }
    return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{features.CRS_URIS[out_crs]}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=GeoJSONResponse)
def get_item(
    collection_id: str,
    feature_id: str,
    session: ReadSession,
    _: Read,
    crs_name: Annotated[str, Query(alias="crs")] = "EPSG:4326",
) -> JSONResponse:
    out_crs = crs.normalize_crs(crs_name)
    row = features.get_item(session, collection_id, feature_id)
    body = features.to_features(session, collection_id, [row], out_crs)[0]
    return JSONResponse(body, media_type=GEOJSON, headers={"Content-Crs": f"<{features.CRS_URIS[out_crs]}>"})


def _place_out(p: lookup.Place) -> schemas.PlaceOut:
    return schemas.PlaceOut(**p.__dict__)


@router.get("/locate", response_model=schemas.PlaceOut)
def locate(
    session: ReadSession, _: Read, lon: float, lat: float, crs_name: Annotated[str, Query(alias="crs")] = "wgs84"
) -> schemas.PlaceOut:
    """Grid, village and township of a point; 422 ``outside_county`` when it is outside the county."""
    return _place_out(lookup.locate(session, lon=lon, lat=lat, crs=crs_name))


@router.post("/locate", response_model=schemas.LocateBatchOut)
def locate_batch(body: schemas.LocateBatchIn, session: ReadSession, _: Read) -> schemas.LocateBatchOut:
    """Many points at once (up to 100,000); ``null`` for a point outside the county."""
    batch = lookup.locate_many(session, body.lons, body.lats, crs=body.crs)
    places = [(_place_out(p) if p is not None else None) for p in batch]
    return schemas.LocateBatchOut(places=places, outside=int((~batch.inside).sum()))


@router.get("/convert", response_model=schemas.ConvertOut)
def convert(
    _: Read, lon: float, lat: float, source: Annotated[str, Query(alias="from")] = "wgs84", to: str = "wgs84"
) -> schemas.ConvertOut:
    """Convert a coordinate between WGS-84/CGCS2000, GCJ-02 and BD-09."""
    x, y = crs.to_wgs84(lon, lat, source)
    x, y = crs.from_wgs84(x, y, to)
    return schemas.ConvertOut(lon=round(x, 8), lat=round(y, 8), crs=crs.normalize_crs(to))


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", DEFAULT_LOCALE))


def _labels(locale: str) -> dict[str, str]:
    with use_locale(locale):
        return {k: gettext(v) for k, v in PICK_LABELS.items()}


KIND_NAMES = {
    "county": N_("County"),
    "township": N_("Township"),
    "village": N_("Village"),
    "grid": N_("Grid"),
    "component": N_("Component"),
    "address": N_("Address"),
}


@router.get("/search", response_model=list[schemas.SearchHit])
def search(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth | None, Depends(public)],
    q: Annotated[str, Query(min_length=1, max_length=search_service.MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=search_service.MAX_RESULTS)] = 10,
) -> list[schemas.SearchHit]:
    """Places and addresses of the county by name or code, best first: divisions, free-text addresses
    (placed in the village they name) and, with ``geo.read``, grids and components."""
    operational = a is not None and a.actor.can("geo.read")
    hits = search_service.search(session, q=q, limit=limit, operational=operational)
    with use_locale(_locale(request)):
        return [
            schemas.SearchHit(
                kind=h.kind,
                kind_name=gettext(KIND_NAMES[h.kind]),
                code=h.code,
                name=h.name,
                path=h.path,
                lon=h.lon,
                lat=h.lat,
                precise=h.precise,
                approximate=h.approximate,
                bbox=h.bbox,
            )
            for h in hits
        ]


# The words of the map pick that every position input gets (web/static/js/position-pick.js).
PICK_LABELS = {
    "search": N_("Search an address or place"),
    "search_hint": N_("Village, community, street or landmark"),
    "results": N_("Places found"),
    "no_results": N_("No place of the county matches"),
    "locate": N_("Use my location"),
    "locating": N_("Finding your location…"),
    "located": N_("Location found (±%(m)s m)"),
    "locate_failed": N_("Your location is not available: pick the place on the map"),
    "map": N_("Map: click or drag the marker to set the position"),
    "hint": N_("Search, use your location, or click the map: the position is filled in for you."),
    "picked": N_("Position set on the map"),
    "outside": N_("This point is outside the county"),
}


@router.get("/basemap", response_model=schemas.BasemapOut)
def basemap_config(
    request: Request, session: ReadSession, a: Annotated[Auth | None, Depends(public)]
) -> schemas.BasemapOut:
    """The map base layer every map draws (tiles on this server) and whether the caller may draw the
    boundary overlays."""
    cfg = basemap.config(get_settings())
    county = divisions.the_county(session)
    return schemas.BasemapOut(
        source=cfg.source,
        tiles=cfg.tiles,
        crs=cfg.crs,
        min_zoom=cfg.min_zoom,
        max_zoom=cfg.max_zoom,
        attribution=cfg.attribution,
        bounds=cfg.bounds,
        labelled=cfg.labelled,
        county_bbox=(county.minx, county.miny, county.maxx, county.maxy) if county is not None else None,
        overlays=a is not None and a.actor.can("geo.read"),
        labels=_labels(_locale(request)),
    )


TILE_CACHE = "public, max-age=86400, stale-while-revalidate=604800"


@router.get("/tiles/{z}/{x}/{y}.png", name="geo_tile")
def tile(
    request: Request,
    z: Annotated[int, Path(ge=0, le=basemap.MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    _: Annotated[Auth | None, Depends(public)],
) -> Response:
    """One base-layer tile (XYZ). 204 where the source has no tile (outside the county), 404 outside its
    zooms or the world; cached by browsers for a day, revalidated by ETag."""
    t = basemap.get_tile(get_settings(), z, x, y)
    if t is None:
        return Response(status_code=204, headers={"Cache-Control": TILE_CACHE})
    headers = {"Cache-Control": TILE_CACHE, "ETag": t.etag}
    if request.headers.get("if-none-match") == t.etag:
        return Response(status_code=304, headers=headers)
    return Response(t.data, media_type=t.media_type, headers=headers)


@router.get("/classes", response_model=list[schemas.ComponentClassOut])
def component_classes(_: Read, kind: str | None = None) -> list[schemas.ComponentClassOut]:
    """The GB/T 47678.5 directory: 管理部件 (component) and 管理事项 (matter) classes."""
    wanted = {"component": packaged.COMPONENT, "matter": packaged.MATTER}.get(kind or "")
    return [
        schemas.ComponentClassOut(
            kind="component" if c.kind == packaged.COMPONENT else "matter",
            code=c.code,
            major_code=c.major_code,
            major_name=c.major_name,
            name=c.name,
        )
        for c in packaged.directory()
        if wanted is None or c.kind == wanted
    ]


def _grid_out(info: grids.GridInfo) -> schemas.GridOut:
    return schemas.GridOut(**{**info.__dict__, "worker_ids": list(info.worker_ids)})


@router.get("/grids/{code}", response_model=schemas.GridOut)
def get_grid(code: str, session: ReadSession, _: Read) -> schemas.GridOut:
    return _grid_out(grids.grid_for_code(session, code))


@router.patch("/grids/{code}", response_model=schemas.GridOut)
def update_grid(code: str, body: schemas.GridPatch, session: WriteSession, a: Write) -> schemas.GridOut:
    """Area class, name, responsible department (null clears it) and grid workers of a grid."""
    fields = body.model_dump(exclude_unset=True)
    info = grids.update(
        session,
        actor=a.actor,
        code=code,
        area_class=fields.get("area_class"),
        name=fields.get("name"),
        department_id=fields.get("department_id"),
        clear_department="department_id" in fields and fields["department_id"] is None,
        worker_ids=fields.get("worker_ids"),
    )
    return _grid_out(info)


def _geometry(g: schemas.GeometryIn, crs_name: str) -> Any:
    try:
        geom = shape(g.model_dump())
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise ValidationFailed(N_("The geometry is not valid GeoJSON")) from exc
    if geom.is_empty:
        raise ValidationFailed(N_("The geometry is not valid GeoJSON"))
    return crs.transform_geometry(geom, to="wgs84", source=crs_name)


def _component_feature(session: Any, c: Any) -> dict[str, Any]:
    return features.to_features(session, "components", [c], "wgs84")[0]


@router.post("/components", status_code=201)
def create_component(body: schemas.ComponentCreate, session: WriteSession, a: Write) -> dict[str, Any]:
    """Add a component; its code (when not given) and its grid are assigned."""
    try:
        status = components.parse_status(body.status)
    except ValueError as exc:
        raise ValidationFailed(N_("Unknown status %(status)s"), status=body.status) from exc
    item = components.ComponentIn(
        class_code=body.class_code,
        geom=_geometry(body.geometry, body.crs),
        code=body.code,
        name=body.name,
        owner_dept_code=body.owner_dept_code,
        owner_dept_name=body.owner_dept_name,
        property_unit_code=body.property_unit_code,
        property_unit_name=body.property_unit_name,
        maintainer_code=body.maintainer_code,
        maintainer_name=body.maintainer_name,
        status=status,
        initial_date=body.initial_date,
        data_source=body.data_source,
        note=body.note,
    )
    return _component_feature(session, components.create(session, actor=a.actor, item=item))


@router.patch("/components/{code}")
def update_component(code: str, body: schemas.ComponentPatch, session: WriteSession, a: Write) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True, exclude={"geometry", "crs"})
    geom = _geometry(body.geometry, body.crs) if body.geometry is not None else None
    c = components.update_component(session, actor=a.actor, code=code, changes=fields, geom=geom)
    return _component_feature(session, c)


@router.post("/import/{kind}", response_model=schemas.ImportReportOut)
async def import_file(
    kind: str,
    session: WriteSession,
    a: Write,
    file: Annotated[UploadFile, File()],
    skip_bad_rows: Annotated[bool, Form()] = False,
    crs_name: Annotated[str | None, Form(alias="crs")] = None,
    replace: Annotated[bool, Form()] = False,
) -> schemas.ImportReportOut:
    """Import ``divisions`` (GeoJSON, zipped Shapefile, GeoPackage), ``grids`` (same) or ``components``
    (CSV, Excel or GeoJSON). A bad row rejects the whole file (422 with a row-by-row report) unless
    ``skip_bad_rows`` is set."""
    if kind not in ("divisions", "grids", "components"):
        raise ValidationFailed(N_("Import divisions, grids or components"))
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise PayloadTooLarge(N_("The file is larger than %(mb)s MB"), mb=MAX_UPLOAD // 1_000_000)
    report = flows.import_file(
        session,
        actor=a.actor,
        kind=kind,
        data=data,
        filename=file.filename or "upload",
        crs=crs_name,
        skip_bad_rows=skip_bad_rows,
        replace=replace,
    )
    return schemas.ImportReportOut(**report.as_dict())


@router.get("/validate")
def run_validation(session: ReadSession, _: Write) -> dict[str, Any]:
    """Overlaps, gaps, duplicate codes and slivers of grids and divisions, each with a location."""
    return validate.validate(session).as_dict()


@router.get("/summary")
def summary(session: ReadSession, _: Read) -> dict[str, Any]:
    return flows.summary(session)
