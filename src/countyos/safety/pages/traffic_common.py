"""What the traffic pages share: the navigation group, the permission aliases, the label dicts every
template reads, and the county map (SVG on the county's outline) with roads, lots and incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.geo.service import outline
from countyos.safety.models.traffic import ParkingLot, RoadIncident, RoadSegment
from countyos.safety.permissions import TRAFFIC_MANAGE, TRAFFIC_READ
from countyos.safety.schemas.traffic import LiveOut
from countyos.safety.service import traffic, traffic_incidents, traffic_parking
from countyos.web.deps import Auth, require
from countyos.web.templating import templates

TRAFFIC = N_("Traffic")  # the navigation group of the traffic pages
Reader = Annotated[Auth, Depends(require(TRAFFIC_READ))]
Keeper = Annotated[Auth, Depends(require(TRAFFIC_MANAGE))]


def labels() -> dict[str, Any]:
    return {
        "road_class_names": traffic.ROAD_CLASS_NAMES,
        "road_class_colours": traffic.ROAD_CLASS_COLOURS,
        "parking_kind_names": traffic_parking.PARKING_KIND_NAMES,
        "level_names": traffic_parking.LEVEL_NAMES,
        "level_colour": traffic_parking.colour_of,
        "incident_kind_names": traffic_incidents.INCIDENT_KIND_NAMES,
        "incident_kind_colours": traffic_incidents.INCIDENT_KIND_COLOURS,
        "severity_names": traffic_incidents.SEVERITY_NAMES,
        "state_names": traffic_incidents.STATE_NAMES,
    }


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(request, name, {**labels(), **context}, status_code=status)


@dataclass
class Map:
    """An SVG map: the county's outline, road polylines, lot dots and incident marks (SVG units)."""

    frame: Any = None
    roads: list[tuple[RoadSegment, str, str, float]] = field(default_factory=list)  # road, points, colour, width
    lots: list[tuple[Any, float, float, str]] = field(default_factory=list)  # lot (or public row), x, y, colour
    incidents: list[tuple[Any, float | None, float | None, str]] = field(default_factory=list)  # x, y, line points


def _points(frame: Any, coords: Any) -> str:
    out = []
    for c in coords:
        xy = frame.project(float(c[0]), float(c[1]))
        if xy is not None:
            out.append(f"{xy[0]},{xy[1]}")
    return " ".join(out) if len(out) >= 2 else ""


def county_map(
    session: Session,
    *,
    roads: list[RoadSegment] | None = None,
    lots: list[Any] | None = None,
    live: dict[int, LiveOut] | None = None,
    incidents: list[Any] | None = None,
) -> Map:
    """The map of ROADS, LOTS (coloured by their level now) and INCIDENTS (records or public notices)."""
    try:
        frame = outline.outline(session)
    except CountyError:
        return Map()
    m = Map(frame=frame)
    tolerance = (frame.bounds[2] - frame.bounds[0]) / 2000
    for r in roads or []:
        line = r.geom.simplify(tolerance) if tolerance > 0 else r.geom
        pts = _points(frame, line.coords)
        if pts:
            m.roads.append(
                (r, pts, traffic.ROAD_CLASS_COLOURS[r.road_class], traffic.ROAD_CLASS_WIDTHS[r.road_class] * 1.5)
            )
    for lot in lots or []:
        xy = frame.project(lot.lon, lot.lat)
        if xy is None:
            continue
        level = live[lot.id].level if live is not None and isinstance(lot, ParkingLot) else getattr(lot, "level", "")
        m.lots.append((lot, xy[0], xy[1], traffic_parking.colour_of(level)))
    for inc in incidents or []:
        xy = frame.project(inc.lon, inc.lat) if inc.lon is not None and inc.lat is not None else None
        pts = _points(frame, inc.line) if inc.line else ""
        if xy is None and pts:
            first = pts.split(" ")[0].split(",")
            xy = (float(first[0]), float(first[1]))
        if xy is None and isinstance(inc, RoadIncident) and inc.road_id is not None:
            road = session.get(RoadSegment, inc.road_id)
            if road is not None:
                mid = road.geom.interpolate(0.5, normalized=True)
                xy = frame.project(mid.x, mid.y)
                pts = pts or _points(frame, road.geom.coords)
        if xy is None and not pts:
            continue
        m.incidents.append((inc, xy[0] if xy else None, xy[1] if xy else None, pts))
    return m
