"""Air monitoring stations (空气质量监测站): each a sensing device of class ``air_station`` and the
datastream of each pollutant, found by the datastreams' metric names (so2, no2, co, o3, pm10, pm25)
unless the 生态环境局 names them. The indices are computed in ``air_compute``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.air import AirStation, StationKind
from countyos.eco.schemas.air import StationIn
from countyos.eco.service.aqi import POLLUTANTS
from countyos.geo import service as geo
from countyos.org.service import audit
from countyos.sensing.models import Datastream, Thing

DEVICE_CLASS = "air_station"
KIND_NAMES = {
    StationKind.NATIONAL: N_("National control station"),
    StationKind.PROVINCIAL: N_("Provincial control station"),
    StationKind.COUNTY: N_("County control station"),
    StationKind.MICRO: N_("Micro station"),
}
POLLUTANT_NAMES = {
    "so2": "SO₂",
    "no2": "NO₂",
    "co": "CO",
    "o3": "O₃",
    "pm10": "PM₁₀",
    "pm25": "PM₂.₅",
    "o3_1h": "O₃-1h",
    "o3_8h": "O₃-8h",
}
UNITS = {"co": "mg/m³"}  # the others µg/m³


def unit_of(key: str) -> str:
    return UNITS.get(key, "µg/m³")


def list_stations(session: Session, *, active_only: bool = False) -> list[AirStation]:
    stmt = select(AirStation).order_by(AirStation.code)
    if active_only:
        stmt = stmt.where(AirStation.active.is_(True))
    return list(session.scalars(stmt))


def get(session: Session, *, station_id: int) -> AirStation:
    station = session.get(AirStation, station_id)
    if station is None:
        raise NotFound(N_("Air station %(id)s does not exist"), id=station_id)
    return station


def thing_of(session: Session, station: AirStation) -> Thing:
    thing = session.get(Thing, station.thing_id)
    assert thing is not None  # the foreign key cascades
    return thing


def detect_streams(session: Session, *, thing_id: int) -> dict[str, int]:
    """The device's datastream of each pollutant, by metric name."""
    rows = session.execute(
        select(Datastream.metric, Datastream.id).where(Datastream.thing_id == thing_id).order_by(Datastream.id)
    ).all()
    out: dict[str, int] = {}
    for metric, ds_id in rows:
        if metric in POLLUTANTS and metric not in out:
            out[metric] = ds_id
    return out


def air_devices(session: Session) -> list[Thing]:
    """Devices of class ``air_station``, for the editor's choice."""
    return list(session.scalars(select(Thing).where(Thing.device_class == DEVICE_CLASS).order_by(Thing.name)))


def _checked(session: Session, data: StationIn, *, station_id: int | None) -> dict[str, int]:
    errors: list[dict[str, Any]] = []
    thing = session.get(Thing, data.thing_id)
    if thing is None or thing.device_class != DEVICE_CLASS:
        errors.append({"field": "thing_id", "message": N_("Choose a device of class air station")})
    same_code = session.scalar(select(AirStation.id).where(AirStation.code == data.code))
    if same_code is not None and same_code != station_id:
        errors.append({"field": "code", "message": N_("Another station has this code")})
    same_thing = session.scalar(select(AirStation.id).where(AirStation.thing_id == data.thing_id))
    if same_thing is not None and same_thing != station_id:
        errors.append({"field": "thing_id", "message": N_("This device is another station already")})
    streams: dict[str, int] = {}
    if thing is not None and not errors:
        if data.streams is None:
            streams = detect_streams(session, thing_id=thing.id)
        else:
            own = set(session.scalars(select(Datastream.id).where(Datastream.thing_id == thing.id)))
            if any(ds not in own for ds in data.streams.values()):
                errors.append({"field": "streams", "message": N_("Each datastream must be one of the device's")})
            streams = {str(k): v for k, v in data.streams.items()}
    if errors:
        raise ValidationFailed(N_("The station cannot be saved"), errors=errors)
    return streams


def _division_of(session: Session, thing: Thing | None) -> str | None:
    if thing is None or thing.lon is None or thing.lat is None:
        return None
    try:
        place = geo.locate(session, lon=thing.lon, lat=thing.lat)
    except CountyError:
        return None
    return place.village_code or place.township_code


def create(session: Session, *, actor: Actor, data: StationIn) -> AirStation:
    streams = _checked(session, data, station_id=None)
    station = AirStation(
        code=data.code,
        name=data.name,
        thing_id=data.thing_id,
        kind=data.kind,
        division_code=data.division_code or _division_of(session, session.get(Thing, data.thing_id)),
        place=data.place,
        streams=streams,
        active=data.active,
    )
    session.add(station)
    session.flush()
    audit.record(
        session, actor=actor, action="eco.air.station.create", target_type="eco_air_station", target_id=station.id,
        detail={"code": station.code, "thing": station.thing_id, "streams": streams},
    )  # fmt: skip
    return station


def update(session: Session, *, actor: Actor, station_id: int, data: StationIn) -> AirStation:
    station = get(session, station_id=station_id)
    streams = _checked(session, data, station_id=station_id)
    before = {"code": station.code, "thing": station.thing_id, "streams": station.streams, "active": station.active}
    if data.thing_id != station.thing_id:
        station.checked_until = None  # another device: its hours are weighed afresh
    station.code, station.name, station.thing_id, station.kind = data.code, data.name, data.thing_id, data.kind
    station.division_code = data.division_code or station.division_code
    station.place, station.streams, station.active = data.place, streams, data.active
    session.flush()
    audit.record(
        session, actor=actor, action="eco.air.station.update", target_type="eco_air_station", target_id=station.id,
        detail={"before": before, "after": {"code": station.code, "thing": station.thing_id,
                                            "streams": streams, "active": station.active}},
    )  # fmt: skip
    return station
