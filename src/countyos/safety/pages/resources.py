"""Pages of the emergency resources (``safety.emergency.read`` to see, ``…manage`` to change):

- ``/safety/resources``: every resource on a map, counts, expired and expiring stock.
- ``/safety/resources/{kind}``: the list of one kind (phones masked), the form for a new one and the
  file import (all or nothing, each bad row named); ``/safety/resources/{kind}/{id}``: one record, its
  form, a warehouse's stock lines or a team's members; the unmasked phone for keepers (audited).
- ``/safety/resources/nearest?lon&lat&by``: nearest first from a point, as a list and on the map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.org.models import Department
from countyos.safety.models.resources import TeamKind
from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.resources import ExpertIn, MemberIn, ShelterIn, StockIn, TeamIn, WarehouseIn
from countyos.safety.service import resources
from countyos.safety.service import resources_registry as registry
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

EMERGENCY = N_("Emergency")
router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(EMERGENCY, N_("Emergency resources"), "/safety/resources", EMERGENCY_READ, order=602),
    NavItem(EMERGENCY, N_("Nearest resources"), "/safety/resources/nearest", EMERGENCY_READ, order=603),
]
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Keeper = Annotated[Auth, Depends(require(EMERGENCY_MANAGE))]
Kind = Literal["warehouse", "team", "shelter", "expert"]

# the fields of each kind's form: (name, label, input type)
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "warehouse": [
        ("name", N_("Name"), "text"),
        ("lon", N_("Longitude (WGS-84)"), "number"),
        ("lat", N_("Latitude (WGS-84)"), "number"),
        ("address", N_("Address"), "text"),
        ("keeper_department_id", N_("Keeping department"), "department"),
        ("contact", N_("Contact person"), "text"),
        ("phone", N_("Phone"), "phone"),
    ],
    "team": [
        ("name", N_("Name"), "text"),
        ("kind", N_("Kind of team"), "team_kind"),
        ("lon", N_("Longitude (WGS-84)"), "number"),
        ("lat", N_("Latitude (WGS-84)"), "number"),
        ("leader", N_("Team leader"), "text"),
        ("phone", N_("Phone"), "phone"),
        ("members_count", N_("Members"), "number"),
        ("equipment", N_("Equipment"), "textarea"),
        ("members", N_("Member list (one a line: name, role, phone)"), "textarea"),
    ],
    "shelter": [
        ("name", N_("Name"), "text"),
        ("lon", N_("Longitude (WGS-84)"), "number"),
        ("lat", N_("Latitude (WGS-84)"), "number"),
        ("address", N_("Address"), "text"),
        ("capacity", N_("Capacity (persons)"), "number"),
        ("area_m2", N_("Area (m²)"), "number"),
        ("facilities", N_("Facilities"), "textarea"),
        ("township", N_("Township"), "text"),
    ],
    "expert": [
        ("name", N_("Name"), "text"),
        ("field", N_("Field of expertise"), "text"),
        ("unit", N_("Work unit"), "text"),
        ("phone", N_("Phone"), "phone"),
        ("lon", N_("Longitude (WGS-84)"), "number"),
        ("lat", N_("Latitude (WGS-84)"), "number"),
    ],
}
MODELS: dict[str, type[BaseModel]] = {
    "warehouse": WarehouseIn,
    "team": TeamIn,
    "shelter": ShelterIn,
    "expert": ExpertIn,
}
GETTERS: dict[str, Callable[[Session, int], Any]] = {
    "warehouse": lambda s, i: registry.get_warehouse(s, warehouse_id=i),
    "team": lambda s, i: registry.get_team(s, team_id=i),
    "shelter": lambda s, i: registry.get_shelter(s, shelter_id=i),
    "expert": lambda s, i: registry.get_expert(s, expert_id=i),
}
LISTS: dict[str, Callable[[Session], Sequence[Any]]] = {
    "warehouse": registry.list_warehouses,
    "team": registry.list_teams,
    "shelter": registry.list_shelters,
    "expert": registry.list_experts,
}
STOCK_FIELDS = ("material", "quantity", "expires_on", "note")
EXPIRY_NAMES = {"expired": N_("Expired"), "expiring": N_("Expires within 30 days")}


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "kind_names": registry.KIND_NAMES,
            "team_kind_names": registry.TEAM_KIND_NAMES,
            "team_kinds": list(TeamKind),
            "materials": registry.materials(),
            "masked": registry.masked,
            "expiry_state": registry.expiry_state,
            "expiry_names": EXPIRY_NAMES,
            **context,
        },
        status_code=status,
    )


def _point(kind: str, row: Any, note: str = "") -> dict[str, Any]:
    return {
        "kind": kind,
        "name": row.name,
        "lon": row.lon,
        "lat": row.lat,
        "url": f"/safety/resources/{kind}/{row.id}",
        "note": note,
    }


@router.get("/safety/resources")
def overview(request: Request, session: ReadSession, a: Reader) -> Response:
    lists = {k: f(session) for k, f in LISTS.items()}
    points = [_point(k, r) for k, rows in lists.items() for r in rows if r.lon is not None and r.lat is not None]
    summary = registry.stock_summary(session)
    return _render(
        request,
        "safety/resources/overview.html",
        {
            "lists": lists,
            "points": points,
            "summary": summary,
            "expired": sum(x["expired"] for x in summary.values()),
            "expiring": sum(x["expiring"] for x in summary.values()),
            "capacity": sum(s.capacity for s in lists["shelter"]),
        },
    )


@router.get("/safety/resources/nearest")
def nearest_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    by: Literal["straight", "road"] = "straight",
    kind: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    rows: list[resources.NearestResource] = []
    if lon is not None and lat is not None:
        kinds = [kind] if kind in resources.KINDS else None
        rows = resources.nearest(session, lon=lon, lat=lat, kinds=kinds, limit=30, by=by)
    points = [
        {
            "kind": r.kind,
            "name": r.name,
            "lon": r.lon,
            "lat": r.lat,
            "url": f"/safety/resources/{r.kind}/{r.id}",
            "note": translate(request, "%(km)s km", km=f"{r.distance_m / 1000:.1f}"),
        }
        for r in rows
    ]
    return _render(
        request,
        "safety/resources/nearest.html",
        {
            "rows": rows,
            "points": points,
            "lon": lon,
            "lat": lat,
            "by": by,
            "kind": kind,
            "kinds": resources.KINDS,
        },
    )


def _departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))


def _list_page(request: Request, session: Session, kind: str, form: Refused, upload: Refused | None = None) -> Response:
    rows = LISTS[kind](session)
    status = upload.status if upload is not None else form.status
    return _render(
        request,
        "safety/resources/list.html",
        {
            "kind": kind,
            "rows": rows,
            "fields": FIELDS[kind],
            "form": form,
            "upload": upload or Refused.empty(),
            "departments": _departments(session),
            "dept_names": {d.id: d.name for d in _departments(session)},
            "summary": registry.stock_summary(session) if kind == "warehouse" else {},
            "headers": list(registry.HEADERS[kind]),
            "record": None,
        },
        status=status,
    )


@router.get("/safety/resources/{kind}")
def kind_list(kind: Kind, request: Request, session: ReadSession, a: Reader) -> Response:
    return _list_page(request, session, kind, Refused.empty())


def _members(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines()[:500]:
        parts = [p.strip() for p in line.replace("，", ",").replace("\t", ",").split(",")]
        if len(parts) == 1:
            parts = line.split()
        if parts and parts[0]:
            out.append(
                {
                    "name": parts[0],
                    "role": parts[1] if len(parts) > 1 else "",
                    "phone": parts[2] if len(parts) > 2 else "",
                }
            )
    return out


def _save(request: Request, session: Session, a: Auth, kind: str, form: PostedForm, record_id: int | None) -> Any:
    names = [f[0] for f in FIELDS[kind]]
    values: dict[str, Any] = forms.typed(form, names)
    data: dict[str, Any] = {k: v for k, v in values.items() if k != "members"}
    if kind == "team":
        data["members"] = [MemberIn.model_validate(m).model_dump() for m in _members(values.get("members", ""))]
    item = forms.parse(MODELS[kind], data)
    with i18n.use_locale(request.state.locale):
        if kind == "warehouse":
            return registry.save_warehouse(session, actor=a.actor, data=item, warehouse_id=record_id)  # type: ignore[arg-type]
        if kind == "team":
            return registry.save_team(session, actor=a.actor, data=item, team_id=record_id)  # type: ignore[arg-type]
        if kind == "shelter":
            return registry.save_shelter(session, actor=a.actor, data=item, shelter_id=record_id)  # type: ignore[arg-type]
        return registry.save_expert(session, actor=a.actor, data=item, expert_id=record_id)  # type: ignore[arg-type]


@router.post("/safety/resources/{kind}")
def kind_create(kind: Kind, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    try:
        row = _save(request, session, a, kind, form, None)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _list_page(
            request, session, kind, Refused.of(request, exc, forms.typed(form, [f[0] for f in FIELDS[kind]]))
        )
    return redirect(f"/safety/resources/{kind}/{row.id}", translate(request, "Saved"))


@router.post("/safety/resources/{kind}/import")
def kind_import(kind: Kind, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    file = form.get("file")
    try:
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise CountyError(N_("Choose a file"))
        data = forms.read_upload(cast(UploadFile, file), registry.MAX_IMPORT_BYTES)
        with i18n.use_locale(request.state.locale):
            n = registry.import_file(session, actor=a.actor, kind=kind, data=data, filename=file.filename)
    except CountyError as exc:
        session.rollback()
        with i18n.use_locale(request.state.locale):
            rows = [
                f"{translate(request, 'Row %(n)s', n=e.get('row'))} {e.get('field') or ''}: {e.get('message')}"
                for e in getattr(exc, "errors", [])[:50]
                if e.get("row")
            ]
            message = exc.message
        upload = Refused({}, {"file": "；".join(rows) or message}, message, exc.status)
        return _list_page(request, session, kind, Refused.empty(), upload)
    return redirect(f"/safety/resources/{kind}", translate(request, "%(n)s rows imported", n=n))


def _record_page(
    request: Request,
    session: Session,
    kind: str,
    record_id: int,
    form: Refused | None = None,
    stock: Refused | None = None,
    phone: str | None = None,
) -> Response:
    row = GETTERS[kind](session, record_id)
    if form is None:
        values = {
            f[0]: "" if getattr(row, f[0], None) is None else str(getattr(row, f[0], ""))
            for f in FIELDS[kind]
            if f[0] not in ("phone", "members")
        }
        if kind == "team":
            values["members"] = "\n".join(f"{m.name},{m.role}" for m in registry.members_of(session, team_id=row.id))
        form = Refused(values, {}, None, 200)
    return _render(
        request,
        "safety/resources/record.html",
        {
            "kind": kind,
            "record": row,
            "fields": FIELDS[kind],
            "form": form,
            "stock_form": stock or Refused.empty(),
            "stock": registry.stock_of(session, warehouse_id=row.id) if kind == "warehouse" else [],
            "members": registry.members_of(session, team_id=row.id) if kind == "team" else [],
            "departments": _departments(session),
            "dept_names": {d.id: d.name for d in _departments(session)},
            "phone": phone,
            "points": [_point(kind, row)] if getattr(row, "lon", None) is not None else [],
        },
        status=(stock.status if stock else form.status),
    )


@router.get("/safety/resources/{kind}/{record_id}")
def record_page(kind: Kind, record_id: int, request: Request, session: ReadSession, a: Reader) -> Response:
    return _record_page(request, session, kind, record_id)


@router.post("/safety/resources/{kind}/{record_id}")
def record_save(
    kind: Kind, record_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm
) -> Response:
    try:
        _save(request, session, a, kind, form, record_id)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        values = forms.typed(form, [f[0] for f in FIELDS[kind]])
        return _record_page(request, session, kind, record_id, Refused.of(request, exc, values))
    return redirect(f"/safety/resources/{kind}/{record_id}", translate(request, "Saved"))


@router.post("/safety/resources/warehouse/{record_id}/stock")
def stock_add(record_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, STOCK_FIELDS)
    try:
        data = forms.parse(StockIn, values)
        with i18n.use_locale(request.state.locale):
            registry.add_stock(session, actor=a.actor, warehouse_id=record_id, data=data)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        return _record_page(
            request, session, "warehouse", record_id, stock=Refused.of(request, exc, values, which="stock")
        )
    return redirect(f"/safety/resources/warehouse/{record_id}", translate(request, "Saved"))


@router.post("/safety/resources/warehouse/{record_id}/stock/{line_id}/remove")
def stock_remove(record_id: int, line_id: int, request: Request, session: WriteSession, a: Keeper) -> Response:
    registry.remove_stock(session, actor=a.actor, line_id=line_id)
    return redirect(f"/safety/resources/warehouse/{record_id}", translate(request, "Removed"))


@router.post("/safety/resources/{kind}/{record_id}/phone")
def record_phone(kind: Kind, record_id: int, request: Request, session: WriteSession, a: Keeper) -> Response:
    if kind == "shelter":
        raise NotFound(N_("There is no such record"))
    phone = registry.reveal_phone(session, actor=a.actor, kind=kind, record_id=record_id)
    return _record_page(request, session, kind, record_id, phone=phone or "—")
