"""API of the assets part of the ecology domain, under /api/v1/eco.

- ``GET /assets/layers``, ``GET /assets/layers/{id}``: the land-use layers (eco.accounts.read).
- ``POST /assets/layers``: import a file (GeoJSON, zipped Shapefile, GeoPackage, GeoTIFF) with a mapping
  (multipart: ``file`` and the fields of ``LayerIn``; eco.accounts.manage). Unmapped source classes answer
  422 ``unmapped_classes`` with each class and its hectares.
- ``GET /assets/layers/{id}/areas?division=``: hectares by class of a division and of its children.
- ``GET /assets/esv?layer_id&year&method&division``: the ESV account of a layer (computed from its
  stored areas; nothing written).
- ``POST /assets/esv/compute``: the public calculator, hectares by class in the body → ESV.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from countyos.eco.models.assets import LandUseLayer, PriceMethod
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.schemas.assets import (
    MAX_FILE_BYTES,
    MAX_YEAR,
    AreaRow,
    AreasOut,
    EsvComputeIn,
    EsvOut,
    LayerIn,
    LayerOut,
)
from countyos.eco.service import esv, landuse, landuse_read
from countyos.org.service import users
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/assets")
Reader = Annotated[Auth, Depends(require(ACCOUNTS_READ))]
Manager = Annotated[Auth, Depends(require(ACCOUNTS_MANAGE))]
LayerId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Division = Annotated[str | None, Query(max_length=12, pattern=r"^\d{6}(\d{3}){0,2}$")]


def layer_out(session: Session, layer: LandUseLayer) -> LayerOut:
    who = users.colleagues(session, user_ids=[layer.created_by_id]).get(layer.created_by_id or 0)
    return LayerOut(
        id=layer.id,
        name=layer.name,
        year=layer.year,
        version=layer.version,
        source=layer.source,
        file_name=layer.file_name,
        file_kind=layer.file_kind,
        crs=layer.crs,
        class_field=layer.class_field,
        mapping=layer.mapping,
        unmapped=layer.unmapped,
        features=layer.features,
        pixels=layer.pixels,
        total_ha=round(layer.total_ha, 4),
        projection=layer.projection,
        created_by=who.display_name if who else None,
        created_at=layer.created_at,
        url=f"/eco/assets?layer={layer.id}",
    )


def mapping_of(session: Session, body: LayerIn) -> landuse_read.Mapping:
    """The mapping chosen at import: JSON typed wins over the mapping kept with a layer, which wins over a
    built-in one."""
    if body.mapping.strip():
        return landuse_read.mapping_from(body.mapping)
    if body.from_layer is not None:
        kept = landuse.get_layer(session, layer_id=body.from_layer).mapping
        return landuse_read.mapping_from(kept, name=str(kept.get("name") or f"layer {body.from_layer}"))
    if body.builtin == "default":
        return landuse_read.default_mapping()
    return landuse_read.builtin_mappings()[body.builtin]


def import_file(session: Session, a: Auth, body: LayerIn, data: bytes, filename: str) -> LandUseLayer:
    return landuse.import_layer(
        session,
        actor=a.actor,
        data=data,
        filename=filename,
        name=body.name,
        year=body.year,
        source=body.source,
        mapping=mapping_of(session, body),
        exclude_unmapped=body.exclude_unmapped,
        note=body.note,
    )


@router.get("/layers")
def list_layers(session: ReadSession, a: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[LayerOut]:
    return [layer_out(session, x) for x in landuse.list_layers(session, limit=limit)]


@router.post("/layers", status_code=201)
def create_layer(
    session: WriteSession,
    a: Manager,
    file: UploadFile,
    name: Annotated[str, Form(max_length=200)],
    year: Annotated[int, Form(ge=1980, le=MAX_YEAR)],
    source: Annotated[str, Form(max_length=500)] = "",
    builtin: Annotated[str, Form(max_length=40)] = "default",
    mapping: Annotated[str, Form(max_length=200_000)] = "",
    from_layer: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    exclude_unmapped: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> LayerOut:
    try:
        body = LayerIn(name=name, year=year, source=source, builtin=builtin, mapping=mapping,
                       from_layer=from_layer, exclude_unmapped=exclude_unmapped, note=note)  # fmt: skip
    except PydanticValidationError as exc:  # the form's fields, checked together as one input
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    data = forms.read_upload(file, MAX_FILE_BYTES)
    return layer_out(session, import_file(session, a, body, data, file.filename or ""))


@router.get("/layers/{layer_id}")
def get_layer(layer_id: LayerId, session: ReadSession, a: Reader) -> LayerOut:
    return layer_out(session, landuse.get_layer(session, layer_id=layer_id))


def areas_out(session: Session, layer_id: int, division: str | None) -> AreasOut:
    landuse.get_layer(session, layer_id=layer_id)
    code = division or landuse.county_key(session, layer_id=layer_id)
    everything = landuse.all_areas(session, layer_id=layer_id)
    main = everything.get(code, {})
    children = []
    if len(code) in (6, 9):
        for c, n in landuse.children_codes(session, parent_code=code):
            areas = everything.get(c, {})
            children.append(AreaRow(division_code=c, division_name=n, areas_ha=landuse_read.rounded(areas),
                                    total_ha=round(sum(areas.values()), 4)))  # fmt: skip
    return AreasOut(layer_id=layer_id, division=code, areas_ha=landuse_read.rounded(main),
                    total_ha=round(sum(main.values()), 4), children=children)  # fmt: skip


@router.get("/layers/{layer_id}/areas")
def layer_areas(layer_id: LayerId, session: ReadSession, a: Reader, division: Division = None) -> AreasOut:
    return areas_out(session, layer_id, division)


@router.get("/esv")
def layer_esv(
    session: ReadSession,
    a: Reader,
    layer_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    year: Annotated[int | None, Query(ge=2010, le=MAX_YEAR)] = None,
    method: PriceMethod | None = None,
    division: Division = None,
) -> EsvOut:
    acc = esv.for_layer(session, layer_id=layer_id, year=year, method=method, division=division)
    kept = esv.stored(session, layer_id=layer_id, year=acc.unit.year, method=acc.unit.method) is not None
    return EsvOut(layer_id=layer_id, division=division, stored=kept, **acc.as_dict())


@router.post("/esv/compute", dependencies=[Depends(public)])
def compute_esv(body: EsvComputeIn) -> EsvOut:
    """ESV of the areas given (hectares by accounting class): Σ A × Σ F × E_a; nothing is stored."""
    unit = esv.unit_value(year=body.year, method=body.method)
    return EsvOut(**esv.account(body.areas, unit).as_dict())
