"""The public service directory (便民服务设施): residents' pages and the departments' pages.

Public (no sign-in), in the portal shell:

- ``/portal/facilities``: chips by kind, a search by name (or its pinyin initials), pages of 20. A
  "nearest to me" button (``portal-near.js``, shown only where the browser can tell its position)
  asks for the position only when tapped and reloads with ``?lon=&lat=``: the list is then nearest
  first with the distance. The position is used for the order of this answer only — never stored,
  audited or put into a link of the page; the answer is ``no-store`` and sends no referrer.
- ``/portal/facilities/{token}``: one open facility (a closed one is not found), with its live figure
  and a small map picture (``…/map.png``; the staff map is not linked: it is not public).

Staff (``portal.facility.manage``), in the staff shell: ``/portal/facilities/manage`` — the
department's facilities, add and edit (a position inside the county), close and reopen, import a
CSV/XLSX file, sync from a published data resource. Refused forms come back with what was typed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.geo.service import outline
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.pages.common import PORTAL, render
from countyos.portal.schemas.facilities import FacilityIn, FacilitySyncIn
from countyos.portal.service import facilities as svc
from countyos.portal.service import facility_import
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [NavItem(PORTAL, N_("Public facilities"), "/portal/facilities/manage", svc.MANAGE, order=310)]
Public = Annotated[Auth | None, Depends(public)]
Keeper = Annotated[Auth, Depends(require(svc.MANAGE))]
PAGE_SIZE = 20
MAX_PAGE = 100
STAFF_PAGE = 50
FIELDS = ("kind", "name", "address", "lon", "lat", "phone", "hours", "services", "datastream_id", "live_label")
SYNC_FIELDS = (
    "resource_id",
    "kind",
    "name_column",
    "key_column",
    "address_column",
    "phone_column",
    "hours_column",
    "services_column",
    "lon_column",
    "lat_column",
    "geometry_column",
)
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _float(text: str) -> float | None:
    try:
        value = float(text[:20])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def distance_text(metres: float | None) -> str:
    """ "350 m", "1.2 km", "25 km" (the units are the same in Chinese)."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"{max(10, round(metres / 10) * 10)} m"
    return f"{metres / 1000:.1f} km" if metres < 10_000 else f"{round(metres / 1000)} km"


def ago(request: Request, at: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the reader's language: 刚刚, 5 分钟前, 3 小时前, 2 天前."""
    if at is None:
        return ""
    seconds = max(0.0, ((now or utcnow()) - at).total_seconds())
    if seconds < 60:
        return translate(request, "just now")
    if seconds < 3600:
        return translate(request, "%(n)s min ago", n=int(seconds // 60))
    if seconds < 48 * 3600:
        return translate(request, "%(n)s h ago", n=int(seconds // 3600))
    return translate(request, "%(n)s days ago", n=int(seconds // 86400))


def _kind(text: str) -> FacilityKind | None:
    return FacilityKind(text) if text in set(FacilityKind) else None


# -- staff pages (declared first: /portal/facilities/manage is not a token) -------------------------------


def _values_of(f: Facility) -> dict[str, str]:
    return {
        "kind": f.kind.value,
        "name": f.name,
        "address": f.address,
        "lon": f"{f.lon:.6f}",
        "lat": f"{f.lat:.6f}",
        "phone": f.phone,
        "hours": f.hours,
        "services": f.services,
        "datastream_id": str(f.datastream_id or ""),
        "live_label": f.live_label,
    }


def _staff(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {"kind_names": svc.KIND_NAMES, "kinds": list(FacilityKind), **context},
        status_code=status,
    )


@router.get("/portal/facilities/manage")
def manage_list(
    request: Request, session: ReadSession, a: Keeper, state: str = "", q: str = "", page: int = 1
) -> Response:
    active = {"open": True, "closed": False}.get(state)
    page = min(max(page, 1), 1000)
    rows, total = svc.of_department(
        session,
        actor=a.actor,
        active=active,
        q=q[:60],
        page=PageParams(limit=STAFF_PAGE, offset=(page - 1) * STAFF_PAGE),
    )
    return _staff(
        request,
        "portal/facilities/manage.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // STAFF_PAGE)),
            "state": state if active is not None else "",
            "q": q[:60],
            "no_department": a.actor.department_id is None,
            "areas": svc.area_names(session, rows),
        },
    )


def _form_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    facility: Facility | None,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    blank = Refused(_values_of(facility), {}, None, 200) if facility else Refused({"kind": "clinic"}, {}, None, 200)
    return _staff(
        request,
        "portal/facilities/form.html",
        {
            "f": facility,
            "form": form or blank,
            "area": svc.area_names(session, [facility]).get(facility.division_code or "", "") if facility else "",
            "actions": [x.value for x in svc.actions_for(facility.active)] if facility else [],
        },
        status,
    )


@router.get("/portal/facilities/manage/new")
def new_page(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, a, facility=None)


def _save(request: Request, session: Session, a: Auth, form: Any, facility_id: int | None) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        body = forms.parse(FacilityIn, values)
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            if facility_id is None:
                f = svc.create(session, actor=a.actor, data=body)
            else:
                f = svc.update(session, actor=a.actor, facility_id=facility_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        current = svc.get(session, facility_id=facility_id) if facility_id is not None else None
        return _form_page(request, session, a, facility=current, form=refused, status=refused.status)
    return redirect(f"/portal/facilities/manage/{f.id}", flash=translate(request, "Saved"))


@router.post("/portal/facilities/manage/new")
def create_facility(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


def _mine(session: Session, a: Auth, facility_id: int) -> Facility:
    return svc.for_keeper(a.actor, svc.get(session, facility_id=facility_id))


@router.get("/portal/facilities/manage/{facility_id:int}")
def edit_page(request: Request, facility_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, a, facility=_mine(session, a, facility_id))


@router.post("/portal/facilities/manage/{facility_id:int}")
def update_facility(request: Request, facility_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    _mine(session, a, facility_id)
    return _save(request, session, a, form, facility_id)


@router.post("/portal/facilities/manage/{facility_id:int}/{action}")
def act_on_facility(request: Request, facility_id: int, action: str, session: WriteSession, a: Keeper) -> Response:
    f = _mine(session, a, facility_id)
    chosen = svc.Action(action) if action in set(svc.Action) else None
    try:
        if chosen is None:
            raise svc.field_error("action", N_("Not one of the choices"))
        svc.act(session, actor=a.actor, facility_id=f.id, action=chosen)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {})
        return _form_page(
            request, session, a, facility=_mine(session, a, facility_id), form=refused, status=refused.status
        )
    flash = (
        translate(request, "Closed: residents no longer see it")
        if chosen is svc.Action.CLOSE
        else translate(request, "Open again")
    )
    return redirect(f"/portal/facilities/manage/{facility_id}", flash=flash)


def _import_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    report: facility_import.Report | None = None,
    problems: list[dict[str, Any]] | None = None,
    form: Refused | None = None,
    which: str = "",
    status: int = 200,
) -> Response:
    resources = facility_import.resources_for(session, actor=a.actor)
    return _staff(
        request,
        "portal/facilities/import.html",
        {
            "report": report,
            "which": which,
            "problems": problems or [],
            "form": form or Refused.empty(),
            "resources": resources,
            "headers": facility_import.HEADERS,
            "max_rows": facility_import.MAX_ROWS,
            "max_mb": facility_import.MAX_FILE_BYTES // 1_000_000,
            "no_department": a.actor.department_id is None,
        },
        status,
    )


@router.get("/portal/facilities/manage/import")
def import_page(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _import_page(request, session, a)


def _refusal(
    request: Request, session: Session, a: Auth, exc: Exception, values: dict[str, str], which: str
) -> Response:
    session.rollback()
    refused = Refused.of(request, exc, values, which=which)
    found = exc.errors if isinstance(exc, ValidationFailed) else []
    rows = [e for e in found if "row" in e]
    return _import_page(request, session, a, problems=rows, form=refused, which=which, status=refused.status)


@router.post("/portal/facilities/manage/import")
def import_file(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    """A file, all or nothing: the report of what was added and updated, or every bad row."""
    upload = form.get("file")
    try:
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            if not isinstance(upload, StarletteUpload) or not (upload.filename or upload.size):
                raise svc.field_error("file", N_("Choose a file"))
            data = forms.read_upload(cast(UploadFile, upload), facility_import.MAX_FILE_BYTES)
            report = facility_import.import_file(session, actor=a.actor, data=data, filename=upload.filename or "")
    except CountyError as exc:
        return _refusal(request, session, a, exc, {}, "import")
    return _import_page(request, session, a, report=report, which="import")


@router.post("/portal/facilities/manage/sync")
def sync_resource(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, SYNC_FIELDS)
    try:
        body = forms.parse(FacilitySyncIn, values)
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            report = facility_import.sync_resource(session, actor=a.actor, data=body)
    except (CountyError, PydanticValidationError) as exc:
        return _refusal(request, session, a, exc, values, "sync")
    return _import_page(request, session, a, report=report, which="sync")


# -- public pages ----------------------------------------------------------------------------------


@router.get("/portal/facilities")
def facility_list(
    request: Request,
    session: ReadSession,
    a: Public,
    kind: str = "",
    q: str = "",
    lon: str = "",
    lat: str = "",
    page: int = 1,
) -> Response:
    chosen = _kind(kind)
    q = " ".join(q.split())[:60]
    near = svc.valid_position(_float(lon), _float(lat))
    page = min(max(page, 1), MAX_PAGE)
    hits, total = svc.search(
        session, kind=chosen, q=q, near=near, page=PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    return render(
        request,
        "portal/facilities/list.html",
        {
            "hits": hits,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "kind": chosen.value if chosen else "",
            "q": q,
            "near": near,
            "kind_names": svc.KIND_NAMES,
            "counts": svc.kind_counts(session),
            "distance": distance_text,
            "areas": svc.area_names(session, [h.facility for h in hits]),
            **_map_of(session, hits, near),
        },
        a=a,
        tab="home",
        headers=PRIVATE if near else None,
    )


def _map_of(session: Session, hits: list[Any], near: tuple[float, float] | None) -> dict[str, Any]:
    """The facilities of this page on the county's light outline (``geo.service.outline``), numbered as
    in the list; the phone's position as a ring when the list is sorted by it (drawn, never kept)."""
    try:
        frame = outline.outline(session)
    except NotFound:
        return {"frame": None, "dots": [], "me": None}
    dots = []
    for n, h in enumerate(hits, start=1):
        xy = frame.project(h.facility.lon, h.facility.lat)
        if xy is not None:
            dots.append((n, h.facility, xy))
    me = frame.project(near[0], near[1]) if near else None
    return {"frame": frame, "dots": dots, "me": me}


@router.get("/portal/facilities/{token}/map.png")
def facility_map(request: Request, token: str, session: ReadSession, a: Public) -> Response:
    """A small picture of the county's own map around the facility (cached; a fixed size)."""
    f = svc.get_public(session, token=token)
    data = svc.static_map(session, lon=f.lon, lat=f.lat)
    etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=3600", "ETag": etag})


@router.get("/portal/facilities/{token}")
def facility_page(request: Request, token: str, session: ReadSession, a: Public) -> Response:
    f = svc.get_public(session, token=token)
    live = svc.live_figure(session, facility=f)
    return render(
        request,
        "portal/facilities/detail.html",
        {
            "f": f,
            "live": live,
            "live_ago": ago(request, live.at) if live else "",
            "value": _figure(live.value) if live else "",
            "department": svc.department_names(session, [f.department_id]).get(f.department_id or 0),
            "area": svc.area_names(session, [f]).get(f.division_code or "", ""),
            "kind_names": svc.KIND_NAMES,
        },
        a=a,
        tab="home",
    )


def _figure(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
