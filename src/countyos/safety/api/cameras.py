"""API of the camera-detected events (视频智能发现) part, under /api/v1/safety/cameras.

The analysis boxes (an API token, ``Authorization: Bearer cos_…``, of an account with
``safety.camera.feed``):

- ``POST /cameras/events`` — JSON ``{camera, type, time, confidence, snapshot?, box?, external_id?}``:
  ``camera`` the 20-digit GB/T 28181 id of a registered, active camera; ``type`` an event type code;
  ``time`` ISO 8601 with its offset, at most 10 minutes ahead and 7 days back; ``confidence`` 0–1;
  ``snapshot`` base64 of a JPEG or PNG of at most 2 MB; ``box`` ``[x, y, w, h]`` in pixels;
  ``external_id`` the box's own id of the event (the same id twice gets the first answer). Answers:

  - 201 ``{"outcome": "case", "case_number", "event_id"}`` — a case was opened;
  - 200 ``{"outcome": "below_threshold", "event_id"}`` — under the type's confidence threshold;
  - 200 ``{"outcome": "duplicate", "of", "case_number", "event_id"}`` — inside the type's dedupe window
    of event ``of``, whose count went up by one;
  - 202 ``{"outcome": "unmapped", "event_id"}`` — a type without a case category, disabled or unknown;
  - 422 problem+json naming the field (unknown or inactive camera, a bad body, time or image), 413 for
    a snapshot over 2 MB, 401 without a token, 403 without ``safety.camera.feed``.

  The write runs in the group-commit writer (``core.groupcommit``), like Open311 posts; a valid box
  token is known from the tokens' identity cache (``FeedRequirement``), and the intake lane
  (``pages/cameras.IntakeLane``) answers the boxes' events before routing with ``answer_event``.

Staff (``safety.camera.manage``, ``safety.traffic.read`` or ``safety.emergency.read`` to read;
``safety.camera.manage`` to change): ``GET/POST /cameras``, ``GET/PUT /cameras/{id}``,
``POST /cameras/import`` (CSV/XLSX, all or nothing), ``GET /cameras/events?outcome&camera_id&type``,
``GET /cameras/types``, ``PUT /cameras/types/{code}``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import JSONResponse, Response

from countyos.core import groupcommit
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import PayloadTooLarge
from countyos.org.service import tokens
from countyos.safety.models.cameras import EventOutcome
from countyos.safety.permissions import CAMERA_FEED, CAMERA_MANAGE, EMERGENCY_READ, TRAFFIC_READ
from countyos.safety.schemas.cameras import CameraEventIn, CameraIn, EventTypeIn
from countyos.safety.service import cameras, cameras_intake
from countyos.web import deps, forms
from countyos.web.deps import Auth, ReadSession, Requirement, WriteSession, client_ip, get_db, require, require_any

router = APIRouter(prefix="/cameras")


class FeedRequirement(Requirement):
    """``require(CAMERA_FEED)`` for the analysis boxes' hot path: a valid bearer token with the permission
    is known from the tokens' in-memory identity cache (``org.service.tokens.identify``, as Open311
    api_keys are) instead of loading the account with its roles on every event. Anything else — no
    token, an unknown or revoked one, one without the permission, a browser session — takes the usual
    way (``current_auth`` and ``Requirement``), which refuses and records the refusal as ``require`` does."""

    def __init__(self) -> None:
        super().__init__("permission", CAMERA_FEED)

    async def __call__(self, request: Request) -> Actor:  # type: ignore[override]
        actor = await known_feeder(request)
        if actor is not None:
            return actor
        a = await deps.caller(request)
        await Requirement.__call__(self, request, a)
        return deps.actor_of(a)


def _identify(db: Database, plain: str) -> tokens.TokenIdentity | None:
    with db.reading() as s:
        return tokens.identify(s, plain=plain)


Feed = Annotated[Actor, Depends(FeedRequirement())]
Keeper = Annotated[Auth, Depends(require(CAMERA_MANAGE))]
MAX_EVENT_BODY = 3_000_000  # bytes of JSON: a 2 MB snapshot in base64 and the rest
VIEW_PERMISSIONS = (CAMERA_MANAGE, TRAFFIC_READ, EMERGENCY_READ)


def can_view(a: Auth) -> bool:
    return any(a.actor.can(p) for p in VIEW_PERMISSIONS)


VIEW = require_any(*VIEW_PERMISSIONS)
Viewer = Annotated[Auth, Depends(VIEW)]


class CameraOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    lon: float
    lat: float
    direction: int
    height_m: float | None
    place: str
    township_code: str | None
    township_name: str | None
    grid_code: str | None
    department_id: int | None
    active: bool
    notes: str


class EventTypeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    threshold: float
    dedupe_seconds: int
    dedupe_radius_m: int
    category_code: str | None
    priority: str | None
    enabled: bool


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    type_code: str
    occurred_at: datetime
    received_at: datetime
    confidence: float
    outcome: str
    case_number: str | None
    duplicate_of_id: int | None
    count: int
    last_at: datetime | None
    has_snapshot: bool = False
    box: list[int] | None
    external_id: str | None


class ImportOut(BaseModel):
    added: int
    updated: int


EVENTS_PATH = "/api/v1/safety/cameras/events"


@router.post("/events", responses={200: {}, 201: {}, 202: {}, 422: {}, 413: {}})
async def post_event(request: Request, a: Feed) -> Response:
    """An event from an analysis box (see the module's text for the answers)."""
    return await answer_event(request, a)


async def answer_event(request: Request, actor: Actor) -> Response:
    """Read, check and take one event of ACTOR (the route's and the intake lane's answer)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_EVENT_BODY:
        raise PayloadTooLarge(cameras_intake.SNAPSHOT_LARGE)
    raw = await request.body()
    if len(raw) > MAX_EVENT_BODY:
        raise PayloadTooLarge(cameras_intake.SNAPSHOT_LARGE)
    try:
        data = CameraEventIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        ) from exc
    checked = cameras_intake.check(data)
    answer = await groupcommit.for_app(request.app.state, get_db(request)).run(
        partial(_intake, actor=actor, checked=checked)
    )
    return JSONResponse(answer["body"], status_code=answer["status"])


async def known_feeder(request: Request) -> Actor | None:
    """The analysis box of a bearer token that is valid and holds ``safety.camera.feed``, from the
    tokens' identity cache; None when the full check must say (no token, another kind, a refusal)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    ident = await run_in_threadpool(_identify, get_db(request), header[7:].strip())
    if ident is None or CAMERA_FEED not in ident.permissions:
        return None
    return ident.actor(client_ip(request))


def _intake(session: Any, *, actor: Any, checked: cameras_intake.Checked) -> dict[str, Any]:
    return cameras_intake.intake(session, actor=actor, checked=checked)


@router.get("")
def list_cameras(
    session: ReadSession,
    a: Viewer,
    q: Annotated[str, Query(max_length=60)] = "",
    township: Annotated[str, Query(max_length=12)] = "",
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=cameras.MAX_LIST)] = 500,
) -> list[CameraOut]:
    f = cameras.CameraFilter(q=q, township_code=township or None, active=active)
    return [CameraOut.model_validate(c) for c in cameras.list_cameras(session, f, limit=limit)]


@router.post("", status_code=201)
def create_camera(body: CameraIn, session: WriteSession, a: Keeper) -> CameraOut:
    return CameraOut.model_validate(cameras.create(session, actor=a.actor, data=body))


@router.get("/{camera_id:int}")
def get_camera(camera_id: int, session: ReadSession, a: Viewer) -> CameraOut:
    return CameraOut.model_validate(cameras.get(session, camera_id=camera_id))


@router.put("/{camera_id:int}")
def update_camera(camera_id: int, body: CameraIn, session: WriteSession, a: Keeper) -> CameraOut:
    return CameraOut.model_validate(cameras.update(session, actor=a.actor, camera_id=camera_id, data=body))


@router.post("/import")
def import_cameras(file: UploadFile, session: WriteSession, a: Keeper) -> ImportOut:
    data = forms.read_upload(file, cameras.MAX_IMPORT_BYTES)
    report = cameras.import_file(session, actor=a.actor, data=data, filename=file.filename or "")
    return ImportOut(added=report.added, updated=report.updated)


@router.get("/events")
def list_events(
    session: ReadSession,
    a: Viewer,
    outcome: EventOutcome | None = None,
    camera_id: Annotated[int | None, Query(ge=1)] = None,
    type: Annotated[str, Query(max_length=40)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[EventOut]:
    f = cameras_intake.EventFilter(outcome=outcome, camera_id=camera_id, type_code=type or None)
    out = []
    for ev in cameras_intake.list_events(session, f, limit=limit):
        item = EventOut.model_validate(ev)
        item.has_snapshot = ev.snapshot_id is not None
        out.append(item)
    return out


@router.get("/types")
def list_types(session: ReadSession, a: Viewer) -> list[EventTypeOut]:
    return [EventTypeOut.model_validate(t) for t in cameras.list_types(session)]


@router.put("/types/{code}")
def save_type(
    code: Annotated[str, Path(max_length=40)], body: EventTypeIn, session: WriteSession, a: Keeper
) -> EventTypeOut:
    return EventTypeOut.model_validate(cameras.save_type(session, actor=a.actor, code=code, data=body))
