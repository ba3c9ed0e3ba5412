"""API of the traffic (路段, 停车场, 道路事件) part of the safety domain, under /api/v1/safety/traffic.

- public: ``GET /notices`` (road incidents in force), ``GET /parking`` (public lots with free spaces now).
- ``safety.traffic.read``: ``GET /roads`` (search, class, paging), ``GET /roads/geojson`` (bbox, bounded count),
  ``GET /roads/{id}``, ``GET /lots``, ``GET /lots/{id}``, ``GET /lots/{id}/live``, ``GET /incidents``,
  ``GET /incidents/{id}``.
- ``safety.traffic.manage``: ``POST /roads/import`` (file, mode replace|append), ``POST/PUT/DELETE /lots``,
  ``POST /incidents``, ``PUT /incidents/{id}``, ``POST /incidents/{id}/publish``, ``POST /incidents/{id}/end``,
  ``DELETE /incidents/{id}`` (drafts only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from starlette.responses import Response

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.safety.models.traffic import IncidentState, RoadClass
from countyos.safety.permissions import TRAFFIC_MANAGE, TRAFFIC_READ
from countyos.safety.schemas.traffic import (
    CurvePoint,
    IncidentIn,
    IncidentOut,
    LiveOut,
    ParkingLotIn,
    ParkingLotOut,
    PublicNoticeOut,
    PublicParkingOut,
    RoadImportOut,
    RoadOut,
)
from countyos.safety.service import traffic, traffic_incidents, traffic_parking
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import read_upload

router = APIRouter(prefix="/traffic")
Reader = Annotated[Auth, Depends(require(TRAFFIC_READ))]
Keeper = Annotated[Auth, Depends(require(TRAFFIC_MANAGE))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- public --------------------------------------------------------------------------------------


@router.get("/notices", dependencies=[Depends(public)])
def notices(session: ReadSession) -> list[PublicNoticeOut]:
    return traffic_incidents.public_notices(session, locale=get_settings().default_locale)


@router.get("/parking", dependencies=[Depends(public)])
def parking(session: ReadSession) -> list[PublicParkingOut]:
    return traffic_parking.public_lots(session, locale=get_settings().default_locale)


# --- roads ---------------------------------------------------------------------------------------


@router.post("/roads/import", status_code=201)
def import_roads(
    session: WriteSession,
    a: Keeper,
    file: Annotated[UploadFile, File()],
    mode: Annotated[Literal["replace", "append"], Form()] = "append",
) -> RoadImportOut:
    data = read_upload(file, traffic.MAX_FILE_BYTES)
    return traffic.import_roads(session, actor=a.actor, data=data, mode=mode)


@router.get("/roads")
def roads(
    session: ReadSession,
    a: Reader,
    q: Annotated[str | None, Query(max_length=60)] = None,
    road_class: Annotated[RoadClass | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows, total = traffic.list_roads(session, q=q, road_class=road_class, offset=offset, limit=limit)
    return {"total": total, "items": [RoadOut.model_validate(r).model_dump(mode="json") for r in rows]}


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise ValidationFailed.on_field("bbox", N_("The box must be min lon, min lat, max lon, max lat")) from exc
    return x0, y0, x1, y1


@router.get("/roads/geojson")
def roads_geojson(
    session: ReadSession,
    a: Reader,
    bbox: Annotated[str | None, Query(max_length=120, description="min lon,min lat,max lon,max lat")] = None,
    road_class: Annotated[RoadClass | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=traffic.MAX_GEOJSON)] = 1000,
) -> dict[str, Any]:
    return traffic.geojson(session, bbox=_bbox(bbox), road_class=road_class, limit=limit)


@router.get("/roads/{road_id}")
def road(session: ReadSession, a: Reader, road_id: Id) -> RoadOut:
    return RoadOut.model_validate(traffic.get_road(session, road_id))


# --- parking lots --------------------------------------------------------------------------------


def _lot_out(session: ReadSession, lot_id: int) -> ParkingLotOut:
    lot = traffic_parking.get_lot(session, lot_id)
    return traffic_parking.out_of(
        lot, traffic_parking.live(session, [lot])[lot.id], traffic_parking.stream_names(session, [lot])
    )


@router.get("/lots")
def lots(session: ReadSession, a: Reader) -> list[ParkingLotOut]:
    rows = traffic_parking.list_lots(session)
    figures = traffic_parking.live(session, rows)
    names = traffic_parking.stream_names(session, rows)
    return [traffic_parking.out_of(lot, figures[lot.id], names) for lot in rows]


@router.post("/lots", status_code=201)
def create_lot(session: WriteSession, a: Keeper, data: ParkingLotIn) -> ParkingLotOut:
    lot = traffic_parking.create_lot(session, actor=a.actor, data=data)
    return _lot_out(session, lot.id)


@router.get("/lots/{lot_id}")
def lot(session: ReadSession, a: Reader, lot_id: Id) -> ParkingLotOut:
    return _lot_out(session, lot_id)


@router.put("/lots/{lot_id}")
def update_lot(session: WriteSession, a: Keeper, lot_id: Id, data: ParkingLotIn) -> ParkingLotOut:
    traffic_parking.update_lot(session, actor=a.actor, lot_id=lot_id, data=data)
    return _lot_out(session, lot_id)


@router.delete("/lots/{lot_id}", status_code=204)
def delete_lot(session: WriteSession, a: Keeper, lot_id: Id) -> Response:
    traffic_parking.delete_lot(session, actor=a.actor, lot_id=lot_id)
    return Response(status_code=204)


@router.get("/lots/{lot_id}/live")
def lot_live(session: ReadSession, a: Reader, lot_id: Id) -> dict[str, Any]:
    lot = traffic_parking.get_lot(session, lot_id)
    now: LiveOut = traffic_parking.live(session, [lot])[lot.id]
    curve: list[CurvePoint] = traffic_parking.today_curve(session, lot)
    return {"live": now.model_dump(mode="json"), "today": [p.model_dump(mode="json") for p in curve]}


# --- road incidents ------------------------------------------------------------------------------


@router.get("/incidents")
def incidents(
    session: ReadSession, a: Reader, state: Annotated[IncidentState | None, Query()] = None
) -> list[IncidentOut]:
    return [IncidentOut.model_validate(i) for i in traffic_incidents.list_incidents(session, state=state)]


@router.post("/incidents", status_code=201)
def create_incident(session: WriteSession, a: Keeper, data: IncidentIn) -> IncidentOut:
    return IncidentOut.model_validate(traffic_incidents.create_incident(session, actor=a.actor, data=data))


@router.get("/incidents/{incident_id}")
def incident(session: ReadSession, a: Reader, incident_id: Id) -> IncidentOut:
    return IncidentOut.model_validate(traffic_incidents.get_incident(session, incident_id))


@router.put("/incidents/{incident_id}")
def update_incident(session: WriteSession, a: Keeper, incident_id: Id, data: IncidentIn) -> IncidentOut:
    return IncidentOut.model_validate(
        traffic_incidents.update_incident(session, actor=a.actor, incident_id=incident_id, data=data)
    )


@router.post("/incidents/{incident_id}/publish")
def publish_incident(session: WriteSession, a: Keeper, incident_id: Id) -> IncidentOut:
    return IncidentOut.model_validate(traffic_incidents.publish(session, actor=a.actor, incident_id=incident_id))


@router.post("/incidents/{incident_id}/end")
def end_incident(session: WriteSession, a: Keeper, incident_id: Id) -> IncidentOut:
    return IncidentOut.model_validate(traffic_incidents.end(session, actor=a.actor, incident_id=incident_id))


@router.delete("/incidents/{incident_id}", status_code=204)
def discard_incident(session: WriteSession, a: Keeper, incident_id: Id) -> Response:
    traffic_incidents.discard(session, actor=a.actor, incident_id=incident_id)
    return Response(status_code=204)
