"""Pages of the camera-detected events (视频智能发现) part of the safety domain (``safety.camera.manage``,
``safety.traffic.read`` or ``safety.emergency.read`` to see; ``safety.camera.manage`` to change):

- ``/safety/cameras``: the register on the county's outline, each camera with a cone the way its lens
  faces, and the list with filters; the import of a CSV/XLSX file (all or nothing). No video is shown
  or streamed here.
- ``/safety/cameras/new``, ``/safety/cameras/{id}/edit``: the camera form (errors beside the fields).
- ``/safety/cameras/{id}``: one camera with its recent events and their snapshots.
- ``/safety/cameras/events``: every event with an outcome filter, today's counts per type, and the
  types the boxes send that are not mapped yet.
- ``/safety/cameras/types``: thresholds, dedupe windows and radii, case categories, priorities.
- ``/safety/cameras/events/{id}/snapshot``: an event's snapshot (staff only; never public).

``LANES``: ``IntakeLane`` answers an analysis box's ``POST /api/v1/safety/cameras/events`` before routing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from countyos.cases.models import Priority
from countyos.cases.service import attachments
from countyos.core.clock import county_day_bounds, county_today, utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.geo.service import outline
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.safety.api.cameras import EVENTS_PATH, VIEW, answer_event, known_feeder
from countyos.safety.models.cameras import Camera, CameraEvent, EventOutcome
from countyos.safety.permissions import CAMERA_MANAGE, EMERGENCY_READ, TRAFFIC_READ
from countyos.safety.schemas.cameras import CameraIn, EventTypeIn
from countyos.safety.service import cameras, cameras_intake
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

TRAFFIC = N_("Traffic")
router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    *(NavItem(TRAFFIC, N_("Cameras"), "/safety/cameras", p, order=730) for p in (CAMERA_MANAGE, TRAFFIC_READ)),
    NavItem(TRAFFIC, N_("Cameras"), "/safety/cameras", EMERGENCY_READ, order=730),
    NavItem(TRAFFIC, N_("Camera events"), "/safety/cameras/events", CAMERA_MANAGE, order=731),
    NavItem(TRAFFIC, N_("Camera event types"), "/safety/cameras/types", CAMERA_MANAGE, order=732),
]
Viewer = Annotated[Auth, Depends(VIEW)]
Keeper = Annotated[Auth, Depends(require(CAMERA_MANAGE))]
Short = Annotated[str, Query(max_length=60)]
CAMERA_FIELDS = ("code", "name", "lon", "lat", "direction", "height_m", "place", "department_id", "notes")
TYPE_FIELDS = ("name_zh", "name_en", "threshold", "dedupe_seconds", "dedupe_radius_m", "category_code", "priority")
OUTCOME_COLOURS = {
    EventOutcome.CASE: "#dc2626",
    EventOutcome.BELOW_THRESHOLD: "#9ca3af",
    EventOutcome.DUPLICATE: "#f59e0b",
    EventOutcome.UNMAPPED: "#7c3aed",
}
CONE_DEG, CONE_LEN = 28, 34  # half-angle and length (outline units) of a lens's cone

audit.name_codes(
    actions={
        "safety.cameras.create": N_("Camera added"),
        "safety.cameras.update": N_("Camera changed"),
        "safety.cameras.import": N_("Cameras imported"),
        "safety.cameras.type_save": N_("Camera event type saved"),
        "safety.cameras.event": N_("Camera event received"),
        "safety.cameras.purge": N_("Old below-threshold camera events deleted"),
    },
    targets={
        "safety_camera": N_("Camera"),
        "safety_camera_event": N_("Camera event"),
        "safety_camera_event_type": N_("Camera event type"),
    },
)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "outcome_names": cameras_intake.OUTCOME_NAMES,
            "outcome_colours": OUTCOME_COLOURS,
            "priority_names": cameras.PRIORITY_NAMES,
            **context,
        },
        status_code=status,
    )


def _can_manage(a: Auth) -> bool:
    return a.actor.can(CAMERA_MANAGE)


def _cone(x: float, y: float, direction: int) -> str:
    """The SVG points of a lens's cone from (x, y) toward DIRECTION (degrees clockwise from north)."""
    pts = [f"{x},{y}"]
    for d in (direction - CONE_DEG, direction + CONE_DEG):
        r = math.radians(d)
        pts.append(f"{x + CONE_LEN * math.sin(r):.1f},{y - CONE_LEN * math.cos(r):.1f}")
    return " ".join(pts)


def _map(session: Session, rows: list[Camera]) -> dict[str, Any]:
    try:
        frame = outline.outline(session)
    except CountyError:
        return {"frame": None, "dots": []}
    dots = []
    for c in rows:
        xy = frame.project(c.lon, c.lat)
        if xy is not None:
            dots.append((c, xy[0], xy[1], _cone(xy[0], xy[1], c.direction)))
    return {"frame": frame, "dots": dots}


def _departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.id)))


@router.get("/safety/cameras")
def camera_list(
    request: Request,
    session: ReadSession,
    a: Viewer,
    q: Short = "",
    township: Short = "",
    active: Short = "",
) -> Response:
    return _list_page(request, session, a, q=q, township=township, active=active)


def _list_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    q: str = "",
    township: str = "",
    active: str = "",
    import_error: str | None = None,
    import_rows: list[str] | None = None,
) -> Response:
    flag = {"yes": True, "no": False}.get(active)
    rows = cameras.list_cameras(
        session, cameras.CameraFilter(q=q[:60], township_code=township[:12] or None, active=flag)
    )
    names = {d.id: d.name for d in _departments(session)}
    return _render(
        request,
        "safety/cameras/list.html",
        {
            "rows": rows,
            "q": q[:60],
            "township": township[:12],
            "active": active if flag is not None else "",
            "townships": cameras.townships(session),
            "departments": names,
            "map": _map(session, rows),
            "can_manage": _can_manage(a),
            "import_error": import_error,
            "import_rows": import_rows or [],
            "type_name_of": cameras.type_name_of,
        },
        status=422 if import_error else 200,
    )


@router.post("/safety/cameras/import")
def camera_import(request: Request, session: WriteSession, a: Keeper, file: UploadFile) -> Response:
    try:
        data = forms.read_upload(file, cameras.MAX_IMPORT_BYTES)
        report = cameras.import_file(session, actor=a.actor, data=data, filename=file.filename or "")
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, "import")
        rows = [
            translate(request, N_("Row %(row)s: %(problem)s"), row=e.get("row", "?"), problem=e["message"])
            for e in getattr(exc, "errors", [])[:50]
        ]
        return _list_page(request, session, a, import_error=refused.error, import_rows=rows)
    return redirect(
        "/safety/cameras",
        translate(
            request, N_("%(added)s cameras added, %(updated)s changed"), added=report.added, updated=report.updated
        ),
    )


def _form_page(request: Request, session: Session, *, camera: Camera | None, form: Refused | None = None) -> Response:
    values: dict[str, Any] = {}
    if camera is not None:
        values = {k: getattr(camera, k) for k in CAMERA_FIELDS}
        values["active"] = camera.active
    return _render(
        request,
        "safety/cameras/form.html",
        {
            "camera": camera,
            "values": form.values if form else values,
            "form": form or Refused.empty(),
            "departments": _departments(session),
        },
        status=form.status if form else 200,
    )


@router.get("/safety/cameras/new")
def camera_new(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, camera=None)


def _typed(form: PostedForm) -> dict[str, Any]:
    values: dict[str, Any] = forms.typed(form, CAMERA_FIELDS)
    values["active"] = form.get("active") == "1"
    return values


@router.post("/safety/cameras/new")
def camera_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        cam = cameras.create(session, actor=a.actor, data=forms.parse(CameraIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _form_page(request, session, camera=None, form=Refused.of(request, exc, values))
    return redirect(f"/safety/cameras/{cam.id}", translate(request, N_("Camera added")))


@router.get("/safety/cameras/{camera_id:int}/edit")
def camera_edit(request: Request, camera_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, camera=cameras.get(session, camera_id=camera_id))


@router.post("/safety/cameras/{camera_id:int}/edit")
def camera_update(request: Request, camera_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        cameras.update(session, actor=a.actor, camera_id=camera_id, data=forms.parse(CameraIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        cam = cameras.get(session, camera_id=camera_id)
        return _form_page(request, session, camera=cam, form=Refused.of(request, exc, values))
    return redirect(f"/safety/cameras/{camera_id}", translate(request, N_("Camera changed")))


@router.get("/safety/cameras/{camera_id:int}")
def camera_page(request: Request, camera_id: int, session: ReadSession, a: Viewer) -> Response:
    cam = cameras.get(session, camera_id=camera_id)
    events = cameras_intake.list_events(session, cameras_intake.EventFilter(camera_id=cam.id), limit=50)
    types = {t.code: t for t in cameras.list_types(session)}
    dept = session.get(Department, cam.department_id) if cam.department_id else None
    return _render(
        request,
        "safety/cameras/camera.html",
        {
            "camera": cam,
            "department": dept,
            "events": events,
            "types": types,
            "map": _map(session, [cam]),
            "can_manage": _can_manage(a),
            "type_name": cameras.type_name_of(cam.code),
        },
    )


@router.get("/safety/cameras/events")
def event_list(
    request: Request,
    session: ReadSession,
    a: Viewer,
    outcome: Short = "",
    type: Short = "",
) -> Response:
    chosen = EventOutcome(outcome) if outcome in {o.value for o in EventOutcome} else None
    start, _end = county_day_bounds(county_today())
    f = cameras_intake.EventFilter(outcome=chosen, type_code=type[:40] or None, since=utcnow() - timedelta(days=31))
    events = cameras_intake.list_events(session, f, limit=300)
    cams = {c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_({e.camera_id for e in events})))}
    types = {t.code: t for t in cameras.list_types(session)}
    return _render(
        request,
        "safety/cameras/events.html",
        {
            "events": events,
            "cams": cams,
            "types": types,
            "outcome": chosen.value if chosen else "",
            "type": type[:40],
            "outcomes": list(EventOutcome),
            "today": cameras_intake.counts_by_type(session, since=start),
            "unmapped": cameras_intake.unmapped(session),
            "can_manage": _can_manage(a),
        },
    )


def _types_page(request: Request, session: Session, a: Auth, *, new: str = "", form: Refused | None = None) -> Response:
    rows = cameras.list_types(session)
    return _render(
        request,
        "safety/cameras/types.html",
        {
            "rows": rows,
            "categories": cameras.category_names(session, [t.category_code for t in rows]),
            "priorities": list(Priority),
            "can_manage": _can_manage(a),
            "new": new,
            "form": form or Refused.empty(),
        },
        status=form.status if form else 200,
    )


@router.get("/safety/cameras/types")
def type_list(request: Request, session: ReadSession, a: Viewer, new: Short = "") -> Response:
    return _types_page(request, session, a, new=new[:40])


@router.post("/safety/cameras/types/{code}")
def type_save(
    request: Request, code: Annotated[str, Path(max_length=40)], session: WriteSession, a: Keeper, form: PostedForm
) -> Response:
    values: dict[str, Any] = forms.typed(form, TYPE_FIELDS)
    values["enabled"] = form.get("enabled") == "1"
    try:
        cameras.save_type(session, actor=a.actor, code=code[:40], data=forms.parse(EventTypeIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _types_page(request, session, a, new=code[:40], form=Refused.of(request, exc, values, code[:40]))
    return redirect("/safety/cameras/types", translate(request, N_("Camera event type saved")))


@router.get("/safety/cameras/events/{event_id:int}/snapshot")
def snapshot(event_id: int, session: ReadSession, a: Viewer, thumb: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    att = cameras_intake.snapshot_of(session, event_id=event_id)
    headers = {"Cache-Control": "private, max-age=3600"}
    if thumb and att.has_thumbnail:
        return FileResponse(attachments.path_for(att.sha256, thumb=True), media_type="image/jpeg", headers=headers)
    return FileResponse(attachments.path_for(att.sha256), media_type=att.media_type, headers=headers)


@dataclass(frozen=True)
class _Route:
    path: str  # what the metrics name the route by


EVENTS_ROUTE = _Route(EVENTS_PATH)


class IntakeLane:
    """ASGI, in front of the routes: an analysis box's event answered before routing (the application's
    route table is long, and matching it costs a good share of a small event's time).

    It takes ``POST /api/v1/safety/cameras/events`` whose caller is a bearer token known from the
    tokens' identity cache as holding ``safety.camera.feed``, and answers it with the route's own
    ``answer_event``; its refusals (a bad body, time, image, camera) are answered by the application's
    error handlers, as the route's would be. Anything else — no token, another token, a session — goes
    to the route, which answers it in full (refusals of access are recorded there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != EVENTS_PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        actor = await known_feeder(request)
        if actor is None:
            await self.app(scope, receive, send)  # the route answers it (and records a refusal)
            return
        scope["route"] = EVENTS_ROUTE
        try:
            response = await answer_event(request, actor)
        except Exception as exc:
            handler = next(
                (h for k in type(exc).__mro__ if (h := request.app.exception_handlers.get(k)) is not None), None
            )
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


LANES = [IntakeLane]
__all__ = ["LANES", "NAV", "CameraEvent", "router"]
