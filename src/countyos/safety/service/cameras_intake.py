"""Intake of events posted by the analysis boxes (视频智能发现): each event is recorded with its outcome.

``check`` refuses what cannot be an event (a time more than 10 minutes ahead or older than 7 days; a
snapshot that is not base64, larger than 2 MB decoded, not a JPEG or PNG by its header, or with too many
pixels), before anything is written. ``intake`` then decides, in this order:

1. a repeated ``external_id`` of the same camera → the first answer again, nothing written;
2. an unknown or inactive camera → 422 on the field ``camera``;
3. a type that is unknown, disabled or without a case category → ``unmapped`` (202), kept with its
   snapshot and listed for staff to map;
4. confidence under the type's threshold → ``below_threshold`` (200), kept 30 days for tuning;
5. an earlier accepted event of the type on the same camera (or on a camera within the type's radius)
   whose time is within the type's window of this one → ``duplicate`` (200): the first event's count
   goes up by one, no case;
6. else ``case`` (201): a case through ``cases.service.cases.create`` with channel CAMERA, the type's
   category and priority, at the camera's position (placed and routed like any case), the snapshot as
   its first photo.

An event that opens a case is audited by the case's own report record (``case.report``, channel
camera); every other event writes one record, ``safety.cameras.event``. Cameras and types are read
from in-memory caches emptied when their tables are written (``core.hotcache``).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from countyos.cases.models import Channel
from countyos.cases.service import attachments, categories
from countyos.cases.service import cases as case_service
from countyos.core.actor import Actor
from countyos.core.clock import to_local, utcnow
from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.safety.models.cameras import CameraEvent, EventOutcome
from countyos.safety.schemas.cameras import CameraEventIn
from countyos.safety.service import cameras

MAX_SNAPSHOT_BYTES = 2_000_000
MAX_SNAPSHOT_PIXELS = 24_000_000
SNAPSHOT_TYPES = ("image/jpeg", "image/png")
MAX_AHEAD = timedelta(minutes=10)
MAX_AGE = timedelta(days=7)
KEEP_BELOW_THRESHOLD = timedelta(days=30)

STATUS = {
    EventOutcome.CASE: 201,
    EventOutcome.BELOW_THRESHOLD: 200,
    EventOutcome.DUPLICATE: 200,
    EventOutcome.UNMAPPED: 202,
}
OUTCOME_NAMES = {
    EventOutcome.CASE: N_("Case opened"),
    EventOutcome.BELOW_THRESHOLD: N_("Below threshold"),
    EventOutcome.DUPLICATE: N_("Duplicate"),
    EventOutcome.UNMAPPED: N_("Unmapped type"),
}

TIME_OFFSET = N_("The time needs its offset from UTC (ISO 8601, e.g. 2026-12-04T10:00:00+08:00)")
TIME_AHEAD = N_("The time is more than 10 minutes in the future")
TIME_OLD = N_("The time is more than 7 days ago")
SNAPSHOT_BASE64 = N_("The snapshot is not base64")
SNAPSHOT_LARGE = N_("The snapshot may be at most 2 MB")
SNAPSHOT_TYPE = N_("The snapshot must be a JPEG or PNG image")
SNAPSHOT_PIXELS = N_("The snapshot has too many pixels")
SNAPSHOT_BROKEN = N_("The snapshot could not be read (damaged or not really an image)")
CAMERA_UNKNOWN = N_("No active camera has this code")


@dataclass(frozen=True)
class Checked:
    """An event that passed the checks that need no database: its time in UTC, its snapshot's bytes."""

    data: CameraEventIn
    at: datetime
    snapshot: bytes | None


def check(data: CameraEventIn, *, now: datetime | None = None) -> Checked:
    """The checks of ``intake`` that need no database (run before the write; each names its field)."""
    now = now or utcnow()
    if data.time.tzinfo is None or data.time.utcoffset() is None:
        raise ValidationFailed.on_field("time", TIME_OFFSET)
    at = data.time.astimezone(UTC)
    if at > now + MAX_AHEAD:
        raise ValidationFailed.on_field("time", TIME_AHEAD)
    if at < now - MAX_AGE:
        raise ValidationFailed.on_field("time", TIME_OLD)
    return Checked(data, at, decode_snapshot(data.snapshot) if data.snapshot else None)


def decode_snapshot(text: str) -> bytes:
    """The snapshot's bytes: base64 of a JPEG or PNG of at most 2 MB and ``MAX_SNAPSHOT_PIXELS`` pixels
    by its header (nothing decoded here; the stored copy is decoded bounded by ``cases.attachments``)."""
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    if len(text) > (MAX_SNAPSHOT_BYTES // 3 + 1) * 4 + 4:
        raise PayloadTooLarge(SNAPSHOT_LARGE)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.on_field("snapshot", SNAPSHOT_BASE64) from exc
    if len(raw) > MAX_SNAPSHOT_BYTES:
        raise PayloadTooLarge(SNAPSHOT_LARGE)
    if attachments.sniff(raw) not in SNAPSHOT_TYPES:
        raise ValidationFailed.on_field("snapshot", SNAPSHOT_TYPE)
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as im:
            width, height = im.size  # the header only
    except Exception as exc:
        raise ValidationFailed.on_field("snapshot", SNAPSHOT_BROKEN) from exc
    if width * height > MAX_SNAPSHOT_PIXELS:
        raise ValidationFailed.on_field("snapshot", SNAPSHOT_PIXELS)
    return raw


def answer_of(ev: CameraEvent) -> dict[str, Any]:
    """The status and body of an event's answer (the same again for a repeated external id)."""
    body: dict[str, Any] = {"outcome": str(ev.outcome), "event_id": ev.id}
    if ev.outcome is EventOutcome.CASE:
        body["case_number"] = ev.case_number
    elif ev.outcome is EventOutcome.DUPLICATE:
        body["of"] = ev.duplicate_of_id
        body["case_number"] = ev.case_number
    return {"status": STATUS[ev.outcome], "body": body}


def _type(session: Session, code: str) -> cameras.TypeInfo | None:
    t = cameras.type_info(session, code=code)
    if t is None and cameras.get_type(session, code=code) is None:
        cameras.ensure_types(session)  # a database that has never loaded the types loads them now
        t = cameras.type_info(session, code=code)
    return t


def _near_ids(session: Session, cam: cameras.CameraInfo, radius_m: int) -> list[int]:
    """The active cameras within RADIUS_M metres of CAM (itself included)."""
    if radius_m <= 0:
        return [cam.id]
    cos_lat = math.cos(math.radians(cam.lat))
    out = []
    for other in cameras.all_cameras(session).values():
        dx = (other.lon - cam.lon) * 111_320 * cos_lat
        dy = (other.lat - cam.lat) * 111_320
        if other.id == cam.id or math.hypot(dx, dy) <= radius_m:
            out.append(other.id)
    return out


def first_event(session: Session, *, cam: cameras.CameraInfo, t: cameras.TypeInfo, at: datetime) -> CameraEvent | None:
    """The latest accepted event of type T on CAM (or a camera within the type's radius) whose time is
    within the type's dedupe window of AT, if any."""
    if t.dedupe_seconds <= 0:
        return None
    window = timedelta(seconds=t.dedupe_seconds)
    ids = _near_ids(session, cam, t.dedupe_radius_m)
    same_camera = CameraEvent.camera_id == ids[0] if len(ids) == 1 else CameraEvent.camera_id.in_(ids)
    return session.scalar(
        select(CameraEvent)
        .where(
            CameraEvent.type_code == t.code,
            same_camera,
            CameraEvent.occurred_at >= at - window,
            CameraEvent.occurred_at <= at + window,
            CameraEvent.outcome == EventOutcome.CASE,
        )
        .order_by(CameraEvent.occurred_at.desc())
        .limit(1)
    )


def _mapped(session: Session, t: cameras.TypeInfo | None) -> categories.CategoryInfo | None:
    if t is None or not t.enabled or not t.category_code:
        return None
    cat = categories.info_by_service_code(session, code=t.category_code)
    if cat is None or cat.is_group or not cat.is_active:
        return None
    return cat


def intake(
    session: Session, *, actor: Actor, checked: Checked, now: datetime | None = None, audited: bool = True
) -> dict[str, Any]:
    """Record one event and decide what becomes of it; the answer as {status, body} (plain data)."""
    now = now or utcnow()
    data, at = checked.data, checked.at
    cam = cameras.camera_info(session, code=data.camera)
    if cam is None or not cam.active:
        raise ValidationFailed.on_field("camera", CAMERA_UNKNOWN)
    if data.external_id:
        seen = session.scalar(
            select(CameraEvent).where(
                and_(CameraEvent.camera_id == cam.id, CameraEvent.external_id == data.external_id)
            )
        )
        if seen is not None:
            return answer_of(seen)
    t = _type(session, data.type)
    cat = _mapped(session, t)
    ev = CameraEvent(
        camera_id=cam.id,
        type_code=data.type,
        occurred_at=at,
        received_at=now,
        confidence=data.confidence,
        box=list(data.box) if data.box else None,
        external_id=data.external_id,
        count=1,
        extra={},
    )
    first: CameraEvent | None = None
    if t is None or cat is None:
        ev.outcome = EventOutcome.UNMAPPED
    elif data.confidence < t.threshold:
        ev.outcome = EventOutcome.BELOW_THRESHOLD
    else:
        first = first_event(session, cam=cam, t=t, at=at)
        ev.outcome = EventOutcome.DUPLICATE if first is not None else EventOutcome.CASE
    if first is not None:
        first.count += 1
        first.last_at = max(first.last_at or first.occurred_at, at)
        ev.duplicate_of_id, ev.case_id, ev.case_number = first.id, first.case_id, first.case_number
    keep_snapshot = checked.snapshot is not None and ev.outcome in (EventOutcome.CASE, EventOutcome.UNMAPPED)
    if keep_snapshot:
        assert checked.snapshot is not None
        suffix = "png" if checked.snapshot.startswith(b"\x89PNG") else "jpg"
        photo = attachments.store(
            session,
            actor=actor,
            data=checked.snapshot,
            name=f"{cam.code}-{data.type}.{suffix}",
            audited=False,
        )
        ev.snapshot_id = photo.id
    if ev.outcome is EventOutcome.CASE:
        assert t is not None and cat is not None
        case = _open_case(session, actor=actor, cam=cam, t=t, cat=cat, ev=ev, at=at, now=now)
        ev.case_id, ev.case_number = case.id, case.number
    racing = data.external_id and session.get_bind().dialect.name == "postgresql"
    if racing:  # a concurrent repeat of the same external id may win the race: answer with its row
        try:
            with session.begin_nested():
                session.add(ev)
                session.flush()
        except IntegrityError:
            seen = session.scalar(
                select(CameraEvent).where(CameraEvent.camera_id == cam.id, CameraEvent.external_id == data.external_id)
            )
            if seen is not None:
                return answer_of(seen)
            raise
    else:
        session.add(ev)
    if audited and ev.outcome is not EventOutcome.CASE:  # a case's report is audited by cases.create
        audit.record(
            session,
            actor=actor,
            action="safety.cameras.event",
            target_type="safety_camera_event",
            target_id=_flushed(session, ev).id,
            detail={
                "camera": cam.code,
                "type": data.type,
                "confidence": data.confidence,
                "outcome": str(ev.outcome),
                "case": ev.case_number,
                "of": ev.duplicate_of_id,
                "snapshot": ev.snapshot_id,
            },
        )
    if ev.id is None:
        session.flush()
    return answer_of(ev)


def _flushed(session: Session, ev: CameraEvent) -> CameraEvent:
    if ev.id is None:
        session.flush()
    return ev


def _open_case(
    session: Session,
    *,
    actor: Actor,
    cam: cameras.CameraInfo,
    t: cameras.TypeInfo,
    cat: categories.CategoryInfo,
    ev: CameraEvent,
    at: datetime,
    now: datetime,
) -> Any:
    local = to_local(at, get_settings().timezone)
    description = (
        f"视频智能发现：{t.name_zh}。摄像机 {cam.name}（{cam.code}），"
        f"{local:%Y-%m-%d %H:%M:%S}，置信度 {ev.confidence:.2f}。"
    )
    new = case_service.NewCase(
        channel=Channel.CAMERA,
        category_id=cat.id,
        description=description,
        lon=cam.lon,
        lat=cam.lat,
        address=cam.place or cam.name,
        title=f"{t.name_zh} · {cam.name}",
        priority=t.priority,
        attributes={
            "camera": cam.code,
            "camera_name": cam.name,
            "event_type": t.code,
            "confidence": round(ev.confidence, 4),
            "box": ev.box,
            "detected_at": at.isoformat(),
        },
        attachment_ids=[ev.snapshot_id] if ev.snapshot_id else [],
        reporter=case_service.ReporterIn(user_id=actor.id),
        context={"camera": cam.code, "event_type": t.code},
    )
    case, _reporter, _created = case_service.create(session, actor=actor, new=new, now=now)
    return case


# --- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    outcome: EventOutcome | None = None
    camera_id: int | None = None
    type_code: str | None = None
    since: datetime | None = None


def list_events(session: Session, f: EventFilter = EventFilter(), *, limit: int = 200) -> list[CameraEvent]:
    stmt = select(CameraEvent)
    if f.outcome is not None:
        stmt = stmt.where(CameraEvent.outcome == f.outcome)
    if f.camera_id is not None:
        stmt = stmt.where(CameraEvent.camera_id == f.camera_id)
    if f.type_code:
        stmt = stmt.where(CameraEvent.type_code == f.type_code)
    if f.since is not None:
        stmt = stmt.where(CameraEvent.occurred_at >= f.since)
    return list(session.scalars(stmt.order_by(CameraEvent.occurred_at.desc(), CameraEvent.id.desc()).limit(limit)))


def counts_by_type(session: Session, *, since: datetime) -> dict[str, dict[str, int]]:
    """Events since SINCE per type and outcome: {type: {outcome: n}}."""
    from sqlalchemy import func

    out: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(CameraEvent.type_code, CameraEvent.outcome, func.count())
        .where(CameraEvent.occurred_at >= since)
        .group_by(CameraEvent.type_code, CameraEvent.outcome)
    ).all()
    for code, outcome, n in rows:
        out.setdefault(str(code), {})[str(outcome)] = int(n)
    return out


def unmapped(session: Session, *, limit: int = 100) -> list[tuple[str, int, datetime]]:
    """Type codes of unmapped events still without a usable mapping: (code, events, latest)."""
    from sqlalchemy import func

    rows = session.execute(
        select(CameraEvent.type_code, func.count(), func.max(CameraEvent.occurred_at))
        .where(CameraEvent.outcome == EventOutcome.UNMAPPED)
        .group_by(CameraEvent.type_code)
        .order_by(func.max(CameraEvent.occurred_at).desc())
        .limit(limit)
    ).all()
    out = []
    for code, n, latest in rows:
        if _mapped(session, cameras.type_info(session, code=str(code))) is None:
            out.append((str(code), int(n), latest))
    return out


def snapshot_of(session: Session, *, event_id: int) -> Any:
    """The snapshot attachment of an event (staff only: the route checks the permission)."""
    from countyos.core.errors import NotFound

    ev = session.get(CameraEvent, event_id)
    if ev is None or ev.snapshot_id is None:
        raise NotFound(N_("This event has no snapshot"))
    return attachments.get(session, attachment_id=ev.snapshot_id)


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Delete below-threshold events older than 30 days (kept that long for tuning thresholds)."""
    from sqlalchemy import delete

    cutoff = (now or utcnow()) - KEEP_BELOW_THRESHOLD
    result = session.execute(
        delete(CameraEvent).where(
            or_(CameraEvent.outcome == EventOutcome.BELOW_THRESHOLD),
            CameraEvent.received_at < cutoff,
        )
    )
    n = int(getattr(result, "rowcount", 0) or 0)
    if n:
        audit.record(
            session,
            actor=None,
            action="safety.cameras.purge",
            target_type="safety_camera_event",
            target_id=None,
            detail={"deleted": n, "before": cutoff.isoformat()},
        )
    return n
