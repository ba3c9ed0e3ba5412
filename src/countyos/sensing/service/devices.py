"""Devices as operations sees them: things with their datastreams described as data, per-device
ingest tokens, and retention classes.

A device is registered from a :class:`DeviceSpec` (home-assistant's habit: the channels of a device
are a list of frozen descriptions, not code): each :class:`MetricSpec` becomes a datastream keyed by
its ``metric`` name, which is also the key in the device's ``county/{device}/telemetry`` messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import new_token, token_hash
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.org.service import audit
from countyos.sensing.models import (
    Datastream,
    DeviceToken,
    FeatureOfInterest,
    Location,
    ObservedProperty,
    RetentionClass,
    Sensor,
    Thing,
)
from countyos.sensing.service import geometry, streams

TOKEN_PREFIX = "dev_"


@dataclass(frozen=True)
class MetricSpec:
    metric: str  # key in telemetry messages, e.g. "water_level"
    name: str  # observed property, e.g. "水位"
    unit_name: str
    unit_symbol: str
    definition: str = ""
    valid_min: float | None = None
    valid_max: float | None = None
    retention: str | None = None  # retention class code


@dataclass(frozen=True)
class DeviceSpec:
    device_key: str
    name: str
    device_class: str
    lon: float
    lat: float
    metrics: tuple[MetricSpec, ...]
    description: str = ""
    expected_interval_s: int | None = 300
    sensor_name: str | None = None
    properties: dict[str, object] = field(default_factory=dict)
    gateway_key: str | None = None


DEFAULT_CLASSES = [
    # code, name, raw days, minute-rollup days, hour-rollup days (None: for ever), day-rollup days
    ("standard", "标准（原始数据 90 天）", 90, 400, None, None),
    ("high_rate", "高频（原始数据 30 天）", 30, 180, 3650, None),
    ("critical", "防汛关键（原始数据 3 年）", 1095, 1095, None, None),
]


def ensure_retention_classes(session: Session) -> dict[str, RetentionClass]:
    have = {c.code: c for c in session.scalars(select(RetentionClass))}
    for code, name, raw, minute, hour, day in DEFAULT_CLASSES:
        if code not in have:
            c = RetentionClass(code=code, name=name, raw_days=raw, minute_days=minute, hour_days=hour, day_days=day)
            session.add(c)
            have[code] = c
    session.flush()
    return have


def retention_classes(session: Session) -> list[RetentionClass]:
    return list(session.scalars(select(RetentionClass).order_by(RetentionClass.id)))


def update_retention_class(
    session: Session,
    *,
    actor: Actor,
    class_id: int,
    raw_days: int,
    minute_days: int,
    hour_days: int | None,
    day_days: int | None,
) -> RetentionClass:
    c = session.get(RetentionClass, class_id)
    if c is None:
        raise NotFound("Retention class %(id)s does not exist", id=class_id)
    for v in (raw_days, minute_days, hour_days, day_days):
        if v is not None and v < 1:
            raise ValidationFailed("Retention periods are whole days, at least 1")
    before = {"raw": c.raw_days, "minute": c.minute_days, "hour": c.hour_days, "day": c.day_days}
    c.raw_days, c.minute_days, c.hour_days, c.day_days = raw_days, minute_days, hour_days, day_days
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="sensing.retention.update",
        target_type="retention_class",
        target_id=c.code,
        detail={
            "before": before,
            "after": {"raw": raw_days, "minute": minute_days, "hour": hour_days, "day": day_days},
        },
    )
    return c


def observed_property(session: Session, *, name: str, definition: str = "") -> ObservedProperty:
    op = session.scalar(select(ObservedProperty).where(ObservedProperty.name == name).limit(1))
    if op is None:
        op = ObservedProperty(name=name, definition=definition, description=name)
        session.add(op)
        session.flush()
    return op


def sensor(session: Session, *, name: str) -> Sensor:
    s = session.scalar(select(Sensor).where(Sensor.name == name).limit(1))
    if s is None:
        s = Sensor(name=name, description=name, encoding_type="text/plain", meta="")
        session.add(s)
        session.flush()
    return s


def get_thing(session: Session, *, thing_id: int) -> Thing:
    t = session.get(Thing, thing_id)
    if t is None:
        raise NotFound("Device %(id)s does not exist", id=thing_id)
    return t


def get_by_key(session: Session, *, device_key: str) -> Thing | None:
    return session.scalar(select(Thing).where(Thing.device_key == device_key))


def register(session: Session, *, actor: Actor, spec: DeviceSpec) -> Thing:
    """A thing at a point with one datastream per metric (and the feature of interest they observe)."""
    if get_by_key(session, device_key=spec.device_key) is not None:
        raise ValidationFailed("A device with the key %(key)s exists already", key=spec.device_key)
    classes = ensure_retention_classes(session)
    gateway = get_by_key(session, device_key=spec.gateway_key) if spec.gateway_key else None
    geo = geometry.point(spec.lon, spec.lat)
    loc = Location(name=spec.name, description=spec.description or spec.name, location=geo, **geometry.describe(geo))
    foi = FeatureOfInterest(
        name=spec.name, description=spec.description or spec.name, feature=geo, **geometry.describe(geo)
    )
    thing = Thing(
        name=spec.name,
        description=spec.description or spec.name,
        properties=dict(spec.properties) or None,
        device_key=spec.device_key,
        device_class=spec.device_class,
        gateway_id=gateway.id if gateway else None,
        expected_interval_s=spec.expected_interval_s,
        lon=spec.lon,
        lat=spec.lat,
    )
    thing.locations = [loc]
    session.add_all([thing, foi])
    session.flush()
    sens = sensor(session, name=spec.sensor_name or spec.device_class)
    for m in spec.metrics:
        op = observed_property(session, name=m.name, definition=m.definition)
        rc = classes.get(m.retention or "standard")
        session.add(
            Datastream(
                name=f"{spec.name} {m.name}",
                description=f"{spec.name} {m.name}",
                unit={"name": m.unit_name, "symbol": m.unit_symbol, "definition": ""},
                unit_symbol=m.unit_symbol,
                thing_id=thing.id,
                sensor_id=sens.id,
                observed_property_id=op.id,
                metric=m.metric,
                valid_min=m.valid_min,
                valid_max=m.valid_max,
                retention_class_id=rc.id if rc else None,
                default_foi_id=foi.id,
            )
        )
    session.flush()
    streams.invalidate()
    audit.record(
        session,
        actor=actor,
        action="sensing.device.register",
        target_type="thing",
        target_id=thing.id,
        detail={"key": spec.device_key, "class": spec.device_class, "metrics": [m.metric for m in spec.metrics]},
    )
    return thing


def datastreams_of(session: Session, *, thing_id: int) -> list[Datastream]:
    return list(session.scalars(select(Datastream).where(Datastream.thing_id == thing_id).order_by(Datastream.id)))


def issue_token(session: Session, *, actor: Actor, thing_id: int, name: str) -> tuple[DeviceToken, str]:
    """A device's ingest secret; the plain value is returned once, only its hash is stored."""
    thing = get_thing(session, thing_id=thing_id)
    prefix = new_token(6)[:8]
    plain = f"{TOKEN_PREFIX}{prefix}_{new_token(32)}"
    tok = DeviceToken(thing_id=thing.id, name=name.strip() or thing.name, prefix=prefix, token_hash=token_hash(plain))
    session.add(tok)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="sensing.token.issue",
        target_type="thing",
        target_id=thing.id,
        detail={"token": tok.id, "name": tok.name},
    )
    return tok, plain


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> DeviceToken:
    tok = session.get(DeviceToken, token_id)
    if tok is None:
        raise NotFound("Token %(id)s does not exist", id=token_id)
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="sensing.token.revoke",
            target_type="thing",
            target_id=tok.thing_id,
            detail={"token": tok.id},
        )
    return tok


def resolve_token(session: Session, *, plain: str) -> DeviceToken | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    tok = session.scalar(select(DeviceToken).where(DeviceToken.token_hash == token_hash(plain)))
    if tok is None or tok.revoked_at is not None:
        return None
    return tok


# Device tokens: a write in this process (issue, revoke, a deleted device) takes effect at once, a
# write in another process within TOKEN_TTL_S seconds (as API tokens, ``org.service.tokens``).
TOKEN_TTL_S = 5.0
_TOKEN_THINGS: HotCache[int | None] = HotCache(
    "device tokens", tables=(DeviceToken.__tablename__, Thing.__tablename__), ttl=TOKEN_TTL_S
)


def token_thing(session: Session, *, plain: str) -> int | None:
    """:func:`resolve_token` for the ingest path: the id of the token's device (None: unknown or
    revoked), from a short-lived cache keyed by the token's hash."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    digest = token_hash(plain)

    def load() -> int | None:
        row = session.execute(
            select(DeviceToken.thing_id, DeviceToken.revoked_at).where(DeviceToken.token_hash == digest)
        ).first()
        return None if row is None or row[1] is not None else int(row[0])

    return _TOKEN_THINGS.get(session, digest, load)


def tokens_of(session: Session, *, thing_id: int) -> list[DeviceToken]:
    return list(session.scalars(select(DeviceToken).where(DeviceToken.thing_id == thing_id).order_by(DeviceToken.id)))


def counts_by_health(session: Session) -> dict[str, int]:
    return {str(h): n for h, n in session.execute(select(Thing.health, func.count()).group_by(Thing.health))}


def last_seen(session: Session, *, thing_ids: set[int], at: datetime) -> list[int]:
    """Note that these things reported; returns the ids of those that were not online."""
    if not thing_ids:
        return []
    from sqlalchemy import update

    ids = sorted(thing_ids)
    not_online = list(session.scalars(select(Thing.id).where(Thing.id.in_(ids), Thing.health != "online")))
    # Core UPDATE: the ORM's synchronisation of loaded objects would cost more than the statement.
    things = cast(Table, Thing.__table__)
    session.connection().execute(
        update(things).where(things.c.id.in_(ids)).values(last_seen_at=at, updated_at=things.c.updated_at)
    )
    return not_online
