"""API of the emergency resources, under /api/v1/safety/resources:

- ``GET /resources/nearest?lon&lat&kinds&limit&by``: nearest first (straight line or along the roads).
- ``GET /resources/{kind}`` (warehouses, teams, shelters, experts; phones masked),
  ``POST /resources/{kind}``, ``PUT /resources/{kind}/{id}``; ``POST /resources/warehouse/{id}/stock``;
  ``POST /resources/{kind}/import`` (CSV/XLSX, all or nothing); ``GET /resources/{kind}/{id}/phone``
  (unmasked, keepers only, audited).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from sqlalchemy.orm import Session

from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.resources import ExpertIn, NearestOut, ShelterIn, StockIn, TeamIn, WarehouseIn
from countyos.safety.service import resources
from countyos.safety.service import resources_registry as registry
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter(prefix="/resources")
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Keeper = Annotated[Auth, Depends(require(EMERGENCY_MANAGE))]
Kind = Literal["warehouse", "team", "shelter", "expert"]


@router.get("/nearest")
def nearest(
    session: ReadSession,
    a: Reader,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    kinds: Annotated[list[Kind] | None, Query(max_length=4)] = None,
    limit: Annotated[int, Query(ge=1, le=resources.MAX_LIMIT)] = 10,
    by: Literal["straight", "road"] = "straight",
) -> list[NearestOut]:
    rows = resources.nearest(session, lon=lon, lat=lat, kinds=list(kinds) if kinds else None, limit=limit, by=by)
    return [NearestOut.model_validate(r, from_attributes=True) for r in rows]


def record_of(session: Any, kind: str, row: Any) -> dict[str, Any]:
    """One record as the API shows it: phones masked."""
    if kind == "warehouse":
        lines = registry.stock_of(session, warehouse_id=row.id)
        return {
            "id": row.id,
            "name": row.name,
            "lon": row.lon,
            "lat": row.lat,
            "address": row.address,
            "keeper_department_id": row.keeper_department_id,
            "contact": row.contact,
            "phone": registry.masked(row.phone_enc),
            "stock": [
                {
                    "id": s.id,
                    "material": s.material,
                    "quantity": s.quantity,
                    "expires_on": s.expires_on.isoformat() if s.expires_on else None,
                    "expiry": registry.expiry_state(s),
                }
                for s in lines
            ],
        }
    if kind == "team":
        members = registry.members_of(session, team_id=row.id)
        return {
            "id": row.id,
            "name": row.name,
            "kind": str(row.kind),
            "lon": row.lon,
            "lat": row.lat,
            "leader": row.leader,
            "phone": registry.masked(row.phone_enc),
            "members_count": row.members_count,
            "equipment": row.equipment,
            "members": [
                {"id": m.id, "name": m.name, "role": m.role, "phone": registry.masked(m.phone_enc)} for m in members
            ],
        }
    if kind == "shelter":
        return {
            "id": row.id,
            "name": row.name,
            "lon": row.lon,
            "lat": row.lat,
            "address": row.address,
            "capacity": row.capacity,
            "area_m2": row.area_m2,
            "facilities": row.facilities,
            "township": row.township,
        }
    return {
        "id": row.id,
        "name": row.name,
        "field": row.field,
        "unit": row.unit,
        "phone": registry.masked(row.phone_enc),
        "lon": row.lon,
        "lat": row.lat,
    }


LISTS: dict[str, Callable[[Session], Sequence[Any]]] = {
    "warehouse": registry.list_warehouses,
    "team": registry.list_teams,
    "shelter": registry.list_shelters,
    "expert": registry.list_experts,
}


@router.get("/materials")
def list_materials(a: Reader) -> list[dict[str, str]]:
    return [
        {"code": m.code, "name": m.name, "unit": m.unit, "category": m.category} for m in registry.materials().values()
    ]


@router.get("/{kind}")
def list_kind(kind: Kind, session: ReadSession, a: Reader) -> list[dict[str, Any]]:
    return [record_of(session, kind, r) for r in LISTS[kind](session)]


@router.post("/warehouse", status_code=201)
def create_warehouse(body: WarehouseIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    return record_of(session, "warehouse", registry.save_warehouse(session, actor=a.actor, data=body))


@router.put("/warehouse/{record_id}")
def update_warehouse(record_id: int, body: WarehouseIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    w = registry.save_warehouse(session, actor=a.actor, data=body, warehouse_id=record_id)
    return record_of(session, "warehouse", w)


@router.post("/warehouse/{record_id}/stock", status_code=201)
def add_stock(record_id: int, body: StockIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    registry.add_stock(session, actor=a.actor, warehouse_id=record_id, data=body)
    return record_of(session, "warehouse", registry.get_warehouse(session, warehouse_id=record_id))


@router.post("/team", status_code=201)
def create_team(body: TeamIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    return record_of(session, "team", registry.save_team(session, actor=a.actor, data=body))


@router.put("/team/{record_id}")
def update_team(record_id: int, body: TeamIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    return record_of(session, "team", registry.save_team(session, actor=a.actor, data=body, team_id=record_id))


@router.post("/shelter", status_code=201)
def create_shelter(body: ShelterIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    return record_of(session, "shelter", registry.save_shelter(session, actor=a.actor, data=body))


@router.put("/shelter/{record_id}")
def update_shelter(record_id: int, body: ShelterIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    s = registry.save_shelter(session, actor=a.actor, data=body, shelter_id=record_id)
    return record_of(session, "shelter", s)


@router.post("/expert", status_code=201)
def create_expert(body: ExpertIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    return record_of(session, "expert", registry.save_expert(session, actor=a.actor, data=body))


@router.put("/expert/{record_id}")
def update_expert(record_id: int, body: ExpertIn, session: WriteSession, a: Keeper) -> dict[str, Any]:
    e = registry.save_expert(session, actor=a.actor, data=body, expert_id=record_id)
    return record_of(session, "expert", e)


@router.post("/{kind}/import")
def import_kind(kind: Kind, file: UploadFile, session: WriteSession, a: Keeper) -> dict[str, int]:
    data = forms.read_upload(file, registry.MAX_IMPORT_BYTES)
    n = registry.import_file(session, actor=a.actor, kind=kind, data=data, filename=file.filename or "")
    return {"imported": n}


@router.get("/{kind}/{record_id}/phone")
def reveal_phone(
    kind: Literal["warehouse", "team", "member", "expert"], record_id: int, session: WriteSession, a: Keeper
) -> dict[str, str]:
    return {"phone": registry.reveal_phone(session, actor=a.actor, kind=kind, record_id=record_id)}
