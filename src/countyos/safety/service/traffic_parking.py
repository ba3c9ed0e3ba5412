"""Parking lots (停车场) and their occupancy now, from the sensing datastream attached to each lot.

    occupied = the datastream's latest value (``sensing_latest``), rounded and clipped to 0..capacity
    free     = capacity − occupied
    rate     = 100 × occupied / capacity   (percent, one decimal)
    level    = free below 70 %, tight below 90 %, full from 90 %  (``data/traffic_parking.json``)

A value older than the stale interval (30 min) is not shown as a figure: the lot is ``stale`` (数据中断), never
free. Today's curve is the hourly rollups' mean (sum / n) since the county's local midnight.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_day, county_day_bounds, utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext, use_locale
from countyos.org.service import audit
from countyos.safety.models.traffic import ParkingKind, ParkingLot
from countyos.safety.schemas.traffic import CurvePoint, LiveOut, ParkingLotIn, ParkingLotOut, PublicParkingOut
from countyos.sensing.models import Datastream, Latest, Thing
from countyos.sensing.service import rollups, streams
from countyos.sensing.service.times import from_us, to_us

MAX_LOTS = 2000

PARKING_KIND_NAMES = {
    ParkingKind.PUBLIC: N_("Public car park"),
    ParkingKind.STREET: N_("On-street parking"),
    ParkingKind.SCENIC: N_("Scenic area car park"),
    ParkingKind.HOSPITAL: N_("Hospital car park"),
    ParkingKind.MARKET: N_("Market car park"),
    ParkingKind.OTHER: N_("Other car park"),
}
LEVEL_NAMES = {
    "free": N_("Spaces free"),
    "tight": N_("Nearly full"),
    "full": N_("Full"),
    "stale": N_("No data"),
    "none": N_("No sensor"),
}


@cache
def config() -> dict[str, Any]:
    """The occupancy levels and the stale interval (``data/traffic_parking.json``)."""
    path = Path(__file__).resolve().parent.parent / "data" / "traffic_parking.json"
    out: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return out


def level_of(rate: float) -> str:
    for lv in config()["levels"]:
        if lv["below_percent"] is None or rate < lv["below_percent"]:
            return str(lv["code"])
    return "full"


def colour_of(level: str) -> str:
    for lv in config()["levels"]:
        if lv["code"] == level:
            return str(lv["colour"])
    return str(config()["stale_colour"])


def occupancy(capacity: int, value: float | None, at: datetime | None, *, now: datetime) -> LiveOut:
    """A lot's figures from its sensor's latest VALUE observed AT (pure)."""
    if value is None or at is None:
        return LiveOut(has_sensor=True, occupied=None, free=None, rate=None, level="none", updated_at=at)
    if now - at > timedelta(minutes=config()["stale_minutes"]):
        return LiveOut(has_sensor=True, occupied=None, free=None, rate=None, level="stale", updated_at=at)
    raw = round(value)
    occupied = min(max(raw, 0), capacity)
    rate = round(100.0 * occupied / capacity, 1) if capacity > 0 else 0.0
    return LiveOut(
        has_sensor=True,
        occupied=occupied,
        free=capacity - occupied,
        rate=rate,
        level=level_of(rate),
        clipped=raw != occupied,
        updated_at=at,
    )


NO_SENSOR = LiveOut(has_sensor=False, occupied=None, free=None, rate=None, level="none", updated_at=None)


def live(session: Session, lots: list[ParkingLot], *, now: datetime | None = None) -> dict[int, LiveOut]:
    """Each lot's occupancy now, one read of the latest values."""
    now = now or utcnow()
    ids = [lot.datastream_id for lot in lots if lot.datastream_id is not None]
    latest = {
        ds: (value, from_us(t))
        for ds, value, t in session.execute(
            select(Latest.datastream_id, Latest.result, Latest.phenomenon_us).where(Latest.datastream_id.in_(ids))
        )
    } if ids else {}  # fmt: skip
    out = {}
    for lot in lots:
        if lot.datastream_id is None:
            out[lot.id] = NO_SENSOR
            continue
        value, at = latest.get(lot.datastream_id, (None, None))
        out[lot.id] = occupancy(lot.capacity, value, at, now=now)
    return out


def today_curve(session: Session, lot: ParkingLot, *, now: datetime | None = None) -> list[CurvePoint]:
    """The lot's occupied spaces by hour today (the hourly rollups' mean), clipped to its capacity."""
    if lot.datastream_id is None:
        return []
    now = now or utcnow()
    start, _ = county_day_bounds(county_day(now))
    _, points = rollups.series(
        session, datastream_id=lot.datastream_id, start_us=to_us(start), end_us=to_us(now) + 1, level="hour"
    )
    return [
        CurvePoint(at=from_us(p.bucket_us), occupied=round(min(max(p.avg, 0.0), float(lot.capacity)), 1))
        for p in points
        if p.avg is not None
    ]


# --- register ------------------------------------------------------------------------------------


def get_lot(session: Session, lot_id: int) -> ParkingLot:
    lot = session.get(ParkingLot, lot_id)
    if lot is None:
        raise NotFound(N_("No such parking lot"))
    return lot


def list_lots(session: Session, *, public_only: bool = False, limit: int = MAX_LOTS) -> list[ParkingLot]:
    stmt = select(ParkingLot)
    if public_only:
        stmt = stmt.where(ParkingLot.public.is_(True))
    return list(session.scalars(stmt.order_by(ParkingLot.name, ParkingLot.id).limit(limit)))


def stream_names(session: Session, lots: list[ParkingLot]) -> dict[int, tuple[str, str]]:
    """Datastream id → (device key, metric) of the lots' sensors."""
    ids = [lot.datastream_id for lot in lots if lot.datastream_id is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(Datastream.id, Thing.device_key, Datastream.metric)
        .join(Thing, Thing.id == Datastream.thing_id)
        .where(Datastream.id.in_(ids))
    ).all()
    return {int(i): (k or "", m or "") for i, k, m in rows}


def stream_label(session: Session, lot: ParkingLot) -> str | None:
    """The names of the lot's sensor and its datastream, as people read them."""
    if lot.datastream_id is None:
        return None
    row = session.execute(
        select(Thing.name, Datastream.name)
        .join(Thing, Thing.id == Datastream.thing_id)
        .where(Datastream.id == lot.datastream_id)
    ).first()
    return f"{row[0]} · {row[1]}" if row is not None else None


def _datastream(session: Session, data: ParkingLotIn) -> int | None:
    if not data.device_key or not data.metric:
        return None
    info = streams.by_key(session, data.device_key, data.metric)
    if info is None:
        raise ValidationFailed.on_field("device_key", N_("No sensing datastream has this device and metric"))
    return info.id


_FIELDS = ("name", "kind", "lon", "lat", "address", "township", "capacity", "charging", "fee", "hours", "public")


def create_lot(session: Session, *, actor: Actor, data: ParkingLotIn) -> ParkingLot:
    lot = ParkingLot(**{f: getattr(data, f) for f in _FIELDS}, datastream_id=_datastream(session, data))
    session.add(lot)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.lot_create",
        target_type="safety_parking_lot",
        target_id=lot.id,
        detail={"name": lot.name, "capacity": lot.capacity, "datastream_id": lot.datastream_id},
    )
    return lot


def update_lot(session: Session, *, actor: Actor, lot_id: int, data: ParkingLotIn) -> ParkingLot:
    lot = get_lot(session, lot_id)
    before = {f: getattr(lot, f) for f in (*_FIELDS, "datastream_id")}
    for f in _FIELDS:
        setattr(lot, f, getattr(data, f))
    lot.datastream_id = _datastream(session, data)
    lot.updated_at = utcnow()
    changed = {f: [before[f], getattr(lot, f)] for f in before if before[f] != getattr(lot, f)}
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.lot_update",
        target_type="safety_parking_lot",
        target_id=lot.id,
        detail={"changed": changed},
    )
    return lot


def delete_lot(session: Session, *, actor: Actor, lot_id: int) -> None:
    lot = get_lot(session, lot_id)
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.lot_delete",
        target_type="safety_parking_lot",
        target_id=lot.id,
        detail={"name": lot.name},
    )
    session.delete(lot)
    session.flush()


def out_of(lot: ParkingLot, live_now: LiveOut, names: dict[int, tuple[str, str]]) -> ParkingLotOut:
    key, metric = names.get(lot.datastream_id or 0, (None, None))
    return ParkingLotOut(
        id=lot.id,
        name=lot.name,
        kind=lot.kind,
        lon=lot.lon,
        lat=lot.lat,
        address=lot.address,
        township=lot.township,
        capacity=lot.capacity,
        charging=lot.charging,
        fee=lot.fee,
        hours=lot.hours,
        public=lot.public,
        datastream_id=lot.datastream_id,
        device_key=key,
        metric=metric,
        live=live_now,
    )


def public_lots(session: Session, *, locale: str, now: datetime | None = None) -> list[PublicParkingOut]:
    """The public lots with their free spaces now, for anyone (no id, no sensor, no internal field)."""
    lots = list_lots(session, public_only=True)
    figures = live(session, lots, now=now)
    out = []
    with use_locale(locale):
        for lot in lots:
            f = figures[lot.id]
            out.append(
                PublicParkingOut(
                    name=lot.name,
                    kind=lot.kind,
                    kind_words=gettext(PARKING_KIND_NAMES[lot.kind]),
                    lon=lot.lon,
                    lat=lot.lat,
                    address=lot.address,
                    capacity=lot.capacity,
                    charging=lot.charging,
                    fee=lot.fee,
                    hours=lot.hours,
                    free=f.free,
                    rate=f.rate,
                    level=f.level,
                    level_words=gettext(LEVEL_NAMES[f.level]),
                    updated_at=f.updated_at,
                )
            )
    return out
