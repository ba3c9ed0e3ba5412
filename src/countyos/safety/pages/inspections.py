"""Pages of the hidden-danger inspections (隐患排查) part of the safety domain.

- ``/safety/places`` (list and map, filters kind/grade/township/due), ``/safety/places/{id}`` (details with
  the masked phone and an audited "show the number", inspections, hazards), ``/safety/places/new`` and
  ``/safety/places/{id}/edit`` with the CSV/XLSX import (``safety.inspect.manage``).
- ``/safety/inspect``: the phone page — places nearest first (the phone's position on request) or by
  search; ``/safety/inspect/{place_id}``: the place's checklist, each item pass / fail / not applicable,
  a failed item's note, level and photos from the camera; a refused form comes back as typed.
- ``/safety/inspections/{id}``; ``/safety/hazards`` (open / overdue / rectified / closed, level, township),
  ``/safety/hazards/{id}`` (timeline, rectify, re-inspect), ``/safety/hazards/stats`` (found and closed by
  month and kind of place, 整改率), ``/safety/checklists`` (see and load versions).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_, use_locale
from countyos.org.service import audit
from countyos.safety.models.inspections import (
    Hazard,
    RiskGrade,
)
from countyos.safety.pages import inspections_work
from countyos.safety.pages.inspections_common import (
    LIST_LIMIT,
    Inspector,
    Keeper,
    PathId,
    common,
    enum_of,
    qs,
)
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.schemas.inspections import PlaceIn
from countyos.safety.service import inspections as svc
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
SECTION = N_("Safety inspections")
NAV = [
    NavItem(SECTION, N_("Key places"), "/safety/places", INSPECT, order=640),
    NavItem(SECTION, N_("Inspect a place"), "/safety/inspect", INSPECT, order=641),
    NavItem(SECTION, N_("Hidden dangers"), "/safety/hazards", INSPECT, order=642),
    NavItem(SECTION, N_("Hidden danger statistics"), "/safety/hazards/stats", INSPECT, order=643),
    NavItem(SECTION, N_("Inspection checklists"), "/safety/checklists", INSPECT_MANAGE, order=644),
]
PLACE_FIELDS = ("name", "kind", "address", "lon", "lat", "responsible_name", "responsible_phone",
                "safety_manager", "grade")  # fmt: skip

audit.name_codes(
    actions={
        "safety.inspections.place_create": N_("Key place added"),
        "safety.inspections.place_update": N_("Key place changed"),
        "safety.inspections.place_import": N_("Key places imported"),
        "safety.inspections.phone_reveal": N_("Responsible person's phone shown"),
        "safety.inspections.checklist_load": N_("Inspection checklist loaded"),
        "safety.inspections.inspect": N_("Key place inspected"),
        "safety.inspections.hazard_rectify": N_("Hidden danger reported rectified"),
        "safety.inspections.hazard_reinspect_pass": N_("Hidden danger re-inspected: passed"),
        "safety.inspections.hazard_reinspect_fail": N_("Hidden danger re-inspected: failed"),
        "safety.inspections.overdue": N_("Overdue hidden dangers noted"),
    },
    targets={
        "safety_place": N_("Key place"),
        "safety_checklist": N_("Inspection checklist"),
        "safety_inspection": N_("Inspection"),
        "safety_hazard": N_("Hidden danger"),
    },
)


# --- places ----------------------------------------------------------------------------------------


@router.get("/safety/places")
def places_page(
    request: Request,
    session: ReadSession,
    a: Inspector,
    kind: str = "",
    grade: str = "",
    township: str = "",
    due: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    f = svc.PlaceFilter(kind=kind[:30] or None, grade=enum_of(RiskGrade, grade), township_code=township[:12] or None,
                        due=due == "1", q=q[:60])  # fmt: skip
    offset = max(0, min(offset, 100_000))
    rows = svc.search(session, f=f, limit=LIST_LIMIT, offset=offset)
    return templates(request).render(
        request,
        "safety/inspections/places.html",
        {
            **common(request),
            "rows": [p for p, _ in rows],
            "total": svc.count(session, f=f),
            "f": f,
            "townships": svc.townships(session),
            "offset": offset,
            "limit": LIST_LIMIT,
            "qs": qs(kind=kind, grade=grade, township=township, due=due, q=q),
        },
    )


def _place_form(
    request: Request, *, place_id: int | None, form: Refused | None = None, values: dict[str, Any] | None = None
) -> Response:
    form = form or Refused.empty()
    return templates(request).render(
        request,
        "safety/inspections/place_form.html",
        {**common(request), "form": form, "v": form.values or values or {"grade": "C"}, "place_id": place_id},
        status_code=form.status,
    )


@router.get("/safety/places/new")
def place_new(request: Request, a: Keeper) -> Response:
    return _place_form(request, place_id=None)


@router.get("/safety/places/{place_id}/edit")
def place_edit(request: Request, place_id: PathId, session: ReadSession, a: Keeper) -> Response:
    p = svc.get(session, place_id=place_id)
    values = {k: getattr(p, k) for k in PLACE_FIELDS if k != "responsible_phone"}
    return _place_form(request, place_id=place_id, values={**values, "grade": p.grade.value, "responsible_phone": ""})


def _save_place(request: Request, session: Any, a: Auth, form: FormData, place_id: int | None) -> Response:
    values = forms.typed(form, PLACE_FIELDS)
    try:
        body = forms.parse(PlaceIn, values)
        if place_id is None:
            p = svc.create(session, actor=a.actor, data=body)
        else:  # the form never shows the number: left empty, it stays as kept
            p = svc.update(session, actor=a.actor, place_id=place_id, data=body, keep_phone=True)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _place_form(request, place_id=place_id, form=Refused.of(request, exc, values))
    return redirect(f"/safety/places/{p.id}", flash=translate(request, "Saved"))


@router.post("/safety/places/new")
def place_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save_place(request, session, a, form, None)


@router.post("/safety/places/{place_id}/edit")
def place_update(request: Request, place_id: PathId, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save_place(request, session, a, form, place_id)


@router.post("/safety/places/import")
def place_import(request: Request, session: WriteSession, a: Keeper, file: Annotated[UploadFile, File()]) -> Response:
    try:
        data = forms.read_upload(file, svc.MAX_IMPORT_BYTES)
        with use_locale(request.state.locale):
            made = svc.import_places(session, actor=a.actor, data=data, filename=file.filename or "")
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, "import")
        problems = getattr(exc, "errors", [])[:50]
        return templates(request).render(
            request, "safety/inspections/place_form.html",
            {**common(request), "form": refused, "v": {"grade": "C"}, "place_id": None, "problems": problems},
            status_code=refused.status,
        )  # fmt: skip
    return redirect("/safety/places", flash=translate(request, "%(n)s key places imported", n=len(made)))


def _place_page(request: Request, session: Any, place_id: int, phone: str | None = None) -> Response:
    p = svc.get(session, place_id=place_id)
    rows = list(session.scalars(hazards.query(place_id=p.id).order_by(Hazard.found_at.desc()).limit(100)))
    return templates(request).render(
        request,
        "safety/inspections/place.html",
        {
            **common(request),
            "p": p,
            "phone": phone,
            "inspections": runs.of_place(session, place_id=p.id, limit=50),
            "hazards": rows,
        },
    )


@router.get("/safety/places/{place_id}")
def place_page(request: Request, place_id: PathId, session: ReadSession, a: Inspector) -> Response:
    return _place_page(request, session, place_id)


@router.post("/safety/places/{place_id}/phone")
def place_phone(request: Request, place_id: PathId, session: WriteSession, a: Inspector) -> Response:
    phone = svc.reveal_phone(session, actor=a.actor, place_id=place_id)
    return _place_page(request, session, place_id, phone=phone or "—")


router.include_router(inspections_work.router)
