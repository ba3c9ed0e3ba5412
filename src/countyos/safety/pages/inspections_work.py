"""Pages of the inspection work: the phone's inspection, inspection records, hidden dangers with their
rectification and re-inspection, statistics, and the checklists (see ``inspections.py`` for the list)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.cases.models import Case
from countyos.core.clock import county_day_bounds, county_today
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.safety.api import inspections_io as api
from countyos.safety.models.inspections import (
    Hazard,
    HazardAction,
    HazardLevel,
    HazardState,
)
from countyos.safety.pages.inspections_common import (
    LIST_LIMIT,
    Anyone,
    Inspector,
    Keeper,
    PathId,
    common,
    enum_of,
    qs,
)
from countyos.safety.permissions import INSPECT
from countyos.safety.schemas.inspections import InspectionIn, RectifyIn, ReinspectIn
from countyos.safety.service import inspections as svc
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs
from countyos.safety.service import inspections_stats as figures
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)


# --- the phone: inspect a place --------------------------------------------------------------------


@router.get("/safety/inspect")
def inspect_start(
    request: Request,
    session: ReadSession,
    a: Inspector,
    q: str = "",
    lon: float | None = None,
    lat: float | None = None,
) -> Response:
    near = (lon, lat) if lon is not None and lat is not None and -180 <= lon <= 180 and -90 <= lat <= 90 else None
    rows = svc.search(session, f=svc.PlaceFilter(q=q[:60]), limit=30, near=near)
    return templates(request).render(
        request, "safety/inspections/inspect_start.html",
        {**common(request), "rows": rows, "q": q[:60], "near": near is not None},
    )  # fmt: skip


def _inspect_form(request: Request, session: Any, a: Auth, place_id: int, form: Refused | None = None) -> Response:
    p = svc.get(session, place_id=place_id)
    try:
        cl = checklists.current_for_kind(session, kind=p.kind)
    except NotFound:
        cl = None
    form = form or Refused.empty()
    return templates(request).render(
        request,
        "safety/inspections/inspect.html",
        {**common(request), "p": p, "cl": cl, "form": form, "v": form.values, "max_photos": hazards.MAX_PHOTOS},
        status_code=form.status,
    )


@router.get("/safety/inspect/{place_id}")
def inspect_page(request: Request, place_id: PathId, session: ReadSession, a: Inspector) -> Response:
    return _inspect_form(request, session, a, place_id)


async def _inspection_form(request: Request) -> FormData:
    return await request.form(max_files=api.MAX_FORM_FILES, max_fields=600)


@router.post("/safety/inspect/{place_id}")
def inspect_submit(
    request: Request,
    place_id: PathId,
    session: WriteSession,
    a: Inspector,
    form: Annotated[FormData, Depends(_inspection_form)],
) -> Response:
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    try:
        values = {**api.inspection_values(form), "place_id": place_id}
        body = forms.parse(InspectionIn, values)
        insp = runs.record(session, actor=a.actor, data=body, photos=api.read_photos(form, "photos_"))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _inspect_form(request, session, a, place_id, form=Refused.of(request, exc, typed))
    return redirect(f"/safety/inspections/{insp.id}", flash=translate(request, "Inspection saved"))


@router.get("/safety/inspections/{inspection_id}")
def inspection_page(request: Request, inspection_id: PathId, session: ReadSession, a: Inspector) -> Response:
    data = api.inspection_out(session, runs.get(session, inspection_id=inspection_id))
    rows = [hazards.get(session, hazard_id=i) for i in data.hazard_ids]
    return templates(request).render(
        request, "safety/inspections/inspection.html", {**common(request), "i": data, "hazards": rows}
    )


# --- hazards ---------------------------------------------------------------------------------------


@router.get("/safety/hazards")
def hazards_page(
    request: Request,
    session: ReadSession,
    a: Inspector,
    state: str = "",
    overdue: str = "",
    level: str = "",
    township: str = "",
    offset: int = 0,
) -> Response:
    offset = max(0, min(offset, 100_000))
    stmt = hazards.query(state=enum_of(HazardState, state), overdue=overdue == "1", level=enum_of(HazardLevel, level),
                         township_code=township[:12] or None)  # fmt: skip
    rows = list(
        session.scalars(stmt.order_by(Hazard.found_at.desc(), Hazard.id.desc()).offset(offset).limit(LIST_LIMIT))
    )
    return templates(request).render(
        request,
        "safety/inspections/hazards.html",
        {
            **common(request),
            "rows": rows,
            "names": hazards.place_names(session, [h.place_id for h in rows]),
            "counts": figures.counts_by_state(session),
            "townships": svc.townships(session),
            "sel": {"state": state, "overdue": overdue, "level": level, "township": township},
            "offset": offset,
            "limit": LIST_LIMIT,
            "qs": qs(state=state, overdue=overdue, level=level, township=township),
        },
    )


@router.get("/safety/hazards/stats")
def hazard_stats_page(request: Request, session: ReadSession, a: Inspector, year: int = 0) -> Response:
    today = county_today()
    year = year if 2000 <= year <= today.year + 1 else today.year
    start, _ = county_day_bounds(date(year, 1, 1))
    _, end = county_day_bounds(date(year, 12, 31))
    got = figures.stats(session, since=start, until=end, today=today)
    return templates(request).render(
        request,
        "safety/inspections/stats.html",
        {**common(request), "s": got, "year": year, "years": list(range(today.year, today.year - 4, -1))},
    )


def _hazard_page(request: Request, session: Any, a: Auth, hazard_id: int, form: Refused | None = None) -> Response:
    h = hazards.get_visible(session, actor=a.actor, hazard_id=hazard_id)
    case = session.get(Case, h.case_id) if h.case_id else None
    form = form or Refused.empty()
    return templates(request).render(
        request,
        "safety/inspections/hazard.html",
        {
            **common(request),
            "h": h,
            "place": svc.get(session, place_id=h.place_id),
            "log": hazards.log(session, hazard_id=h.id),
            "case": case,
            "overdue": hazards.is_overdue(h),
            "allowed": hazards.allowed(h.state),
            "may_reinspect": a.actor.can(INSPECT),
            "form": form,
            "v": form.values,
            "actions": HazardAction,
        },
        status_code=form.status,
    )


@router.get("/safety/hazards/{hazard_id}")
def hazard_page(request: Request, hazard_id: PathId, session: ReadSession, a: Anyone) -> Response:
    return _hazard_page(request, session, a, hazard_id)


async def _note_form(request: Request) -> FormData:
    return await request.form(max_files=hazards.MAX_PHOTOS + 1, max_fields=20)


NoteForm = Annotated[FormData, Depends(_note_form)]


@router.post("/safety/hazards/{hazard_id}/rectify")
def hazard_rectify(request: Request, hazard_id: PathId, session: WriteSession, a: Anyone, form: NoteForm) -> Response:
    values = forms.typed(form, ("note",))
    try:
        hazards.rectify(session, actor=a.actor, hazard_id=hazard_id, data=forms.parse(RectifyIn, values),
                        photos=api.all_photos(api.read_photos(form, "photos")))  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _hazard_page(request, session, a, hazard_id, Refused.of(request, exc, values, "rectify"))
    return redirect(f"/safety/hazards/{hazard_id}", flash=translate(request, "Saved"))


@router.post("/safety/hazards/{hazard_id}/reinspect")
def hazard_reinspect(
    request: Request, hazard_id: PathId, session: WriteSession, a: Inspector, form: NoteForm
) -> Response:
    values = forms.typed(form, ("passed", "note", "days"))
    try:
        if values["passed"] not in ("1", "0"):
            raise ValidationFailed.on_field("passed", N_("Say whether the re-inspection passed"))
        hazards.reinspect(session, actor=a.actor, hazard_id=hazard_id, data=forms.parse(ReinspectIn, values),
                          photos=api.all_photos(api.read_photos(form, "photos")))  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _hazard_page(request, session, a, hazard_id, Refused.of(request, exc, values, "reinspect"))
    return redirect(f"/safety/hazards/{hazard_id}", flash=translate(request, "Saved"))


# --- checklists ------------------------------------------------------------------------------------


def _checklists_page(request: Request, session: Any, form: Refused | None = None) -> Response:
    form = form or Refused.empty()
    return templates(request).render(
        request,
        "safety/inspections/checklists.html",
        {**common(request), "rows": checklists.listing(session), "form": form},
        status_code=form.status,
    )


@router.get("/safety/checklists")
def checklists_page(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _checklists_page(request, session)


@router.post("/safety/checklists")
def checklists_load(
    request: Request, session: WriteSession, a: Keeper, file: Annotated[UploadFile, File()]
) -> Response:
    try:
        data = forms.read_upload(file, checklists.MAX_FILE_BYTES)
        added = checklists.load(session, actor=a.actor, file=checklists.parse_file(data))
    except CountyError as exc:
        session.rollback()
        return _checklists_page(request, session, Refused.of(request, exc, {}))
    return redirect("/safety/checklists", flash=translate(request, "%(n)s checklist versions loaded", n=len(added)))


@router.post("/safety/checklists/packaged")
def checklists_packaged(request: Request, session: WriteSession, a: Keeper) -> Response:
    """Load the checklists that come with the software (the versions not yet loaded)."""
    added = checklists.load_packaged(session, actor=a.actor)
    return redirect("/safety/checklists", flash=translate(request, "%(n)s checklist versions loaded", n=len(added)))
