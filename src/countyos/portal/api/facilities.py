"""JSON API of the public service directory, mounted under /api/v1 (paths /portal/facilities…).

Public reads: active facilities by kind and name, nearest first from ``lon``/``lat`` (used for the
order and kept nowhere), a bounded ``limit``; one facility by its token with its live figure. The
department's writes need ``portal.facility.manage``: its own list (closed ones too), add, replace,
close, reopen, import a CSV/XLSX file, sync from a published data resource. Errors are problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile
from sqlalchemy.orm import Session

from countyos.core.i18n import gettext
from countyos.core.paging import Paged, PageParams
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import (
    FacilityIn,
    FacilityManagedOut,
    FacilityOut,
    FacilitySyncIn,
    ImportReportOut,
    ImportRowOut,
    LiveOut,
)
from countyos.portal.service import facilities as svc
from countyos.portal.service import facility_import
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/portal", tags=["portal"])
Keeper = Annotated[Auth, Depends(require(svc.MANAGE))]
MAX_LIMIT = 50


def facility_out(session: Session, f: Facility, *, distance: float | None = None, live: bool = False) -> FacilityOut:
    figure = svc.live_figure(session, facility=f) if live else None
    return FacilityOut(
        token=f.token,
        kind=f.kind,
        kind_label=gettext(svc.KIND_NAMES[f.kind]),
        name=f.name,
        address=f.address,
        division_code=f.division_code,
        lon=f.lon,
        lat=f.lat,
        phone=f.phone,
        hours=f.hours,
        services=f.services,
        department=svc.department_names(session, [f.department_id]).get(f.department_id or 0),
        updated_at=f.updated_at,
        url=f"/portal/facilities/{f.token}",
        distance_m=round(distance, 1) if distance is not None else None,
        live=LiveOut(label=figure.label, value=figure.value, unit=figure.unit, at=figure.at, current=figure.current)
        if figure is not None
        else None,
    )


def managed_out(f: Facility) -> FacilityManagedOut:
    return FacilityManagedOut(
        id=f.id,
        token=f.token,
        kind=f.kind,
        name=f.name,
        active=f.active,
        division_code=f.division_code,
        source=f.source,
        source_key=f.source_key,
        updated_at=f.updated_at,
    )


def report_out(r: facility_import.Report) -> ImportReportOut:
    return ImportReportOut(
        added=r.added,
        updated=r.updated,
        closed=r.closed,
        rows=[ImportRowOut(row=n, name=name, result=result) for n, name, result in r.rows],
    )


@router.get("/facilities", dependencies=[Depends(public)])
def list_facilities(
    session: ReadSession,
    kind: FacilityKind | None = None,
    q: Annotated[str, Query(max_length=60)] = "",
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[FacilityOut]:
    """Active facilities: of ``kind``, whose name (or its pinyin initials) matches ``q``; nearest first
    with ``distance_m`` when ``lon`` and ``lat`` are given (WGS-84), else by kind and name."""
    near = svc.valid_position(lon, lat)
    hits, total = svc.search(session, kind=kind, q=q, near=near, page=PageParams(limit=limit, offset=offset))
    return Paged(
        items=[facility_out(session, h.facility, distance=h.distance_m) for h in hits],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/facilities/mine")
def my_facilities(
    session: ReadSession,
    a: Keeper,
    active: bool | None = None,
    q: Annotated[str, Query(max_length=60)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[FacilityManagedOut]:
    """The caller's department's facilities, closed ones too unless ``active`` says."""
    rows, total = svc.of_department(
        session, actor=a.actor, active=active, q=q, page=PageParams(limit=limit, offset=offset)
    )
    return Paged(items=[managed_out(f) for f in rows], total=total, limit=limit, offset=offset)


@router.get("/facilities/{token}", dependencies=[Depends(public)])
def get_facility(token: str, session: ReadSession) -> FacilityOut:
    return facility_out(session, svc.get_public(session, token=token), live=True)


@router.post("/facilities", status_code=201)
def create_facility(body: FacilityIn, session: WriteSession, a: Keeper) -> FacilityManagedOut:
    return managed_out(svc.create(session, actor=a.actor, data=body))


def _mine(session: Session, a: Auth, token: str) -> Facility:
    return svc.for_keeper(a.actor, svc.get_by_token(session, token=token))


@router.put("/facilities/{token}")
def replace_facility(token: str, body: FacilityIn, session: WriteSession, a: Keeper) -> FacilityManagedOut:
    f = _mine(session, a, token)
    return managed_out(svc.update(session, actor=a.actor, facility_id=f.id, data=body))


@router.post("/facilities/{token}/close")
def close_facility(token: str, session: WriteSession, a: Keeper) -> FacilityManagedOut:
    f = _mine(session, a, token)
    return managed_out(svc.act(session, actor=a.actor, facility_id=f.id, action=svc.Action.CLOSE))


@router.post("/facilities/{token}/reopen")
def reopen_facility(token: str, session: WriteSession, a: Keeper) -> FacilityManagedOut:
    f = _mine(session, a, token)
    return managed_out(svc.act(session, actor=a.actor, facility_id=f.id, action=svc.Action.REOPEN))


@router.post("/facilities/import")
def import_facilities(file: UploadFile, session: WriteSession, a: Keeper) -> ImportReportOut:
    """A CSV or XLSX file (名称, 类型, 地址, 经度, 纬度, 电话, 开放时间, 服务内容, 所属乡镇), all or nothing:
    a bad row answers 422 with every problem's row and column."""
    data = forms.read_upload(file, facility_import.MAX_FILE_BYTES)
    return report_out(facility_import.import_file(session, actor=a.actor, data=data, filename=file.filename or ""))


@router.post("/facilities/sync")
def sync_facilities(body: FacilitySyncIn, session: WriteSession, a: Keeper) -> ImportReportOut:
    """The rows of a published resource of the department through a column mapping (see FacilitySyncIn)."""
    return report_out(facility_import.sync_resource(session, actor=a.actor, data=body))
