"""GEP pages: ``/eco/gep`` (reports by year and version, the run button), ``/eco/gep/runs/{id}`` (a report
with every item traced to its input records), ``/eco/gep/inputs`` (a year's inputs, the entry form and
the workbook import) and ``/eco/gep/inputs/{id}`` (one input with all its versions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.eco.api.gep import UPLOAD_LIMIT
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.schemas.gep import MAX_YEAR, MIN_YEAR, GepInputIn, GepRunIn
from countyos.eco.service import gep, gep_inputs, gep_parameters, gep_report
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
ECOLOGY = N_("Ecology")
NAV = [
    NavItem(ECOLOGY, N_("GEP accounts"), "/eco/gep", ACCOUNTS_READ, order=518),
    NavItem(ECOLOGY, N_("GEP inputs"), "/eco/gep/inputs", ACCOUNTS_READ, order=519),
]
Reader = Annotated[Auth, Depends(require(ACCOUNTS_READ))]
Manager = Annotated[Auth, Depends(require(ACCOUNTS_MANAGE))]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RUN_FIELDS = ("year", "parameter_version")
SAVED = N_("A new version of the report was saved")
UNCHANGED = N_("Inputs and parameters are unchanged: this is the latest report")
NO_LAYER = N_("There is no land-use layer for this year or before")
AREAS_TAKEN = N_("%(n)s areas by class taken from the land-use layer")
INPUT_FIELDS = ("year", "code", "class_code", "value", "source", "source_ref", "division_code", "note")


def _this_year() -> int:
    return utcnow().year - 1  # accounts are made for the year just ended


def _common() -> dict[str, Any]:
    return {**gep_report.labels(), "yi": gep_report.yi}


def _index(request: Request, session: Session, *, form: Refused | None = None, status: int = 200) -> Response:
    runs = gep.list_runs(session)
    by_year: dict[int, list[Any]] = {}
    for r in runs:
        by_year.setdefault(r.year, []).append(r)
    return templates(request).render(
        request,
        "eco/gep/index.html",
        {
            "by_year": by_year,
            "versions": gep_parameters.versions(),
            "default_year": _this_year(),
            "form": form or Refused.empty(),
            **_common(),
        },
        status_code=status,
    )


@router.get("/eco/gep")
def index(request: Request, session: ReadSession, a: Reader) -> Response:
    return _index(request, session)


@router.post("/eco/gep/runs")
def run(request: Request, session: WriteSession, a: Manager, form: PostedForm) -> Response:
    values = forms.typed(form, RUN_FIELDS)
    try:
        body = forms.parse(GepRunIn, values)
        done, created = gep.run(session, actor=a.actor, year=body.year, parameter_version=body.parameter_version)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _index(request, session, form=refused, status=refused.status)
    message = SAVED if created else UNCHANGED
    return redirect(f"/eco/gep/runs/{done.id}", flash=translate(request, message))


def _charts(request: Request, data: dict[str, Any]) -> dict[str, str]:
    """The report's charts with their labels in the reader's language."""
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        return gep_report.charts(data)


@router.get("/eco/gep/runs/{run_id}")
def report(request: Request, session: ReadSession, a: Reader, run_id: PathId) -> Response:
    data = gep_report.report_data(session, run=gep.get(session, run_id=run_id))
    return templates(request).render(
        request,
        "eco/gep/report.html",
        {
            "data": data,
            "charts": _charts(request, data),
            "versions": gep.list_runs(session, year=data["year"]),
            **_common(),
        },
    )


def _inputs(
    request: Request,
    session: Session,
    *,
    year: int,
    all_versions: bool = False,
    form: Refused | None = None,
    status: int = 200,
    report: gep_inputs.ImportReport | None = None,
    import_error: Refused | None = None,
) -> Response:
    rows = gep_inputs.history(session, year=year) if all_versions else gep_inputs.current(session, year=year)
    return templates(request).render(
        request,
        "eco/gep/inputs.html",
        {
            "year": year,
            "rows": rows,
            "all_versions": all_versions,
            "years": gep_inputs.years(session),
            "catalogue": gep_inputs.CATALOGUE,
            "classes": gep_inputs.CLASSES,
            "sources": gep_inputs.SOURCE_LABELS,
            "form": form or Refused.empty(),
            "import_form": import_error or Refused.empty(),
            "report": report,
            **_common(),
        },
        status_code=status,
    )


@router.get("/eco/gep/inputs")
def inputs(
    request: Request,
    session: ReadSession,
    a: Reader,
    year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR)] = None,
    all: bool = False,
) -> Response:
    return _inputs(request, session, year=year or _this_year(), all_versions=all)


@router.post("/eco/gep/inputs")
def enter_input(request: Request, session: WriteSession, a: Manager, form: PostedForm) -> Response:
    values = forms.typed(form, INPUT_FIELDS)
    try:
        body = forms.parse(GepInputIn, {**values, "class_code": values["class_code"] or ""})
        gep_inputs.record(session, actor=a.actor, **body.model_dump())
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, "entry")
        year = (
            int(values["year"])
            if values["year"].isdigit() and MIN_YEAR <= int(values["year"]) <= MAX_YEAR
            else _this_year()
        )
        return _inputs(request, session, year=year, form=refused, status=refused.status)
    return redirect(f"/eco/gep/inputs?year={body.year}", flash=translate(request, "Saved"))


@router.post("/eco/gep/inputs/import")
def import_inputs(
    request: Request, session: WriteSession, a: Manager, file: Annotated[UploadFile, File()], form: PostedForm
) -> Response:
    year_text = form.get("year")
    year = int(year_text) if isinstance(year_text, str) and year_text.isdigit() else _this_year()
    year = min(max(year, MIN_YEAR), MAX_YEAR)
    try:
        data = forms.read_upload(file, UPLOAD_LIMIT)
        done = gep_inputs.import_workbook(session, actor=a.actor, data=data, filename=file.filename or "upload.xlsx")
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, "import")
        problems = getattr(exc, "errors", [])
        return _inputs(request, session, year=year, import_error=_with_rows(refused, problems), status=exc.status)
    return _inputs(request, session, year=year, report=done)


def _with_rows(refused: Refused, problems: list[dict[str, Any]]) -> Refused:
    """The import's refusal with each bad row listed (sheet, row, column, message)."""
    return Refused({"problems": problems}, refused.errors, refused.error, refused.status, refused.which)


@router.post("/eco/gep/inputs/areas")
def areas_from_layer(request: Request, session: WriteSession, a: Manager, form: PostedForm) -> Response:
    """Record the land-use layer's areas by class as the year's area inputs (the layer's id and version as
    their source)."""
    year_text = form.get("year")
    year = int(year_text) if isinstance(year_text, str) and year_text.isdigit() else _this_year()
    year = min(max(year, MIN_YEAR), MAX_YEAR)
    rows = gep_inputs.areas_from_layer(session, actor=a.actor, year=year)
    if rows is None:
        return redirect(f"/eco/gep/inputs?year={year}", flash=translate(request, NO_LAYER), kind="error")
    return redirect(f"/eco/gep/inputs?year={year}", flash=translate(request, AREAS_TAKEN, n=len(rows)))


@router.get("/eco/gep/inputs/{input_id}")
def input_page(request: Request, session: ReadSession, a: Reader, input_id: PathId) -> Response:
    row = gep_inputs.get(session, input_id=input_id)
    versions = [
        r
        for r in gep_inputs.history(session, year=row.year)
        if (r.code, r.class_code, r.division_code) == (row.code, row.class_code, row.division_code)
    ]
    runs = [r for r in gep.list_runs(session, year=row.year) if row.id in r.input_ids]
    return templates(request).render(
        request, "eco/gep/input.html", {"row": row, "versions": versions, "runs": runs, **_common()}
    )
