"""API of the hidden-danger inspections (隐患排查) part under /api/v1/safety.

Key places (``/places``: list with filters and nearest first from ``lon``/``lat``, GeoJSON for the map,
create/update and CSV/XLSX import with ``safety.inspect.manage``, the responsible person's phone unmasked
by an audited POST), checklists (``/checklists``: list; load a new version with ``safety.inspect.manage``),
inspections (``/inspections``: JSON, or a multipart form with ``item_<code>``/``note_<code>``/
``level_<code>`` fields and ``photos_<code>`` files — the phone page's form), hazards (``/hazards``: list,
detail with the timeline, ``rectify`` and ``reinspect``, photos, statistics). Lists are bounded; errors
are problem+json.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select

from countyos.cases.service import attachments
from countyos.core.clock import county_day_bounds, county_today
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.safety.api.inspections_io import (
    InspectionInput,
    NoteInput,
    all_photos,
    checklist_out,
    hazard_out,
    hazards_out,
    inspection_out,
    parsed,
    place_out,
)
from countyos.safety.models.inspections import (
    Hazard,
    HazardLevel,
    HazardState,
    Inspection,
    RiskGrade,
)
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.schemas.inspections import (
    ChecklistFileIn,
    ChecklistOut,
    HazardOut,
    InspectionIn,
    InspectionOut,
    PlaceIn,
    PlaceOut,
    RectifyIn,
    ReinspectIn,
    StatsOut,
)
from countyos.safety.service import inspections as svc
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs
from countyos.safety.service import inspections_stats as figures
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter()
Inspector = Annotated[Auth, Depends(require(INSPECT))]
Keeper = Annotated[Auth, Depends(require(INSPECT_MANAGE))]
Anyone = Annotated[Auth, Depends(authenticated)]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_LIMIT = 500


# --- places ----------------------------------------------------------------------------------------


@router.get("/places")
def list_places(
    session: ReadSession,
    a: Inspector,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    grade: RiskGrade | None = None,
    township: Annotated[str | None, Query(max_length=12)] = None,
    due: bool = False,
    q: Annotated[str, Query(max_length=60)] = "",
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[PlaceOut]:
    """Active key places, by the day due (or nearest first from ``lon``/``lat``)."""
    f = svc.PlaceFilter(kind=kind, grade=grade, township_code=township, due=due, q=q)
    near = (lon, lat) if lon is not None and lat is not None else None
    return [place_out(p, d) for p, d in svc.search(session, f=f, limit=limit, offset=offset, near=near)]


@router.get("/places.geojson")
def places_geojson(session: ReadSession, a: Inspector) -> dict[str, Any]:
    """Active key places as points with their grade and whether they are due (the map's layer)."""
    today = county_today()
    feats = [
        {"type": "Feature", "id": p.id, "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"id": p.id, "name": p.name, "grade": p.grade.value, "kind": svc.kind_label(p.kind),
                        "due": bool(p.next_due_on and p.next_due_on <= today), "url": f"/safety/places/{p.id}"}}
        for p, _ in svc.search(session, f=svc.PlaceFilter(), limit=svc.MAX_LIST)
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": feats}


@router.post("/places", status_code=201)
def create_place(body: PlaceIn, session: WriteSession, a: Keeper) -> PlaceOut:
    return place_out(svc.create(session, actor=a.actor, data=body))


@router.post("/places/import")
def import_places(file: UploadFile, session: WriteSession, a: Keeper) -> dict[str, Any]:
    """A CSV or XLSX file of key places (名称, 类型, 地址, 经度, 纬度, 责任人, 责任人电话, 安全管理员, 风险等级): all
    rows or none."""
    data = forms.read_upload(file, svc.MAX_IMPORT_BYTES)
    made = svc.import_places(session, actor=a.actor, data=data, filename=file.filename or "")
    return {"imported": len(made), "ids": [p.id for p in made[:1000]]}


@router.get("/places/{place_id}")
def get_place(place_id: PathId, session: ReadSession, a: Inspector) -> PlaceOut:
    return place_out(svc.get(session, place_id=place_id))


@router.put("/places/{place_id}")
def update_place(place_id: PathId, body: PlaceIn, session: WriteSession, a: Keeper) -> PlaceOut:
    return place_out(svc.update(session, actor=a.actor, place_id=place_id, data=body))


@router.post("/places/{place_id}/phone")
def reveal_phone(place_id: PathId, session: WriteSession, a: Inspector) -> dict[str, str]:
    """The responsible person's phone unmasked (audited)."""
    return {"phone": svc.reveal_phone(session, actor=a.actor, place_id=place_id)}


@router.get("/places/{place_id}/checklist")
def place_checklist(place_id: PathId, session: ReadSession, a: Inspector) -> ChecklistOut:
    """The checklist an inspection of the place opens now."""
    return checklist_out(checklists.current_for_kind(session, kind=svc.get(session, place_id=place_id).kind))


# --- checklists ------------------------------------------------------------------------------------


@router.get("/checklists")
def list_checklists(session: ReadSession, a: Inspector) -> list[ChecklistOut]:
    return [checklist_out(c) for c in checklists.listing(session)[:MAX_LIMIT]]


@router.post("/checklists", status_code=201)
def load_checklists(body: ChecklistFileIn, session: WriteSession, a: Keeper) -> list[ChecklistOut]:
    """Load checklist versions (the shape of the packaged file); the versions added."""
    return [checklist_out(c) for c in checklists.load(session, actor=a.actor, file=body)]


# --- inspections -----------------------------------------------------------------------------------


@router.post("/inspections", status_code=201)
def create_inspection(given: InspectionInput, session: WriteSession, a: Inspector) -> InspectionOut:
    values, photos = given
    body = parsed(InspectionIn, values)
    return inspection_out(session, runs.record(session, actor=a.actor, data=body, photos=photos))


@router.get("/inspections")
def list_inspections(
    session: ReadSession,
    a: Inspector,
    place_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InspectionOut]:
    stmt = select(Inspection).order_by(Inspection.at.desc(), Inspection.id.desc())
    if place_id is not None:
        stmt = stmt.where(Inspection.place_id == place_id)
    return [inspection_out(session, i) for i in session.scalars(stmt.offset(offset).limit(limit))]


@router.get("/inspections/{inspection_id}")
def get_inspection(inspection_id: PathId, session: ReadSession, a: Inspector) -> InspectionOut:
    return inspection_out(session, runs.get(session, inspection_id=inspection_id))


# --- hazards ---------------------------------------------------------------------------------------


@router.get("/hazards")
def list_hazards(
    session: ReadSession,
    a: Inspector,
    state: HazardState | None = None,
    overdue: bool = False,
    level: HazardLevel | None = None,
    township: Annotated[str | None, Query(max_length=12)] = None,
    place_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[HazardOut]:
    stmt = hazards.query(state=state, overdue=overdue, level=level, township_code=township, place_id=place_id)
    rows = list(session.scalars(stmt.order_by(Hazard.found_at.desc(), Hazard.id.desc()).offset(offset).limit(limit)))
    return hazards_out(session, rows)


@router.get("/hazards/stats")
def hazard_stats(
    session: ReadSession,
    a: Inspector,
    since: date | None = None,
    until: date | None = None,
) -> StatsOut:
    """Hazards found and closed by month and kind of place, by level, and 整改率 for the county days
    [since, until] (default: the last twelve months)."""
    today = county_today()
    until = until or today
    since = since or date(until.year - 1, until.month, 1)
    if since > until or (until - since).days > 3660:
        raise ValidationFailed.on_field("since", N_("Choose a period of at most ten years"))
    start, _ = county_day_bounds(since)
    _, end = county_day_bounds(until)
    return StatsOut.model_validate(figures.stats(session, since=start, until=end, today=today))


@router.get("/hazards/{hazard_id}")
def get_hazard(hazard_id: PathId, session: ReadSession, a: Anyone) -> HazardOut:
    h = hazards.get_visible(session, actor=a.actor, hazard_id=hazard_id)
    name = hazards.place_names(session, [h.place_id]).get(h.place_id, "")
    return hazard_out(h, name, with_log=hazards.log(session, hazard_id=h.id))


@router.post("/hazards/{hazard_id}/rectify")
def rectify_hazard(hazard_id: PathId, given: NoteInput, session: WriteSession, a: Anyone) -> HazardOut:
    """整改完成 with a note and photos (≤ 5): an inspector or the department handling the hazard's case."""
    values, photos = given
    h = hazards.rectify(session, actor=a.actor, hazard_id=hazard_id, data=parsed(RectifyIn, values),
                        photos=all_photos(photos))  # fmt: skip
    return hazard_out(h, hazards.place_names(session, [h.place_id]).get(h.place_id, ""))


@router.post("/hazards/{hazard_id}/reinspect")
def reinspect_hazard(hazard_id: PathId, given: NoteInput, session: WriteSession, a: Inspector) -> HazardOut:
    """复查: ``passed`` closes the hazard (and its case where its state allows); else a new deadline."""
    values, photos = given
    h = hazards.reinspect(session, actor=a.actor, hazard_id=hazard_id, data=parsed(ReinspectIn, values),
                          photos=all_photos(photos))  # fmt: skip
    return hazard_out(h, hazards.place_names(session, [h.place_id]).get(h.place_id, ""))


@router.get("/hazards/{hazard_id}/photos/{attachment_id}", response_class=FileResponse)
def hazard_photo(
    hazard_id: PathId, attachment_id: PathId, session: ReadSession, a: Anyone, thumb: bool = False
) -> FileResponse:
    """A photo of the hazard (found, rectified or re-inspected) for one who may see the hazard."""
    h = hazards.get_visible(session, actor=a.actor, hazard_id=hazard_id)
    ids = set(h.attachment_ids or [])
    for x in hazards.log(session, hazard_id=h.id):
        ids.update(x.attachment_ids or [])
    if attachment_id not in ids:
        raise NotFound(N_("No such photo"))
    att = attachments.get(session, attachment_id=attachment_id)
    path = attachments.path_for(att.sha256, thumb=thumb and att.has_thumbnail)
    media = "image/jpeg" if thumb and att.has_thumbnail else att.media_type
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-store"})
