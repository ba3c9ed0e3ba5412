"""Associations through ``$ref`` (SensorThings 1.1, "link to existing entities"):

* ``POST /Things(1)/Locations/$ref`` with ``{"@iot.id": 2}`` (or ``{"@iot.selfLink": ".../Locations(2)"}``)
  adds a link; to a collection whose children hold the link (``/Things(1)/Datastreams/$ref``) it moves
  the child to this parent;
* ``PUT /Datastreams(1)/Sensor/$ref`` (or PATCH) points a to-one navigation at another entity;
* ``DELETE /Things(1)/Locations(2)/$ref`` or ``DELETE /Things(1)/Locations/$ref?$id=.../Locations(2)``
  removes a link. Links the data model requires (a Datastream's Thing, Sensor, ObservedProperty) cannot
  be removed, only pointed elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select

from countyos.sensing import models as m
from countyos.sensing.service import streams
from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta.write import StaInvalid, StaMissing, Writer

# (parent set, navigation) → (child model, the child's column that points at the parent)
TO_MANY = {
    ("Things", "Datastreams"): (m.Datastream, "thing_id"),
    ("Sensors", "Datastreams"): (m.Datastream, "sensor_id"),
    ("ObservedProperties", "Datastreams"): (m.Datastream, "observed_property_id"),
    ("Things", "MultiDatastreams"): (m.MultiDatastream, "thing_id"),
    ("Sensors", "MultiDatastreams"): (m.MultiDatastream, "sensor_id"),
    ("Things", "HistoricalLocations"): (m.HistoricalLocation, "thing_id"),
}
# (entity set, to-one navigation) → its column and whether the link may be removed
TO_ONE = {
    ("Datastreams", "Thing"): ("thing_id", False),
    ("Datastreams", "Sensor"): ("sensor_id", False),
    ("Datastreams", "ObservedProperty"): ("observed_property_id", False),
    ("MultiDatastreams", "Thing"): ("thing_id", False),
    ("MultiDatastreams", "Sensor"): ("sensor_id", False),
    ("HistoricalLocations", "Thing"): ("thing_id", False),
    ("Observations", "FeatureOfInterest"): ("foi_id", True),  # removed: the datastream's default feature
}
MANY_MANY = {("Things", "Locations"), ("Locations", "Things")}
_SELF_LINK = re.compile(r"/([A-Za-z]+)\((\d+)\)/?$")


def referenced_id(body: Any, target: str) -> int:
    """The id in ``{"@iot.id": n}`` or ``{"@iot.selfLink": ".../Set(n)"}`` (or a bare self link)."""
    if isinstance(body, dict) and "@iot.id" in body:
        rid = body["@iot.id"]
        if isinstance(rid, int) and not isinstance(rid, bool):
            return rid
        raise StaInvalid("@iot.id must be a number")
    link = body.get("@iot.selfLink") if isinstance(body, dict) else body
    match = _SELF_LINK.search(link) if isinstance(link, str) else None
    if match is None or match.group(1) != target:
        raise StaInvalid(f'send {{"@iot.id": n}} or the @iot.selfLink of one of the {target}')
    return int(match.group(2))


def _nav(plural: str, nav: str) -> str:
    ent = E.ENTITIES[plural]
    if nav not in ent.navs:
        raise StaInvalid(f"{ent.name} has no navigation {nav}")
    return ent.navs[nav].target


def _get(w: Writer, plural: str, rid: int) -> Any:
    obj = w.s.get(E.ENTITIES[plural].model, rid)
    if obj is None:
        raise StaMissing(f"{E.ENTITIES[plural].name} {rid} does not exist")
    return obj


def _location_ids(w: Writer, thing_id: int) -> list[int]:
    t = m.thing_location
    return list(w.s.scalars(select(t.c.location_id).where(t.c.thing_id == thing_id).order_by(t.c.location_id)))


def link(w: Writer, plural: str, pid: int, nav: str, child_id: int) -> None:
    """Add (to-many) or set (to-one) the link from ``plural(pid)`` through ``nav`` to ``child_id``."""
    target = _nav(plural, nav)
    parent = _get(w, plural, pid)
    _get(w, target, child_id)
    if (plural, nav) in MANY_MANY:
        thing_id, loc_id = (pid, child_id) if plural == "Things" else (child_id, pid)
        current = _location_ids(w, thing_id)
        if loc_id not in current:
            w._set_locations(_get(w, "Things", thing_id), [*current, loc_id])
    elif (plural, nav) in TO_MANY:
        setattr(_get(w, target, child_id), TO_MANY[(plural, nav)][1], pid)
    elif (plural, nav) in TO_ONE:
        setattr(parent, TO_ONE[(plural, nav)][0], child_id)
    else:
        raise StaInvalid(f"{E.ENTITIES[plural].name}/{nav} cannot be linked through $ref")
    if "Datastreams" in (plural, target):
        streams.invalidate()
    w.s.flush()
    w._audit("link", plural, pid, {"navigation": nav, "id": child_id})


def unlink(w: Writer, plural: str, pid: int, nav: str, child_id: int | None) -> None:
    """Remove the link from ``plural(pid)`` through ``nav`` (to ``child_id`` for a collection)."""
    _nav(plural, nav)
    parent = _get(w, plural, pid)
    if (plural, nav) in MANY_MANY:
        if child_id is None:
            raise StaInvalid("name the entity to unlink: .../$ref?$id=<its @iot.selfLink>")
        thing_id, loc_id = (pid, child_id) if plural == "Things" else (child_id, pid)
        t = m.thing_location
        gone = w.s.execute(delete(t).where(t.c.thing_id == thing_id, t.c.location_id == loc_id)).rowcount  # type: ignore[attr-defined]
        if not gone:
            raise StaMissing(f"Thing {thing_id} is not linked to Location {loc_id}")
        rest = _location_ids(w, thing_id)
        thing = _get(w, "Things", thing_id)
        if rest:
            w._set_locations(thing, rest)  # a HistoricalLocation records where it is now
        else:
            thing.lon = thing.lat = None
            w.s.expire(thing, ["locations"])
    elif (plural, nav) in TO_ONE and TO_ONE[(plural, nav)][1]:
        setattr(parent, TO_ONE[(plural, nav)][0], None)
    elif (plural, nav) in TO_ONE or (plural, nav) in TO_MANY:
        raise StaInvalid(f"the link {E.ENTITIES[plural].name}/{nav} is required; link it to another entity instead")
    else:
        raise StaInvalid(f"{E.ENTITIES[plural].name}/{nav} cannot be unlinked through $ref")
    w.s.flush()
    w._audit("unlink", plural, pid, {"navigation": nav, "id": child_id})
