"""Road incidents (道路事件): written as drafts, published as public notices, ended by hand or when their end
passes (job ``safety.traffic.expire``).

    draft ──publish──▶ published ──end──▶ ended
      └────────────────discard (delete)

One transition table (``TRANSITIONS``); every write is audited. A published incident is on the public page
``/portal/roads`` and in ``GET /api/v1/safety/traffic/notices`` until it ends; the internal note never is.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, TransitionNotAllowed
from countyos.core.i18n import N_, gettext, use_locale
from countyos.org.service import audit
from countyos.safety.models.traffic import IncidentKind, IncidentSeverity, IncidentState, RoadIncident, RoadSegment
from countyos.safety.schemas.traffic import IncidentIn, PublicNoticeOut
from countyos.safety.service import traffic

MAX_INCIDENTS = 500

INCIDENT_KIND_NAMES = {
    IncidentKind.ACCIDENT: N_("Accident"),
    IncidentKind.CONGESTION: N_("Congestion"),
    IncidentKind.CONSTRUCTION: N_("Road works"),
    IncidentKind.CLOSURE: N_("Road closed"),
    IncidentKind.OTHER: N_("Other incident"),
}
INCIDENT_KIND_COLOURS = {
    IncidentKind.ACCIDENT: "#dc2626",
    IncidentKind.CONGESTION: "#f59e0b",
    IncidentKind.CONSTRUCTION: "#2563eb",
    IncidentKind.CLOSURE: "#7f1d1d",
    IncidentKind.OTHER: "#6b7280",
}
SEVERITY_NAMES = {
    IncidentSeverity.MINOR: N_("Minor: traffic slowed"),
    IncidentSeverity.MAJOR: N_("Major: lanes closed"),
    IncidentSeverity.SEVERE: N_("Severe: road impassable"),
}
STATE_NAMES = {
    IncidentState.DRAFT: N_("Draft"),
    IncidentState.PUBLISHED: N_("Published"),
    IncidentState.ENDED: N_("Ended"),
}
ACTION_NAMES = {"publish": N_("Publish"), "end": N_("End"), "edit": N_("Edit"), "discard": N_("Discard")}

# (state, action) → the state after it; "edit" keeps the state
TRANSITIONS: dict[tuple[IncidentState, str], IncidentState] = {
    (IncidentState.DRAFT, "edit"): IncidentState.DRAFT,
    (IncidentState.DRAFT, "publish"): IncidentState.PUBLISHED,
    (IncidentState.DRAFT, "discard"): IncidentState.DRAFT,
    (IncidentState.PUBLISHED, "edit"): IncidentState.PUBLISHED,
    (IncidentState.PUBLISHED, "end"): IncidentState.ENDED,
}


def allowed(state: IncidentState) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == state]


def _step(incident: RoadIncident, action: str) -> IncidentState:
    after = TRANSITIONS.get((incident.state, action))
    if after is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not allowed when the incident is %(state)s"),
            action=ACTION_NAMES.get(action, action),
            state=STATE_NAMES[incident.state],
            allowed=allowed(incident.state),
            current_state=incident.state.value,
        )
    return after


def get_incident(session: Session, incident_id: int) -> RoadIncident:
    incident = session.get(RoadIncident, incident_id)
    if incident is None:
        raise NotFound(N_("No such road incident"))
    return incident


def list_incidents(
    session: Session, *, state: IncidentState | None = None, limit: int = MAX_INCIDENTS
) -> list[RoadIncident]:
    stmt = select(RoadIncident)
    if state is not None:
        stmt = stmt.where(RoadIncident.state == state)
    return list(session.scalars(stmt.order_by(RoadIncident.starts_at.desc(), RoadIncident.id.desc()).limit(limit)))


_FIELDS = (
    "kind",
    "title",
    "description",
    "severity",
    "road_id",
    "from_words",
    "to_words",
    "lon",
    "lat",
    "line",
    "starts_at",
    "ends_at",
    "detour",
    "note",
)


def _check_road(session: Session, data: IncidentIn) -> None:
    if data.road_id is not None:
        traffic.get_road(session, data.road_id)


def create_incident(session: Session, *, actor: Actor, data: IncidentIn) -> RoadIncident:
    _check_road(session, data)
    incident = RoadIncident(
        token=secrets.token_urlsafe(12),
        state=IncidentState.DRAFT,
        created_by=actor.id,
        **{f: getattr(data, f) for f in _FIELDS},
    )
    session.add(incident)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.incident_create",
        target_type="safety_road_incident",
        target_id=incident.id,
        detail={"kind": incident.kind.value, "title": incident.title},
    )
    return incident


def update_incident(session: Session, *, actor: Actor, incident_id: int, data: IncidentIn) -> RoadIncident:
    incident = get_incident(session, incident_id)
    _step(incident, "edit")
    _check_road(session, data)
    changed = []
    for f in _FIELDS:
        if getattr(incident, f) != getattr(data, f):
            changed.append(f)
            setattr(incident, f, getattr(data, f))
    incident.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.incident_update",
        target_type="safety_road_incident",
        target_id=incident.id,
        detail={"changed": changed, "state": incident.state.value},
    )
    return incident


def publish(session: Session, *, actor: Actor, incident_id: int, now: datetime | None = None) -> RoadIncident:
    """Publish a draft as a public notice (the caller holds ``safety.traffic.manage``)."""
    incident = get_incident(session, incident_id)
    incident.state = _step(incident, "publish")
    incident.published_at = incident.updated_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.incident_publish",
        target_type="safety_road_incident",
        target_id=incident.id,
        detail={"title": incident.title},
    )
    return incident


def end(session: Session, *, actor: Actor, incident_id: int, now: datetime | None = None) -> RoadIncident:
    incident = get_incident(session, incident_id)
    incident.state = _step(incident, "end")
    incident.ended_at = incident.updated_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.incident_end",
        target_type="safety_road_incident",
        target_id=incident.id,
        detail={"title": incident.title, "by": "hand"},
    )
    return incident


def discard(session: Session, *, actor: Actor, incident_id: int) -> None:
    """Delete a draft (never a published or ended incident: they are the public record)."""
    incident = get_incident(session, incident_id)
    _step(incident, "discard")
    audit.record(
        session,
        actor=actor,
        action="safety.traffic.incident_discard",
        target_type="safety_road_incident",
        target_id=incident.id,
        detail={"title": incident.title},
    )
    session.delete(incident)
    session.flush()


def expire(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """End every published incident whose end has passed (the job ``safety.traffic.expire``)."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(RoadIncident).where(
                RoadIncident.state == IncidentState.PUBLISHED,
                RoadIncident.ends_at.is_not(None),
                RoadIncident.ends_at <= now,
            )
        )
    )
    for incident in due:
        incident.state = _step(incident, "end")
        incident.ended_at = incident.updated_at = now
        audit.record(
            session,
            actor=actor,
            action="safety.traffic.incident_end",
            target_type="safety_road_incident",
            target_id=incident.id,
            detail={"title": incident.title, "by": "expiry"},
        )
    session.flush()
    return len(due)


def in_force(session: Session, *, now: datetime | None = None) -> list[RoadIncident]:
    """Published incidents not yet past their end (ahead of the job), the soonest start first."""
    now = now or utcnow()
    rows = session.scalars(
        select(RoadIncident)
        .where(RoadIncident.state == IncidentState.PUBLISHED)
        .order_by(RoadIncident.starts_at, RoadIncident.id)
        .limit(MAX_INCIDENTS)
    )
    return [r for r in rows if r.ends_at is None or r.ends_at > now]


def road_words(session: Session, incidents: list[RoadIncident]) -> dict[int, str]:
    """Incident id → its road's code and name ("G235 大柘—城区")."""
    out = {}
    for i in incidents:
        if i.road_id is None:
            continue
        road = session.get(RoadSegment, i.road_id)
        if road is not None:
            out[i.id] = " ".join(x for x in (road.code or "", road.name) if x)
    return out


def public_notices(session: Session, *, locale: str, now: datetime | None = None) -> list[PublicNoticeOut]:
    """The notices in force for anyone: no id, no person, no internal note."""
    now = now or utcnow()
    rows = in_force(session, now=now)
    roads = road_words(session, rows)
    out = []
    with use_locale(locale):
        for r in rows:
            lon, lat, line = r.lon, r.lat, r.line
            road = session.get(RoadSegment, r.road_id) if r.road_id is not None else None
            if road is not None and line is None:  # where on the map: the chosen segment
                line = [[round(x, 6), round(y, 6)] for x, y, *_ in road.geom.simplify(0.0002).coords][:200]
            if road is not None and lon is None:
                mid = road.geom.interpolate(0.5, normalized=True)
                lon, lat = round(mid.x, 6), round(mid.y, 6)
            out.append(
                PublicNoticeOut(
                    token=r.token,
                    kind=r.kind,
                    kind_words=gettext(INCIDENT_KIND_NAMES[r.kind]),
                    title=r.title,
                    description=r.description,
                    severity=r.severity,
                    severity_words=gettext(SEVERITY_NAMES[r.severity]),
                    road=roads.get(r.id, ""),
                    from_words=r.from_words,
                    to_words=r.to_words,
                    lon=lon,
                    lat=lat,
                    line=line,
                    starts_at=r.starts_at,
                    ends_at=r.ends_at,
                    in_force=r.starts_at <= now,
                    detour=r.detour,
                    updated_at=r.updated_at,
                )
            )
    return out
