"""Pages of the bases (基地/地块) of the producers part: ``/village/bases/new?entity=`` (draw a polygon on
the map), ``/village/bases/import?entity=`` (GeoJSON, zipped Shapefile, GeoPackage), ``/village/bases/{id}``
(map, facility, devices with their latest values, tasks) and its edit form."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from shapely.geometry import mapping
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.village.models.producers import Facility, ProductionBase, TaskState
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.producers import BaseIn
from countyos.village.service import producers as svc
from countyos.village.service import producers_bases as bases
from countyos.village.service import producers_tasks as tasks
from countyos.village.service import products, scope
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Auth, Depends(authenticated)]
BASE_FIELDS = ("entity_id", "code", "name", "facility", "village_code", "geometry")


def _common() -> dict[str, Any]:
    return {
        "facility_names": svc.FACILITY_NAMES,
        "facilities": list(Facility),
        "kind_names": svc.KIND_NAMES,
        "task_state_names": svc.TASK_STATE_NAMES,
        "product_label": products.product_label,
        "all_products": sorted(products.catalog().products.values(), key=lambda p: p.class_code),
    }


def _entity_id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 10 else 0


def _form(
    request: Request,
    session: Session,
    a: Auth,
    *,
    entity_id: int,
    form: Refused,
    base: ProductionBase | None,
    status: int = 200,
) -> Response:
    e = scope.entity_for(session, a.actor, entity_id, write=True)
    return templates(request).render(
        request,
        "village/producers/base_form.html",
        {
            **_common(),
            "e": e,
            "form": form,
            "base": base,
            "bases_source": f"/api/v1/village/bases?entity_id={e.id}",
        },
        status_code=status,
    )


def _parse(form: Any) -> tuple[dict[str, Any], BaseIn]:
    values: dict[str, Any] = forms.typed(form, BASE_FIELDS)
    codes = [c for c in form.getlist("product_codes") if isinstance(c, str)][:50]
    values["product_codes"] = codes
    raw = str(values.get("geometry", "")).strip()
    try:
        geometry = json.loads(raw) if raw else None
    except ValueError as exc:
        raise ValidationFailed(
            N_("The geometry is not a GeoJSON geometry"),
            errors=[{"field": "geometry", "message": N_("The geometry is not a GeoJSON geometry")}],
        ) from exc
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if geometry is None:
        raise ValidationFailed(
            N_("Draw the base on the map"), errors=[{"field": "geometry", "message": N_("Draw the base on the map")}]
        )
    return values, forms.parse(BaseIn, {**values, "geometry": geometry})


@router.get("/village/bases/new")
def new_page(request: Request, session: ReadSession, a: Anyone, entity: str = "") -> Response:
    eid = _entity_id(entity)
    return _form(request, session, a, entity_id=eid, form=Refused({"entity_id": str(eid)}, {}, None, 200), base=None)


@router.post("/village/bases/new")
def create(request: Request, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    values: dict[str, Any] = forms.typed(form, BASE_FIELDS)
    eid = _entity_id(str(values.get("entity_id", "")))
    try:
        values, body = _parse(form)
        b = bases.create_base(session, actor=a.actor, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _form(request, session, a, entity_id=eid, form=refused, base=None, status=refused.status)
    return redirect(f"/village/bases/{b.id}", flash=translate(request, "Saved"))


def _import_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    entity_id: int,
    form: Refused,
    report: dict[str, Any] | None,
    status: int = 200,
) -> Response:
    e = scope.entity_for(session, a.actor, entity_id, write=True)
    return templates(request).render(
        request,
        "village/producers/import.html",
        {
            **_common(),
            "e": e,
            "form": form,
            "report": report,
            "max_mb": bases.MAX_FILE_BYTES // 1_000_000,
            "max_features": bases.MAX_FEATURES,
        },
        status_code=status,
    )


@router.get("/village/bases/import")
def import_page(request: Request, session: ReadSession, a: Anyone, entity: str = "") -> Response:
    return _import_page(request, session, a, entity_id=_entity_id(entity), form=Refused.empty(), report=None)


@router.post("/village/bases/import")
def import_file(
    request: Request,
    session: WriteSession,
    a: Anyone,
    file: Annotated[UploadFile, File()],
    entity_id: Annotated[str, Form(max_length=10)] = "",
    facility: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    eid = _entity_id(entity_id)
    try:
        data = forms.read_upload(file, bases.MAX_FILE_BYTES)
        fac = Facility(facility) if facility in {f.value for f in Facility} else None
        report = bases.import_file(
            session, actor=a.actor, entity_id=eid, data=data, filename=file.filename or "", facility=fac
        )
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {"facility": facility})
        rows = getattr(exc, "errors", None) or []
        return _import_page(request, session, a, entity_id=eid, form=refused,
                            report={"refused": rows}, status=refused.status)  # fmt: skip
    return _import_page(request, session, a, entity_id=eid, form=Refused.empty(), report=report.as_dict())


@router.get("/village/bases/{base_id}")
def base_page(request: Request, base_id: int, session: ReadSession, a: Anyone) -> Response:
    return _base(request, session, a, base_id)


def _base(
    request: Request, session: Session, a: Auth, base_id: int, *, device_form: Refused | None = None, status: int = 200
) -> Response:
    b = bases.get_base(session, actor=a.actor, base_id=base_id)
    e = svc.get_entity(session, actor=a.actor, entity_id=b.entity_id)
    attached = bases.devices_of(session, base_ids=[b.id])
    can_write = a.actor.can(AGRI_MANAGE) or b.entity_id in scope.entity_ids_of(session, a.actor)
    return templates(request).render(
        request,
        "village/producers/base.html",
        {
            **_common(),
            "b": b,
            "e": e,
            "geometry": json.dumps(mapping(b.geom)),
            "devices": attached,
            "readings": tasks.latest_values(session, thing_ids=[t.id for _, t in attached]),
            "tasks": tasks.list_tasks(session, actor=a.actor, base_id=b.id, state=None, limit=50),
            "open_state": TaskState.OPEN,
            "can_write": can_write,
            "choices": bases.device_choices(session) if can_write else [],
            "device_form": device_form or Refused.empty(),
        },
        status_code=status,
    )


@router.get("/village/bases/{base_id}/edit")
def edit_page(request: Request, base_id: int, session: ReadSession, a: Anyone) -> Response:
    b = bases.get_base(session, actor=a.actor, base_id=base_id, write=True)
    return _form(request, session, a, entity_id=b.entity_id, form=Refused(bases.as_input(b), {}, None, 200), base=b)


@router.post("/village/bases/{base_id}/edit")
def edit(request: Request, base_id: int, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    b = bases.get_base(session, actor=a.actor, base_id=base_id, write=True)
    entity_id = b.entity_id
    values: dict[str, Any] = forms.typed(form, BASE_FIELDS)
    try:
        values, body = _parse(form)
        bases.update_base(session, actor=a.actor, base_id=base_id, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        b = bases.get_base(session, actor=a.actor, base_id=base_id, write=True)
        return _form(request, session, a, entity_id=entity_id, form=refused, base=b, status=refused.status)
    return redirect(f"/village/bases/{base_id}", flash=translate(request, "Saved"))


@router.post("/village/bases/{base_id}/devices")
def attach(request: Request, base_id: int, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    values = forms.typed(form, ("device_key",))
    try:
        bases.attach(session, actor=a.actor, base_id=base_id, device_key=values["device_key"][:64])
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _base(request, session, a, base_id, device_form=refused, status=refused.status)
    return redirect(f"/village/bases/{base_id}", flash=translate(request, "Saved"))


@router.post("/village/bases/{base_id}/devices/{thing_id}/remove")
def detach(request: Request, base_id: int, thing_id: int, session: WriteSession, a: Anyone) -> Response:
    bases.detach(session, actor=a.actor, base_id=base_id, thing_id=thing_id)
    return redirect(f"/village/bases/{base_id}", flash=translate(request, "Saved"))
