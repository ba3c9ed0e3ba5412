"""JSON API for operators: devices, series for charts, rules (with preview) and alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.sensing import flows
from countyos.sensing.models import Alarm, Rule, Thing
from countyos.sensing.service import alarms, devices, rollups, rules
from countyos.sensing.service.times import DAY_US, iso, to_us
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()


def device_out(t: Thing) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "device_key": t.device_key,
        "device_class": t.device_class,
        "health": str(t.health),
        "last_seen_at": t.last_seen_at.isoformat() if t.last_seen_at else None,
        "battery": t.battery,
        "signal": t.signal,
        "lon": t.lon,
        "lat": t.lat,
        "expected_interval_s": t.expected_interval_s,
    }


@router.get("/devices")
def list_devices(session: ReadSession, _: Annotated[Auth, Depends(require("sensing.read"))]) -> dict[str, Any]:
    """Every device with its health; ``features`` is the same as GeoJSON points for maps."""
    things = list(session.scalars(select(Thing).order_by(Thing.name)))
    items = [device_out(t) for t in things]
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [d["lon"], d["lat"]]}, "properties": d}
        for d in items
        if d["lon"] is not None
    ]
    return {"items": items, "features": {"type": "FeatureCollection", "features": features}}


@router.get("/datastreams/{datastream_id}/series")
def series(
    datastream_id: int,
    session: ReadSession,
    _: Annotated[Auth, Depends(require("sensing.read"))],
    start: datetime | None = None,
    end: datetime | None = None,
    level: Annotated[str | None, Query(pattern="^(minute|hour|day)$")] = None,
) -> dict[str, Any]:
    """Buckets from the rollups (count, min, max, average, last) over any range."""
    s, e = _range(start, end)
    lv, points = rollups.series(session, datastream_id=datastream_id, start_us=s, end_us=e, level=level)
    return _series_out(lv, points)


def _range(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """A series' range in microseconds: up to ``end`` (now), from ``start`` (a day before the end)."""
    e = to_us(end or utcnow())
    s = to_us(start) if start else e - DAY_US
    if s >= e:
        raise ValidationFailed("The start must be before the end")
    return s, e


def _series_out(level: str, points: list[rollups.Point]) -> dict[str, Any]:
    return {
        "level": level,
        "points": [
            {"t": iso(p.bucket_us), "n": p.n, "min": p.vmin, "max": p.vmax, "avg": p.avg, "last": p.last}
            for p in points
        ],
    }


@router.get("/multidatastreams/{multi_datastream_id}/series")
def multi_series(
    multi_datastream_id: int,
    session: ReadSession,
    _: Annotated[Auth, Depends(require("sensing.read"))],
    component: Annotated[int, Query(ge=0, lt=1024)] = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    level: Annotated[str | None, Query(pattern="^(minute|hour|day)$")] = None,
) -> dict[str, Any]:
    """Buckets of one component (its position in the result array) of a MultiDatastream, from its rollups."""
    s, e = _range(start, end)
    lv, points = rollups.series_multi(
        session, multi_datastream_id=multi_datastream_id, component=component, start_us=s, end_us=e, level=level
    )
    return _series_out(lv, points)


class RuleIn(BaseModel):
    name: str
    description: str = ""
    enabled: bool = True
    severity: str
    condition: dict[str, Any]
    datastream_id: int | None = None
    observed_property_id: int | None = None
    device_class: str | None = None
    case_category_code: str | None = None
    dedupe_seconds: int = Field(3600, ge=0)


def rule_out(r: Rule) -> dict[str, Any]:
    return {k: getattr(r, k) for k in rules.RULE_FIELDS} | {"id": r.id}


@router.get("/rules")
def list_rules(session: ReadSession, _: Annotated[Auth, Depends(require("sensing.read"))]) -> list[dict[str, Any]]:
    return [rule_out(r) for r in rules.list_rules(session)]


@router.post("/rules", status_code=201)
def create_rule(
    body: RuleIn, session: WriteSession, a: Annotated[Auth, Depends(require("sensing.rules"))]
) -> dict[str, Any]:
    return rule_out(rules.save(session, actor=a.actor, data=body.model_dump()))


@router.put("/rules/{rule_id}")
def update_rule(
    rule_id: int, body: RuleIn, session: WriteSession, a: Annotated[Auth, Depends(require("sensing.rules"))]
) -> dict[str, Any]:
    return rule_out(rules.save(session, actor=a.actor, data=body.model_dump(), rule_id=rule_id))


class PreviewIn(BaseModel):
    condition: dict[str, Any]
    datastream_id: int | None = None
    observed_property_id: int | None = None
    device_class: str | None = None
    days: int = Field(7, ge=1, le=90)


@router.post("/rules/preview")
def preview_rule(
    body: PreviewIn, session: ReadSession, _: Annotated[Auth, Depends(require("sensing.read"))]
) -> dict[str, Any]:
    """ "This rule would have fired N times" over the last days of real data."""
    probe = Rule(
        datastream_id=body.datastream_id, observed_property_id=body.observed_property_id, device_class=body.device_class
    )
    if not (body.datastream_id or body.observed_property_id or body.device_class):
        raise ValidationFailed("Choose a datastream, an observed property or a device class")
    p = rules.preview(
        session, condition=body.condition, datastream_ids=rules.datastreams_of(session, probe), days=body.days
    )
    return {
        "fired": p.fired,
        "cleared": p.cleared,
        "observations": p.observations,
        "days": p.days,
        "events": [e | {"t": iso(e["t_us"])} for e in p.events],
    }


def alarm_out(a: Alarm) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": str(a.kind),
        "rule_id": a.rule_id,
        "thing_id": a.thing_id,
        "datastream_id": a.datastream_id,
        "severity": str(a.severity),
        "state": str(a.state),
        "title": a.title,
        "value": a.value,
        "times": a.times,
        "raised_at": a.raised_at.isoformat(),
        "last_raised_at": a.last_raised_at.isoformat(),
        "acknowledged_by": a.acknowledged_by,
        "cleared_by": a.cleared_by,
        "case_id": a.case_id,
        "case_number": a.case_number,
        "case_error": a.case_error,
    }


@router.get("/alarms")
def list_alarms(
    session: ReadSession, _: Annotated[Auth, Depends(require("sensing.read"))], state: list[str] | None = Query(None)
) -> list[dict[str, Any]]:
    return [alarm_out(a) for a in alarms.list_alarms(session, states=state)]


@router.get("/alarms/{alarm_id}")
def get_alarm(
    alarm_id: int, session: ReadSession, _: Annotated[Auth, Depends(require("sensing.read"))]
) -> dict[str, Any]:
    a = alarms.get(session, alarm_id=alarm_id)
    return alarm_out(a) | {
        "observations": [
            {"id": o.observation_id, "t": iso(o.phenomenon_us), "result": o.result}
            for o in alarms.observations_of(session, alarm_id=a.id)
        ],
        "events": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "by": e.actor_name,
                "note": e.note,
            }
            for e in alarms.events_of(session, alarm_id=a.id)
        ],
    }


class AlarmActionIn(BaseModel):
    note: str | None = None


@router.post("/alarms/{alarm_id}/acknowledge")
def acknowledge(
    alarm_id: int, body: AlarmActionIn, session: WriteSession, a: Annotated[Auth, Depends(require("alarm.ack"))]
) -> dict[str, Any]:
    alarm = alarms.get(session, alarm_id=alarm_id)
    return alarm_out(alarms.apply(session, alarm=alarm, action="acknowledge", actor=a.actor, note=body.note))


@router.post("/alarms/{alarm_id}/clear")
def clear(
    alarm_id: int, body: AlarmActionIn, session: WriteSession, a: Annotated[Auth, Depends(require("alarm.ack"))]
) -> dict[str, Any]:
    alarm = alarms.get(session, alarm_id=alarm_id)
    return alarm_out(flows.clear(session, alarm=alarm, actor=a.actor, note=body.note))


__all__ = ["devices", "router"]
