"""Writing SensorThings entities: create with deep insert, PATCH (merge or JSON Patch), PUT, DELETE
with the standard's cascades, and ``CreateObservations`` (the dataArray extension).

Observations go through the same write path as every other ingest channel (:mod:`..store`), so they
are deduplicated, rolled up and move the latest value; those of a Datastream are checked against the
ingest cache and stored together (:mod:`.observations`): a ``CreateObservations`` request is one
statement per table, whatever its number of rows. Every other entity write is audited.
"""

from __future__ import annotations

import contextlib
from typing import Any

import jsonpatch
import jsonpointer
import numpy as np
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.org.service import audit
from countyos.sensing import models as m
from countyos.sensing.service import geometry, rollups, store, streams
from countyos.sensing.service.sta import bodies as B
from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta import observations as O
from countyos.sensing.service.sta.errors import StaConflict, StaInvalid, StaMissing, bounded, checked
from countyos.sensing.service.sta.parser import StaQueryError
from countyos.sensing.service.times import (
    EARLIEST_US,
    FUTURE_SKEW_US,
    from_us,
    iso,
    now_us,
    parse_interval,
    parse_iso,
    to_us,
)

__all__ = ["StaConflict", "StaInvalid", "StaMissing", "Writer", "apply_json_patch"]

_checked = checked
_bounded = bounded


# JSON property → model attribute for the plain fields of each entity set.
FIELDS: dict[str, dict[str, str]] = {
    "Things": {"name": "name", "description": "description", "properties": "properties"},
    "Locations": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "encodingType": "encoding_type",
        "location": "location",
    },
    "HistoricalLocations": {},
    "Sensors": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "encodingType": "encoding_type",
        "metadata": "meta",
    },
    "ObservedProperties": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "definition": "definition",
    },
    "Datastreams": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "observationType": "observation_type",
        "unitOfMeasurement": "unit",
        "observedArea": "observed_area",
    },
    "MultiDatastreams": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "observationType": "observation_type",
        "unitOfMeasurements": "units",
        "multiObservationDataTypes": "observation_types",
        "observedArea": "observed_area",
    },
    "FeaturesOfInterest": {
        "name": "name",
        "description": "description",
        "properties": "properties",
        "encodingType": "encoding_type",
        "feature": "feature",
    },
}
# (parent entity set, navigation link) → the link back that a child created there gets
_BACK: dict[tuple[str, str], str] = {
    ("Things", "Datastreams"): "Thing",
    ("Things", "MultiDatastreams"): "Thing",
    ("Things", "Locations"): "Things",
    ("Things", "HistoricalLocations"): "Thing",
    ("Sensors", "Datastreams"): "Sensor",
    ("Sensors", "MultiDatastreams"): "Sensor",
    ("ObservedProperties", "Datastreams"): "ObservedProperty",
    ("Datastreams", "Observations"): "Datastream",
    ("MultiDatastreams", "Observations"): "MultiDatastream",
    ("FeaturesOfInterest", "Observations"): "FeatureOfInterest",
    ("Locations", "Things"): "Locations",
}
GEO_FIELD = {"Locations": "location", "FeaturesOfInterest": "feature"}
READ_ONLY = {"@iot.id", "@iot.selfLink", "id"}


class Writer:
    def __init__(self, session: Session, actor: Actor) -> None:
        self.s = session
        self.actor = actor
        self.created: list[tuple[str, int]] = []
        self.batches: list[store.Stored] = []  # observations stored (for rules and device health)
        self.observations: dict[int, O.Parsed] = {}  # what single creates wrote (their 201 body)
        self._count = 0  # entities created by this request (bounded: B.MAX_ENTITIES)

    # --- helpers --------------------------------------------------------------------------------
    def _model(self, plural: str) -> type[Any]:
        return E.ENTITIES[plural].model

    def _ref_id(self, plural: str, value: Any) -> int | None:
        """The id of ``{"@iot.id": n}`` (a reference), or None for an inline new entity."""
        if isinstance(value, dict) and ("@iot.id" in value or set(value) == {"id"}):
            # An entity with an id is a link to an existing one; its other properties are ignored.
            rid = value.get("@iot.id", value.get("id"))
            if not isinstance(rid, int) or isinstance(rid, bool):
                raise StaInvalid(f"{plural}: @iot.id must be a number")
            if self.s.get(self._model(plural), rid) is None:
                raise StaMissing(f"{E.ENTITIES[plural].name} {rid} does not exist")
            return rid
        return None

    def _entity(self, plural: str, value: Any) -> int:
        if not isinstance(value, dict):
            raise StaInvalid(f"{E.ENTITIES[plural].name} must be an object")
        rid = self._ref_id(plural, value)
        return rid if rid is not None else self._create(plural, value)

    def _plain(self, plural: str, obj: Any, body: dict[str, Any], *, partial: bool) -> None:
        fields = FIELDS[plural]
        ent = E.ENTITIES[plural]
        for key, value in body.items():
            if key in READ_ONLY or key in ent.navs:
                continue
            if key in fields:
                setattr(obj, fields[key], value)
            elif key not in ent.props:
                raise StaInvalid(f"{ent.name} has no property {key!r}")
        if not partial:
            missing = [r for r in ent.required if r in fields and body.get(r) is None]
            if missing:
                raise StaInvalid(f"{ent.name} needs {', '.join(missing)}")
        for key in ("name", "description"):
            if key in fields and getattr(obj, key, None) is None:
                setattr(obj, key, "")
        geo = GEO_FIELD.get(plural)
        if geo and geo in body:
            value = body[geo]
            if not isinstance(value, dict):
                raise StaInvalid(f"{geo} must be a GeoJSON object")
            try:
                for k, v in geometry.describe(value).items():
                    setattr(obj, k, v)
            except Exception as exc:
                raise StaInvalid(f"{geo} is not valid GeoJSON") from exc

    def _audit(self, action: str, plural: str, rid: int, detail: dict[str, Any] | None = None) -> None:
        audit.record(
            self.s,
            actor=self.actor,
            action=f"sensing.sta.{action}",
            target_type=E.ENTITIES[plural].name,
            target_id=rid,
            detail=detail or {},
        )

    # --- create ---------------------------------------------------------------------------------
    def create(self, plural: str, body: Any, parent: tuple[str, int, str] | None = None) -> int:
        """Create an entity with everything nested in it (deep insert); the body is checked whole first."""
        _bounded(body)
        under = self._back(plural, parent) if parent is not None else None
        _checked(B.check_create, plural, body, under=under)
        return self._create(plural, body, parent)

    def _create(self, plural: str, body: dict[str, Any], parent: tuple[str, int, str] | None = None) -> int:
        self._count += 1
        if self._count > B.MAX_ENTITIES:
            raise StaInvalid(f"one request may create at most {B.MAX_ENTITIES} entities")
        if parent is not None:
            body = self._with_parent(plural, body, parent)
        if plural == "Observations":
            return self._create_observation(body)
        make = getattr(self, f"_create_{plural}", None)
        rid = make(body) if make is not None else self._create_simple(plural, body)
        self.created.append((plural, rid))
        self._audit("create", plural, rid, {"name": body.get("name")})
        return rid

    @staticmethod
    def _back(plural: str, parent: tuple[str, int, str]) -> str:
        """The navigation link of a new ``plural`` entity that its parent fills in."""
        parent_plural, _, nav = parent
        back = _BACK.get((parent_plural, nav))
        if back is None:
            raise StaInvalid(f"cannot create {plural} under {E.ENTITIES[parent_plural].name}/{nav}")
        return back

    def _with_parent(self, plural: str, body: dict[str, Any], parent: tuple[str, int, str]) -> dict[str, Any]:
        back = self._back(plural, parent)
        body = dict(body)
        ref = {"@iot.id": parent[1]}
        body[back] = [ref] if back.endswith("s") else ref
        return body

    def _create_simple(self, plural: str, body: dict[str, Any]) -> int:
        obj = self._model(plural)()
        self._plain(plural, obj, body, partial=False)
        self.s.add(obj)
        self.s.flush()
        for nav in ("Datastreams", "MultiDatastreams", "Observations"):
            if nav in body and plural in ("Sensors", "ObservedProperties", "FeaturesOfInterest"):
                self._children(plural, obj.id, nav, body[nav])
        return int(obj.id)

    def _children(self, plural: str, pid: int, nav: str, values: Any) -> None:
        if not isinstance(values, list):
            raise StaInvalid(f"{nav} must be a list")
        for v in values:
            if self._ref_id(E.ENTITIES[plural].navs[nav].target, v) is None:
                self._create(E.ENTITIES[plural].navs[nav].target, v, (plural, pid, nav))

    def _create_Things(self, body: dict[str, Any]) -> int:
        thing = m.Thing()
        self._plain("Things", thing, body, partial=False)
        self.s.add(thing)
        self.s.flush()
        locs = body.get("Locations") or []
        if not isinstance(locs, list):
            raise StaInvalid("Locations must be a list")
        loc_ids = [self._entity("Locations", v) for v in locs]
        if loc_ids:
            self._set_locations(thing, loc_ids)
        for nav in ("Datastreams", "MultiDatastreams"):
            if nav in body:
                self._children("Things", thing.id, nav, body[nav])
        for hl in body.get("HistoricalLocations") or []:
            self._create("HistoricalLocations", hl, ("Things", thing.id, "HistoricalLocations"))
        return int(thing.id)

    def _set_locations(self, thing: m.Thing, loc_ids: list[int]) -> None:
        self.s.execute(delete(m.thing_location).where(m.thing_location.c.thing_id == thing.id))
        for lid in loc_ids:
            self.s.execute(insert(m.thing_location).values(thing_id=thing.id, location_id=lid))
        hl = m.HistoricalLocation(thing_id=thing.id, time=utcnow())
        self.s.add(hl)
        self.s.flush()
        for lid in loc_ids:
            self.s.execute(insert(m.historical_location_location).values(historical_location_id=hl.id, location_id=lid))
        first = self.s.get(m.Location, loc_ids[0])
        if first is not None:
            thing.lon, thing.lat = first.lon, first.lat
        self.s.expire(thing, ["locations"])

    def _create_Locations(self, body: dict[str, Any]) -> int:
        loc = m.Location()
        self._plain("Locations", loc, body, partial=False)
        self.s.add(loc)
        self.s.flush()
        for t in body.get("Things") or []:
            tid = self._entity("Things", t)
            thing = self.s.get(m.Thing, tid)
            assert thing is not None
            self._set_locations(thing, [loc.id])
        return int(loc.id)

    def _create_HistoricalLocations(self, body: dict[str, Any]) -> int:
        thing_id = self._entity("Things", body.get("Thing")) if body.get("Thing") else None
        if thing_id is None:
            raise StaInvalid("HistoricalLocation needs Thing")
        when = body.get("time")
        try:  # checked by the body model: ISO 8601 with a zone (never guessed as UTC)
            t = from_us(parse_iso(when)) if isinstance(when, str) else utcnow()
        except ValueError as exc:
            raise StaInvalid(f"time is not ISO 8601 with a time zone: {exc}") from exc
        hl = m.HistoricalLocation(thing_id=thing_id, time=t)
        self.s.add(hl)
        self.s.flush()
        for v in body.get("Locations") or []:
            lid = self._entity("Locations", v)
            self.s.execute(insert(m.historical_location_location).values(historical_location_id=hl.id, location_id=lid))
        return int(hl.id)

    def _stream_refs(self, body: dict[str, Any], ent: str) -> tuple[int, int]:
        for need in ("Thing", "Sensor"):
            if need not in body:
                raise StaInvalid(f"{ent} needs {need}")
        return self._entity("Things", body["Thing"]), self._entity("Sensors", body["Sensor"])

    def _create_Datastreams(self, body: dict[str, Any]) -> int:
        if "ObservedProperty" not in body:
            raise StaInvalid("Datastream needs ObservedProperty")
        unit = body.get("unitOfMeasurement")
        if not isinstance(unit, dict):
            raise StaInvalid("Datastream needs unitOfMeasurement {name, symbol, definition}")
        thing_id, sensor_id = self._stream_refs(body, "Datastream")
        ds = m.Datastream(
            thing_id=thing_id,
            sensor_id=sensor_id,
            observed_property_id=self._entity("ObservedProperties", body["ObservedProperty"]),
        )
        self._plain("Datastreams", ds, body, partial=False)
        ds.unit_symbol = (unit.get("symbol") or None) if isinstance(unit.get("symbol"), str) else None
        self.s.add(ds)
        self.s.flush()
        streams.invalidate()
        if "Observations" in body:
            self._children("Datastreams", ds.id, "Observations", body["Observations"])
        return int(ds.id)

    def _create_MultiDatastreams(self, body: dict[str, Any]) -> int:
        ops = body.get("ObservedProperties")
        units, types = body.get("unitOfMeasurements"), body.get("multiObservationDataTypes")
        if not isinstance(ops, list) or not isinstance(units, list) or not isinstance(types, list):
            raise StaInvalid("MultiDatastream needs ObservedProperties, unitOfMeasurements, multiObservationDataTypes")
        if not (len(ops) == len(units) == len(types)):
            raise StaInvalid("ObservedProperties, unitOfMeasurements and multiObservationDataTypes differ in length")
        thing_id, sensor_id = self._stream_refs(body, "MultiDatastream")
        mds = m.MultiDatastream(thing_id=thing_id, sensor_id=sensor_id)
        self._plain("MultiDatastreams", mds, body, partial=False)
        self.s.add(mds)
        self.s.flush()
        for pos, op in enumerate(ops):
            self.s.add(
                m.MultiDatastreamProperty(
                    multi_datastream_id=mds.id,
                    position=pos,
                    observed_property_id=self._entity("ObservedProperties", op),
                )
            )
        self.s.flush()
        if "Observations" in body:
            self._children("MultiDatastreams", mds.id, "Observations", body["Observations"])
        return int(mds.id)

    # --- observations ---------------------------------------------------------------------------
    def _default_foi(self, stream: Any) -> int:
        """The datastream's default feature of interest, made from its thing's location the first time."""
        if stream.default_foi_id:
            return int(stream.default_foi_id)
        thing = self.s.get(m.Thing, stream.thing_id)
        loc = thing.locations[0] if thing is not None and thing.locations else None
        if loc is None:
            raise StaInvalid("the Observation needs a FeatureOfInterest (its Thing has no Location)")
        foi = m.FeatureOfInterest(
            name=loc.name,
            description=loc.description,
            encoding_type=loc.encoding_type,
            feature=loc.location,
            **geometry.describe(loc.location),
        )
        self.s.add(foi)
        self.s.flush()
        stream.default_foi_id = foi.id
        self.s.flush()
        return int(foi.id)

    def _stream_default_foi(self, info: streams.StreamInfo) -> int:
        if info.default_foi_id:
            return info.default_foi_id
        stream = self.s.get(m.Datastream, info.id)
        assert stream is not None
        return self._default_foi(stream)

    def create_observation(self, body: Any) -> int:
        """One observation (HTTP or the MQTT create extension); the body is checked first."""
        _bounded(body)
        _checked(B.check_create, "Observations", body)
        self._count += 1
        return self._create_observation(body)

    def _create_observation(self, body: dict[str, Any]) -> int:
        ds_ref, mds_ref = body.get("Datastream"), body.get("MultiDatastream")
        if (ds_ref is None) == (mds_ref is None):
            raise StaInvalid("an Observation needs exactly one of Datastream or MultiDatastream")
        if mds_ref is not None:
            return self._create_multi_observation(body, mds_ref)
        sid = ds_ref.get("@iot.id", ds_ref.get("id")) if isinstance(ds_ref, dict) else None
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise StaInvalid("refer to the Datastream by its @iot.id")
        info = streams.by_id(self.s, sid)
        if info is None:
            raise StaMissing(f"Datastream {sid} does not exist")
        p = O.parse(body, info, now_us())
        foi = body.get("FeatureOfInterest")
        if foi is not None:
            fid = foi.get("@iot.id", foi.get("id")) if isinstance(foi, dict) and self._is_ref(foi) else None
            if fid is not None:
                if not isinstance(fid, int) or isinstance(fid, bool) or not O.feature_exists(self.s, fid):
                    raise StaMissing(f"FeatureOfInterest {fid} does not exist")
                p.foi_id = fid
            else:
                p.foi_id = self._entity("FeaturesOfInterest", foi)
        default = info.default_foi_id if p.foi_id is not None else self._stream_default_foi(info)
        stored = O.store_rows(self.s, [p], default_foi={sid: default}, reported_us=now_us())
        oid = int(stored.ids[0])
        if oid < 0:
            raise StaConflict(f"Datastream {sid} has an observation at {body.get('phenomenonTime')} already")
        self.batches.append(stored)
        self.created.append(("Observations", oid))
        self.observations[oid] = p
        return oid

    @staticmethod
    def _is_ref(value: dict[str, Any]) -> bool:
        return "@iot.id" in value or set(value) == {"id"}

    def _create_multi_observation(self, body: dict[str, Any], ref: Any) -> int:
        sid = self._ref_id("MultiDatastreams", ref)
        if sid is None:
            raise StaInvalid("refer to the MultiDatastream by its @iot.id")
        stream = self.s.get(m.MultiDatastream, sid)
        assert stream is not None  # _ref_id checked it exists
        if "result" not in body:
            raise StaInvalid("an Observation needs result")
        now = now_us()
        try:
            start, end = parse_interval(body["phenomenonTime"]) if body.get("phenomenonTime") else (now, None)
            result_time = parse_iso(body["resultTime"]) if body.get("resultTime") else None
            valid = parse_interval(body["validTime"]) if body.get("validTime") else (None, None)
        except (ValueError, TypeError) as exc:
            raise StaInvalid(f"a time is not ISO 8601 with a time zone: {exc}") from exc
        if start > now + FUTURE_SKEW_US:
            raise StaInvalid("phenomenonTime is in the future")
        if start < EARLIEST_US:
            raise StaInvalid("phenomenonTime is before 2000-01-01")
        foi_id = None
        if body.get("FeatureOfInterest") is not None:
            foi_id = self._entity("FeaturesOfInterest", body["FeatureOfInterest"])
        default_foi = self._default_foi(stream)
        result = body["result"]
        if not isinstance(result, list) or len(result) != len(stream.units):
            raise StaInvalid(f"the result must be a list of {len(stream.units)} values")
        oid = self._insert_multi(sid, start, foi_id if foi_id != default_foi else None)
        rollups.merge_multi(self.s, multi_datastream_id=sid, times=[start], results=[result])
        extra = {
            "phenomenon_end_us": end,
            "result_time_us": result_time,
            "result_json": result,
            "result_quality": body.get("resultQuality"),
            "valid_start_us": valid[0],
            "valid_end_us": valid[1],
            "parameters": body.get("parameters"),
        }
        self.s.add(m.ObservationExtra(observation_id=oid, **extra))
        self.s.flush()
        self.created.append(("Observations", oid))
        return oid

    def _insert_multi(self, mds_id: int, t: int, foi_id: int | None) -> int:
        exists = self.s.scalar(
            select(m.Observation.id).where(
                m.Observation.multi_datastream_id == mds_id, m.Observation.phenomenon_us == t
            )
        )
        if exists is not None:
            raise StaConflict(f"MultiDatastream {mds_id} has an observation at that time already")
        obs = m.Observation(multi_datastream_id=mds_id, phenomenon_us=t, foi_id=foi_id)
        if self.s.get_bind().dialect.name != "sqlite":
            obs.id = int(store.allocate_ids(self.s, 1)[0])
        self.s.add(obs)
        self.s.flush()
        return int(obs.id)

    def create_observations(self, body: Any, base: str) -> list[str]:
        """The dataArray extension: ``[{"Datastream": {...}, "components": [...], "dataArray": [[...]]}]``
        → a self link per row, or ``"error"`` for a row that could not be stored."""
        if not isinstance(body, list):
            raise StaInvalid("CreateObservations takes a list of {Datastream, components, dataArray}")
        _bounded(body)
        for i, group in enumerate(body):
            try:
                B.validate(B.DataArrayGroup, group)
            except B.BodyInvalid as exc:
                errors = [{**e, "field": f"[{i}].{e['field']}" if e["field"] else f"[{i}]"} for e in exc.errors]
                raise StaInvalid(str(B.BodyInvalid(errors)), errors) from exc
        if sum(len(group["dataArray"]) for group in body) > B.MAX_DATA_ARRAY_ROWS:
            raise StaInvalid(f"one request may carry at most {B.MAX_DATA_ARRAY_ROWS} dataArray rows")
        return self._data_arrays(body, base)

    def _data_arrays(self, body: list[dict[str, Any]], base: str) -> list[str]:
        """Every row checked on its own ("error" when it does not fit), then the good rows of every
        Datastream group stored together; MultiDatastream rows (rare) one by one."""
        out: list[str] = []
        now = now_us()
        rows: list[O.Parsed] = []
        at: list[int] = []  # position in ``out`` of each of ``rows``
        for group in body:
            comps = group["components"]
            if "MultiDatastream" in group:
                out += self._multi_rows(group, comps, base)
                continue
            ref = group["Datastream"]
            info = streams.by_id(self.s, ref.get("@iot.id", ref.get("id")))
            plain = len(comps) == 2 and set(comps) == {"phenomenonTime", "result"}
            it, iv = (comps.index("phenomenonTime"), comps.index("result")) if plain else (0, 0)
            for row in group["dataArray"]:
                out.append("error")
                if info is None or type(row) is not list or len(row) != len(comps):
                    continue
                p = O.plain_row(row, it, iv, info, now) if plain else None
                if p is None:
                    try:
                        obs, foi = O.row_body(comps, row)
                        p = O.parse(obs, info, now)
                    except StaInvalid:
                        continue
                    p.foi_id = foi
                rows.append(p)
                at.append(len(out) - 1)
        if not rows:
            return out
        known = O.existing_features(self.s, {p.foi_id for p in rows if p.foi_id is not None})
        defaults: dict[int, int | None] = {}
        for ds in sorted({p.datastream_id for p in rows}):
            info = streams.by_id(self.s, ds)
            assert info is not None
            defaults[ds] = info.default_foi_id
            if info.default_foi_id is None and any(p.foi_id is None for p in rows if p.datastream_id == ds):
                # without a feature to fall back to, only the rows that name one can be stored
                with contextlib.suppress(StaInvalid):
                    defaults[ds] = self._stream_default_foi(info)
        keep = [
            i
            for i, p in enumerate(rows)
            if (p.foi_id in known if p.foi_id is not None else defaults[p.datastream_id] is not None)
        ]
        if not keep:
            return out
        rows, at = [rows[i] for i in keep], [at[i] for i in keep]
        stored = O.store_rows(self.s, rows, default_foi=defaults, reported_us=now)
        for pos, oid in zip(at, stored.ids.tolist(), strict=True):
            if oid >= 0:
                out[pos] = f"{base}/Observations({oid})"
                self.created.append(("Observations", oid))
        if stored.inserted:
            self.batches.append(stored)
        return out

    def _multi_rows(self, group: dict[str, Any], comps: list[str], base: str) -> list[str]:
        out: list[str] = []
        for row in group["dataArray"]:
            if not isinstance(row, list) or len(row) != len(comps):
                out.append("error")
                continue
            obs: dict[str, Any] = {"MultiDatastream": group["MultiDatastream"]}
            for name, value in zip(comps, row, strict=True):
                if name in ("FeatureOfInterest/id", "FeatureOfInterest/@iot.id"):
                    obs["FeatureOfInterest"] = {"@iot.id": value}
                else:
                    obs[name] = value
            try:
                with self.s.begin_nested():
                    oid = self.create_observation(obs)
                out.append(f"{base}/Observations({oid})")
            except (StaInvalid, StaMissing, StaConflict, StaQueryError):
                out.append("error")
        return out

    # --- update ---------------------------------------------------------------------------------
    def patch(self, plural: str, rid: int, body: Any, *, json_patch: bool = False, replace: bool = False) -> None:
        """PATCH (a merge, or an RFC 6902 JSON Patch) or, with ``replace``, PUT of one entity."""
        obj = self.s.get(self._model(plural), rid)
        if obj is None:
            raise StaMissing(f"{E.ENTITIES[plural].name} {rid} does not exist")
        _bounded(body)
        if json_patch:
            body = self._json_patched(plural, obj, body)
        _checked(B.check_put if replace else B.check_patch, plural, body)
        if plural == "Observations":
            self._patch_observation(obj, body)
            self._audit("update", plural, rid, {"fields": sorted(k for k in body if k not in READ_ONLY)})
            return
        if plural == "HistoricalLocations" and isinstance(body.get("time"), str):
            obj.time = from_us(parse_iso(body["time"]))
        self._plain(plural, obj, body, partial=not replace)
        if plural == "Things" and "Locations" in body:
            self._set_locations(obj, [self._entity("Locations", v) for v in body["Locations"] or []])
        if plural == "Datastreams":
            for nav, attr, target in (
                ("Thing", "thing_id", "Things"),
                ("Sensor", "sensor_id", "Sensors"),
                ("ObservedProperty", "observed_property_id", "ObservedProperties"),
            ):
                if nav in body:
                    setattr(obj, attr, self._entity(target, body[nav]))
            if isinstance(body.get("unitOfMeasurement"), dict):
                obj.unit_symbol = body["unitOfMeasurement"].get("symbol")
            streams.invalidate()
        self.s.flush()
        self._audit("update", plural, rid, {"fields": sorted(k for k in body if k not in READ_ONLY)})

    def _current(self, plural: str, obj: Any) -> dict[str, Any]:
        """The entity's writable properties as JSON: what a JSON Patch applies to."""
        if plural == "Observations":
            return {"phenomenonTime": iso(obj.phenomenon_us), "result": obj.result}
        if plural == "HistoricalLocations":
            return {"time": iso(to_us(obj.time))}
        return {k: getattr(obj, a) for k, a in FIELDS[plural].items()}

    def _json_patched(self, plural: str, obj: Any, ops: Any) -> dict[str, Any]:
        """Apply an RFC 6902 JSON Patch to the entity; → the properties it changed (removed: null)."""
        current = self._current(plural, obj)
        after = apply_json_patch(current, ops)
        changed = {k: v for k, v in after.items() if k not in current or current[k] != v}
        changed.update({k: None for k in current if k not in after})
        return changed

    def _patch_observation(self, obs: m.Observation, body: dict[str, Any]) -> None:
        if obs.datastream_id is None:
            raise StaInvalid("observations of a MultiDatastream cannot be changed; delete and create again")
        old_t = obs.phenomenon_us
        if "result" in body:
            r = body["result"]
            if isinstance(r, int | float) and not isinstance(r, bool):
                obs.result = float(r)
            else:
                raise StaInvalid("only numeric results can be changed")
        if body.get("phenomenonTime"):
            t = parse_interval(body["phenomenonTime"])[0]  # checked by the body model
            if t > now_us() + FUTURE_SKEW_US or t < EARLIEST_US:
                raise StaInvalid("phenomenonTime is in the future or before 2000-01-01")
            if t != old_t and self.s.scalar(
                select(m.Observation.id).where(
                    m.Observation.datastream_id == obs.datastream_id, m.Observation.phenomenon_us == t
                )
            ):
                raise StaConflict(
                    f"Datastream {obs.datastream_id} has an observation at {body['phenomenonTime']} already"
                )
            obs.phenomenon_us = t
        self.s.flush()
        lo, hi = min(old_t, obs.phenomenon_us), max(old_t, obs.phenomenon_us)
        rollups.rebuild(self.s, datastream_id=obs.datastream_id, start_us=lo, end_us=hi)
        store.refresh_latest(self.s, datastream_ids=[obs.datastream_id])

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, plural: str, rid: int) -> None:
        model = self._model(plural)
        obj = self.s.get(model, rid)
        if obj is None:
            raise StaMissing(f"{E.ENTITIES[plural].name} {rid} does not exist")
        if plural == "Observations":
            self._delete_observations(select(m.Observation.id).where(m.Observation.id == rid))
            return
        if plural == "Things":
            for ds in self.s.scalars(select(m.Datastream.id).where(m.Datastream.thing_id == rid)).all():
                self.delete("Datastreams", ds)
            for mds in self.s.scalars(select(m.MultiDatastream.id).where(m.MultiDatastream.thing_id == rid)).all():
                self.delete("MultiDatastreams", mds)
        elif plural == "Datastreams":
            self._delete_observations(select(m.Observation.id).where(m.Observation.datastream_id == rid))
            for table in (*rollups.TABLE.values(), "sensing_latest"):
                self.s.execute(text(f"DELETE FROM {table} WHERE datastream_id = :ds"), {"ds": rid})
            streams.invalidate()
        elif plural == "MultiDatastreams":
            self._delete_observations(select(m.Observation.id).where(m.Observation.multi_datastream_id == rid))
        elif plural in ("Sensors", "ObservedProperties"):
            col = m.Datastream.sensor_id if plural == "Sensors" else m.Datastream.observed_property_id
            for ds in self.s.scalars(select(m.Datastream.id).where(col == rid)).all():
                self.delete("Datastreams", ds)
            if plural == "Sensors":
                for mds in self.s.scalars(select(m.MultiDatastream.id).where(m.MultiDatastream.sensor_id == rid)).all():
                    self.delete("MultiDatastreams", mds)
            else:
                mids = select(m.MultiDatastreamProperty.multi_datastream_id).where(
                    m.MultiDatastreamProperty.observed_property_id == rid
                )
                for mds in self.s.scalars(mids).all():
                    self.delete("MultiDatastreams", mds)
        elif plural == "FeaturesOfInterest":
            self._delete_observations(select(m.Observation.id).where(m.Observation.foi_id == rid))
            for model_ in (m.Datastream, m.MultiDatastream):
                self.s.execute(update(model_).where(model_.default_foi_id == rid).values(default_foi_id=None))
        self.s.delete(obj)
        self.s.flush()
        self._audit("delete", plural, rid)

    def _delete_observations(self, ids_select: Any) -> None:
        rows = self.s.execute(
            select(m.Observation.id, m.Observation.datastream_id, m.Observation.phenomenon_us).where(
                m.Observation.id.in_(ids_select)
            )
        ).all()
        if not rows:
            return
        multi: dict[int, list[int]] = {}
        for mds, t in self.s.execute(
            select(m.Observation.multi_datastream_id, m.Observation.phenomenon_us).where(
                m.Observation.id.in_([r[0] for r in rows if r[1] is None]),
                m.Observation.multi_datastream_id.is_not(None),
            )
        ):
            multi.setdefault(int(mds or 0), []).append(t)
        ids = [r[0] for r in rows]
        for i in range(0, len(ids), 5000):
            chunk = ids[i : i + 5000]
            self.s.execute(delete(m.ObservationExtra).where(m.ObservationExtra.observation_id.in_(chunk)))
            self.s.execute(delete(m.Observation).where(m.Observation.id.in_(chunk)))
        per_stream: dict[int, list[int]] = {}
        for _, ds, t in rows:
            if ds is not None:
                per_stream.setdefault(ds, []).append(t)
        for ds, times in per_stream.items():
            arr = np.asarray(times)
            rollups.rebuild(self.s, datastream_id=ds, start_us=int(arr.min()), end_us=int(arr.max()))
            self.s.execute(
                text(
                    "UPDATE sensing_latest SET raw_count = CASE WHEN raw_count > :n THEN raw_count - :n ELSE 0 END "
                    "WHERE datastream_id = :ds"
                ),
                {"n": len(times), "ds": ds},
            )
        store.refresh_latest(self.s, datastream_ids=sorted(per_stream))
        for mds, times in multi.items():  # after the rows are gone: their rollups are computed again without them
            rollups.rebuild_multi(self.s, multi_datastream_id=mds, start_us=min(times), end_us=max(times))


def apply_json_patch(doc: dict[str, Any], ops: Any) -> dict[str, Any]:
    """RFC 6902 (``add``, ``remove``, ``replace``, ``move``, ``copy``, ``test``) on a copy of ``doc``.

    A path that does not exist, a failed ``test`` or a malformed operation is a :class:`StaInvalid`.
    """
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise StaInvalid("a JSON Patch is a list of operations")
    try:
        patched = jsonpatch.JsonPatch(ops).apply(doc, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise StaInvalid(f"the JSON Patch cannot be applied: {exc}") from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise StaInvalid(f"the JSON Patch is not valid: {exc}") from exc
    if not isinstance(patched, dict):
        raise StaInvalid("a JSON Patch may not replace the whole entity")
    return patched
