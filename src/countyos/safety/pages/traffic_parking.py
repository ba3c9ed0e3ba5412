"""Parking lot pages: ``/safety/traffic/parking`` (every lot with its occupancy now),
``/safety/traffic/parking/{id}`` (now, today's hourly curve, the sensor), ``…/new`` and ``…/{id}/edit``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.safety.models.traffic import ParkingKind, ParkingLot
from countyos.safety.pages.traffic_common import Keeper, Reader, county_map, render
from countyos.safety.permissions import TRAFFIC_MANAGE
from countyos.safety.schemas.traffic import CurvePoint, ParkingLotIn
from countyos.safety.service import traffic_parking as svc
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "kind", "lon", "lat", "address", "township", "capacity", "charging", "fee", "hours",
          "device_key", "metric", "public")  # fmt: skip
CW, CH, PAD = 640, 160, 8


@router.get("/safety/traffic/parking")
def lots(request: Request, session: ReadSession, a: Reader) -> Response:
    rows = svc.list_lots(session)
    live = svc.live(session, rows)
    return render(
        request,
        "safety/traffic/parking.html",
        {
            "rows": rows,
            "live": live,
            "names": svc.stream_names(session, rows),
            "can_manage": a.actor.can(TRAFFIC_MANAGE),
            "map": county_map(session, lots=rows, live=live),
            "thresholds": [lv["below_percent"] for lv in svc.config()["levels"] if lv["below_percent"]],
            "stale_minutes": svc.config()["stale_minutes"],
        },
    )


def _curve(points: list[CurvePoint], capacity: int) -> dict[str, Any] | None:
    if not points:
        return None
    n = max(len(points) - 1, 1)
    top = max(capacity, 1)
    xy = [
        (round(PAD + (CW - 2 * PAD) * i / n, 1), round(CH - PAD - (CH - 2 * PAD) * p.occupied / top, 1))
        for i, p in enumerate(points)
    ]
    return {"points": " ".join(f"{x},{y}" for x, y in xy), "dots": list(zip(xy, points, strict=True))}


@router.get("/safety/traffic/parking/{lot_id:int}")
def lot(request: Request, lot_id: int, session: ReadSession, a: Reader) -> Response:
    row = svc.get_lot(session, lot_id)
    now = utcnow()
    live = svc.live(session, [row], now=now)
    points = svc.today_curve(session, row, now=now)
    return render(
        request,
        "safety/traffic/lot.html",
        {
            "r": row,
            "now": live[row.id],
            "points": points,
            "curve": _curve(points, row.capacity),
            "CW": CW,
            "CH": CH,
            "sensor": svc.stream_label(session, row),
            "can_manage": a.actor.can(TRAFFIC_MANAGE),
            "map": county_map(session, lots=[row], live=live),
        },
    )


def _values(lot: ParkingLot, sensor: tuple[str, str] | None) -> dict[str, str]:
    return {
        "name": lot.name,
        "kind": lot.kind.value,
        "lon": f"{lot.lon:.6f}",
        "lat": f"{lot.lat:.6f}",
        "address": lot.address,
        "township": lot.township,
        "capacity": str(lot.capacity),
        "charging": str(lot.charging),
        "fee": lot.fee,
        "hours": lot.hours,
        "device_key": sensor[0] if sensor else "",
        "metric": sensor[1] if sensor else "",
        "public": "on" if lot.public else "",
    }


def _form(request: Request, session: Session, lot: ParkingLot | None, form: Refused | None = None) -> Response:
    blank = (
        Refused(_values(lot, svc.stream_names(session, [lot]).get(lot.datastream_id or 0)), {}, None, 200)
        if lot
        else Refused({"kind": "public", "public": "on", "metric": "occupied"}, {}, None, 200)
    )
    return render(
        request,
        "safety/traffic/lot_form.html",
        {"r": lot, "form": form or blank, "kinds": list(ParkingKind)},
        status=form.status if form else 200,
    )


@router.get("/safety/traffic/parking/new")
def new_lot(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, None)


@router.get("/safety/traffic/parking/{lot_id:int}/edit")
def edit_lot(request: Request, lot_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, svc.get_lot(session, lot_id))


def _save(request: Request, session: Session, a: Auth, form: Any, lot_id: int | None) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        data: dict[str, Any] = dict(values)
        data["public"] = values["public"] == "on"
        body = forms.parse(ParkingLotIn, data)
        if lot_id is None:
            row = svc.create_lot(session, actor=a.actor, data=body)
        else:
            row = svc.update_lot(session, actor=a.actor, lot_id=lot_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        current = svc.get_lot(session, lot_id) if lot_id is not None else None
        return _form(request, session, current, Refused.of(request, exc, values))
    return redirect(f"/safety/traffic/parking/{row.id}", flash=translate(request, "Saved"))


@router.post("/safety/traffic/parking/new")
def create_lot(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


@router.post("/safety/traffic/parking/{lot_id:int}/edit")
def update_lot(request: Request, lot_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    svc.get_lot(session, lot_id)
    return _save(request, session, a, form, lot_id)
