"""Scenic spots (景区): the register, their counters and who may act for them.

A spot's manager (``village.tourism.report`` and ``Spot.manager_id``) sees and reports for their own spot;
the 文旅局 (``village.tourism.manage``) keeps the register; ``village.tourism.read`` sees everything. The
live figures are in ``tourism_flow``, crowding in ``tourism_crowding``, 民宿 in ``tourism_stays``, the
calendar and culture in ``tourism_culture``, holiday reports in ``tourism_holidays``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.sensing.models import Datastream, Thing
from countyos.village.models.tourism import ALevel, Crowding, EventKind, HeritageLevel, Spot, SpotCounter, StayKind
from countyos.village.permissions import TOURISM_MANAGE, TOURISM_READ
from countyos.village.schemas.tourism import CounterIn, SpotIn, SpotPatch

DATA = Path(__file__).resolve().parent.parent / "data"
MAX_LIST = 500
MAX_OUTLINE_POINTS = 5000
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

A_LEVEL_NAMES = {
    ALevel.NONE: N_("Not graded"),
    ALevel.A1: N_("Grade A"),
    ALevel.A2: N_("Grade AA"),
    ALevel.A3: N_("Grade AAA"),
    ALevel.A4: N_("Grade AAAA"),
    ALevel.A5: N_("Grade AAAAA"),
}
CROWDING_NAMES = {
    Crowding.NORMAL: N_("Comfortable"),
    Crowding.WARN: N_("Busy"),
    Crowding.HIGH: N_("Crowded: entry limited"),
    Crowding.FULL: N_("Full: entry stopped"),
}
STAY_KIND_NAMES = {StayKind.HOMESTAY: N_("Homestay (民宿)"), StayKind.FARMSTAY: N_("Farm stay (农家乐)")}
EVENT_KIND_NAMES = {
    EventKind.FESTIVAL: N_("Festival"),
    EventKind.PERFORMANCE: N_("Performance"),
    EventKind.SPORTS: N_("Sports event"),
    EventKind.EXHIBITION: N_("Exhibition"),
    EventKind.FARMING: N_("Farming experience"),
    EventKind.OTHER: N_("Other event"),
}
HERITAGE_LEVEL_NAMES = {
    HeritageLevel.NATIONAL: N_("National level"),
    HeritageLevel.PROVINCIAL: N_("Provincial level"),
    HeritageLevel.MUNICIPAL: N_("Municipal level"),
    HeritageLevel.COUNTY: N_("County level"),
}


@cache
def crowding_config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "tourism_crowding.json").read_text(encoding="utf-8"))
    return data


def crowding_colour(level: Crowding | str) -> str:
    for lv in crowding_config()["levels"]:
        if lv["code"] == str(level):
            return str(lv["colour"])
    return str(crowding_config()["normal_colour"])


field_error = ValidationFailed.on_field


# --- who may act ---------------------------------------------------------------------------------


def sees_all(actor: Actor) -> bool:
    return actor.can(TOURISM_READ) or actor.can(TOURISM_MANAGE)


def get_spot(session: Session, *, spot_id: int) -> Spot:
    spot = session.get(Spot, spot_id)
    if spot is None:
        raise NotFound(N_("No such scenic spot"))
    return spot


def spot_for(session: Session, actor: Actor, spot_id: int) -> Spot:
    """The spot if this person may see it: the bureau, the leaders, or its own manager (NotFound otherwise)."""
    spot = get_spot(session, spot_id=spot_id)
    if sees_all(actor) or (actor.id is not None and spot.manager_id == actor.id):
        return spot
    raise NotFound(N_("No such scenic spot"))


def spot_to_report(session: Session, actor: Actor, spot_id: int) -> Spot:
    """The spot if this person reports for it (its manager, or the bureau)."""
    spot = spot_for(session, actor, spot_id)
    if actor.can(TOURISM_MANAGE) or (actor.id is not None and spot.manager_id == actor.id):
        return spot
    raise PermissionDenied(N_("You do not manage this scenic spot"))


def my_spots(session: Session, actor: Actor) -> list[Spot]:
    if actor.id is None:
        return []
    return list(session.scalars(select(Spot).where(Spot.manager_id == actor.id, Spot.active).order_by(Spot.name)))


# --- the register --------------------------------------------------------------------------------


def list_spots(session: Session, *, active_only: bool = True, limit: int = MAX_LIST) -> list[Spot]:
    stmt = select(Spot).order_by(Spot.name).limit(min(limit, MAX_LIST))
    if active_only:
        stmt = stmt.where(Spot.active)
    return list(session.scalars(stmt))


def _outline(data: dict[str, Any] | None) -> tuple[dict[str, Any] | None, float | None, float | None]:
    """A GeoJSON Polygon/MultiPolygon (or a Feature of one), checked; its normalised form and a point inside."""
    if data is None:
        return None, None, None
    geom = data.get("geometry") if data.get("type") == "Feature" else data
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise field_error("outline", N_("The outline must be a GeoJSON polygon"))
    if len(json.dumps(geom)) > MAX_OUTLINE_POINTS * 40:
        raise field_error("outline", N_("The outline has too many points"))
    try:
        g = shape(geom)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError):
        raise field_error("outline", N_("The outline must be a GeoJSON polygon")) from None
    if g.is_empty or not g.is_valid:
        raise field_error("outline", N_("The outline is not a valid polygon"))
    minx, miny, maxx, maxy = g.bounds
    if not (minx >= 70 and maxx <= 140 and miny >= 0 and maxy <= 60):
        raise field_error("outline", N_("The outline is not in China (WGS-84 longitude, latitude)"))
    p = g.representative_point()
    return dict(mapping(g)), round(p.x, 6), round(p.y, 6)


def _check_hours(opens: str, closes: str) -> None:
    for name, value in (("opens", opens), ("closes", closes)):
        if not HHMM.match(value):
            raise field_error(name, N_("Write the time as HH:MM"))
    if closes <= opens:
        raise field_error("closes", N_("The spot must close after it opens"))


def _check_manager(session: Session, manager_id: int | None) -> None:
    if manager_id is None:
        return
    from countyos.org.service import users

    try:
        users.get(session, user_id=manager_id)
    except NotFound:
        raise field_error("manager_id", N_("No such person")) from None


def create_spot(session: Session, *, actor: Actor, data: SpotIn) -> Spot:
    if session.scalar(select(Spot.id).where(Spot.name == data.name)) is not None:
        raise field_error("name", N_("A scenic spot of this name exists already"))
    _check_hours(data.opens, data.closes)
    _check_manager(session, data.manager_id)
    outline, lon, lat = _outline(data.outline)
    spot = Spot(
        name=data.name,
        a_level=data.a_level,
        outline=outline,
        lon=data.lon if data.lon is not None else lon,
        lat=data.lat if data.lat is not None else lat,
        capacity_instant=data.capacity_instant,
        capacity_daily=data.capacity_daily,
        opens=data.opens,
        closes=data.closes,
        manager_id=data.manager_id,
        description=data.description,
    )
    session.add(spot)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.spot.create", target_type="village_spot", target_id=spot.id,
        detail={"name": spot.name, "capacity": spot.capacity_instant},
    )  # fmt: skip
    return spot


def update_spot(session: Session, *, actor: Actor, spot_id: int, data: SpotPatch) -> Spot:
    spot = get_spot(session, spot_id=spot_id)
    changes = data.model_dump(exclude_unset=True)
    clash = select(Spot.id).where(Spot.name == changes.get("name"), Spot.id != spot.id)
    if "name" in changes and session.scalar(clash) is not None:
        raise field_error("name", N_("A scenic spot of this name exists already"))
    _check_hours(changes.get("opens", spot.opens), changes.get("closes", spot.closes))
    if "manager_id" in changes:
        _check_manager(session, changes["manager_id"])
    if "outline" in changes:
        outline, lon, lat = _outline(changes.pop("outline"))
        spot.outline = outline
        if outline is not None and "lon" not in changes:
            spot.lon, spot.lat = lon, lat
    for key, value in changes.items():
        setattr(spot, key, value)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.spot.update", target_type="village_spot", target_id=spot.id,
        detail={"fields": sorted(data.model_dump(exclude_unset=True))},
    )  # fmt: skip
    return spot


# --- counters ------------------------------------------------------------------------------------


def counters_of(session: Session, *, spot_ids: list[int]) -> dict[int, list[SpotCounter]]:
    out: dict[int, list[SpotCounter]] = {i: [] for i in spot_ids}
    if spot_ids:
        for c in session.scalars(select(SpotCounter).where(SpotCounter.spot_id.in_(spot_ids)).order_by(SpotCounter.id)):
            out[c.spot_id].append(c)
    return out


def attach_counter(session: Session, *, actor: Actor, spot_id: int, data: CounterIn) -> SpotCounter:
    """Attach a gate's entry and exit datastreams (persons per interval) to the spot."""
    spot = get_spot(session, spot_id=spot_id)
    entry = session.get(Datastream, data.entry_datastream_id)
    exit_ = session.get(Datastream, data.exit_datastream_id)
    if entry is None:
        raise field_error("entry_datastream_id", N_("No such datastream"))
    if exit_ is None:
        raise field_error("exit_datastream_id", N_("No such datastream"))
    if entry.id == exit_.id:
        raise field_error("exit_datastream_id", N_("Entries and exits must be two datastreams"))
    used = select(SpotCounter.id).where(
        (SpotCounter.entry_datastream_id.in_([entry.id, exit_.id]))
        | (SpotCounter.exit_datastream_id.in_([entry.id, exit_.id]))
    )
    if session.scalar(used) is not None:
        raise field_error("entry_datastream_id", N_("This datastream already counts a spot"))
    counter = SpotCounter(spot_id=spot.id, entry_datastream_id=entry.id, exit_datastream_id=exit_.id)
    session.add(counter)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.counter.attach", target_type="village_spot", target_id=spot.id,
        detail={"entries": entry.id, "exits": exit_.id},
    )  # fmt: skip
    return counter


def entry_thing_id(session: Session, *, spot_id: int) -> tuple[int, int] | None:
    """(thing id, datastream id) of the spot's first entry counter: where its crowding alarms are raised."""
    row = session.execute(
        select(Datastream.thing_id, Datastream.id)
        .join(SpotCounter, SpotCounter.entry_datastream_id == Datastream.id)
        .where(SpotCounter.spot_id == spot_id)
        .order_by(SpotCounter.id)
        .limit(1)
    ).first()
    return (int(row[0]), int(row[1])) if row is not None else None


def counter_choices(session: Session) -> list[tuple[int, str]]:
    """Datastreams that could count visitors (gate counters first), for the form."""
    rows = session.execute(
        select(Datastream.id, Thing.name, Datastream.name, Thing.device_class)
        .join(Thing, Thing.id == Datastream.thing_id)
        .order_by(Thing.device_class != "gate_counter", Thing.name, Datastream.id)
        .limit(MAX_LIST)
    ).all()
    return [(int(i), f"{t} · {d}") for i, t, d, _ in rows]


def stream_labels(session: Session, *, datastream_ids: list[int]) -> dict[int, str]:
    """ "Device · datastream" names of these datastreams, for the pages."""
    if not datastream_ids:
        return {}
    rows = session.execute(
        select(Datastream.id, Thing.name, Datastream.name)
        .join(Thing, Thing.id == Datastream.thing_id)
        .where(Datastream.id.in_(datastream_ids))
    ).all()
    return {int(i): f"{t} · {d}" for i, t, d in rows}
