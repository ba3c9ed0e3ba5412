"""Pages of the water part of the ecology domain (生态环境局, ``eco.monitor.read`` to see,
``eco.monitor.manage`` to change):

- ``/eco/water``: the sections with their latest class, target and 达标, filters; the period's 达标率
  as a number that opens its records (``/eco/water/samples``).
- ``/eco/water/sections/{id}``: one section: its samples over time with the class per parameter, a
  small trend of the main parameters against the target limit (SVG drawn here), and the form for a
  lab result (errors beside the fields, what was typed kept).
- ``/eco/water/sections/new`` and ``…/{id}/edit``: the section form; ``/eco/water/import``: a file.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.water import SectionLevel, WaterbodyType, WaterSample, WaterSection
from countyos.eco.permissions import MONITOR_MANAGE, MONITOR_READ
from countyos.eco.schemas.water import SampleIn, SectionIn
from countyos.eco.service import gb3838, water, water_import
from countyos.geo.service import outline
from countyos.org.service import users
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.errors import FIELD_MESSAGES
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

ECO = N_("Ecology")  # the navigation group of the ecology pages
router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(ECO, N_("Water quality sections"), "/eco/water", MONITOR_READ, order=505),
    NavItem(ECO, N_("Import lab results"), "/eco/water/import", MONITOR_MANAGE, order=506),
]
Reader = Annotated[Auth, Depends(require(MONITOR_READ))]
Keeper = Annotated[Auth, Depends(require(MONITOR_MANAGE))]
Short = Annotated[str, Query(max_length=60)]
MAIN = ("do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "ph", "wt")  # the form's first fields
TREND = ("do", "codmn", "nh3n", "tp")
SECTION_FIELDS = ("code", "name", "water_name", "waterbody", "lon", "lat", "level", "target_class", "thing_id")
W, H, PAD = 320, 90, 6
SHOWN = 100  # rows of a section's samples table (the trend reads up to 500)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "labels": gb3838.LABELS,
            "colours": gb3838.COLOURS,
            "items": gb3838.items(),
            "level_names": water.LEVEL_NAMES,
            "waterbody_names": water.WATERBODY_NAMES,
            "source_names": water.SOURCE_NAMES,
            **context,
        },
        status_code=status,
    )


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return default


def _period(start: str, end: str) -> tuple[date, date]:
    today = water.local_day(utcnow())
    first = _day(start, date(today.year, 1, 1))
    last = _day(end, today)
    if last < first or (last - first).days > 5 * 366:
        first, last = date(today.year, 1, 1), today
    return first, last


def _map_of(session: Session, rows: list[WaterSection]) -> dict[str, Any]:
    """The sections on the county's light outline (``geo.service.outline``), coloured by their class."""
    try:
        frame = outline.outline(session)
    except CountyError:
        return {"frame": None, "dots": []}
    dots = [(s, xy) for s in rows if (xy := frame.project(s.lon, s.lat)) is not None]
    return {"frame": frame, "dots": dots}


def _choice(enum: Any, text: str) -> Any:
    return enum(text) if text in {m.value for m in enum} else None


@router.get("/eco/water")
def section_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    q: Short = "",
    waterbody: Short = "",
    level: Short = "",
    meets: Short = "",
    start: Short = "",
    end: Short = "",
) -> Response:
    first, last = _period(start, end)
    verdict = {"yes": True, "no": False}.get(meets)
    rows = water.list_sections(
        session,
        q=q[:60],
        waterbody=_choice(WaterbodyType, waterbody),
        level=_choice(SectionLevel, level),
        meets=verdict,
    )
    rate = water.compliance(session, start=water.day_start(first), end=water.day_start(last + timedelta(days=1)))
    return _render(
        request,
        "eco/water/list.html",
        {
            "rows": rows,
            "q": q[:60],
            "waterbody": waterbody if _choice(WaterbodyType, waterbody) else "",
            "level": level if _choice(SectionLevel, level) else "",
            "meets": meets if verdict is not None else "",
            "start": first.isoformat(),
            "end": last.isoformat(),
            "rate": rate,
            "levels": list(SectionLevel),
            "waterbodies": list(WaterbodyType),
            "map": _map_of(session, rows),
            "grey": water.colour(None),
        },
    )


@router.get("/eco/water/samples")
def period_records(
    request: Request, session: ReadSession, a: Reader, start: Short = "", end: Short = "", meets: Short = ""
) -> Response:
    first, last = _period(start, end)
    verdict = {"yes": True, "no": False}.get(meets)
    lo, hi = water.day_start(first), water.day_start(last + timedelta(days=1))
    rows = water.period_samples(session, start=lo, end=hi, meets=verdict)
    return _render(
        request,
        "eco/water/samples.html",
        {
            "rows": rows,
            "rate": water.compliance(session, start=lo, end=hi),
            "start": first.isoformat(),
            "end": last.isoformat(),
            "meets": meets if verdict is not None else "",
            "most": water.MAX_LIST,
        },
    )


# --- one section ---------------------------------------------------------------------------------


def _trend(samples: list[WaterSample], section: WaterSection) -> list[dict[str, Any]]:
    """Small multiples of the main parameters, oldest left, each on its own scale with the target limit."""
    out = []
    ordered = sorted(samples, key=lambda s: s.sampled_at)
    for code in TREND:
        points = [(s.sampled_at, s.values[code]) for s in ordered if code in s.values]
        if len(points) < 2:
            continue
        limit = gb3838.target_limit(code, section.target_class, section.waterbody.value)
        values = [v for _, v in points] + ([limit] if limit is not None else [])
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        t0, t1 = points[0][0], points[-1][0]
        width = (t1 - t0).total_seconds() or 1.0

        def xy(
            at: datetime, v: float, t0: datetime = t0, width: float = width, lo: float = lo, span: float = span
        ) -> tuple[float, float]:
            x = PAD + (W - 2 * PAD) * (at - t0).total_seconds() / width
            return round(x, 1), round(H - PAD - (H - 2 * PAD) * (v - lo) / span, 1)

        out.append(
            {
                "code": code,
                "item": gb3838.items()[code],
                "points": " ".join(f"{x},{y}" for x, y in (xy(at, v) for at, v in points)),
                "limit": limit,
                "limit_y": xy(t0, limit)[1] if limit is not None else None,
                "lo": lo,
                "hi": hi,
                "last": points[-1][1],
            }
        )
    return out


def _names(session: Session, samples: list[WaterSample]) -> dict[int, str]:
    return {
        k: c.display_name for k, c in users.colleagues(session, user_ids=[s.entered_by_id for s in samples]).items()
    }


def _section_page(
    request: Request, session: Session, section_id: int, form: Refused | None = None, status: int = 200
) -> Response:
    section = water.get_section(session, section_id=section_id)
    rows = water.samples(session, section_id=section_id, start=utcnow() - timedelta(days=3 * 366), limit=500)
    shown = [c for c in gb3838.items() if any(c in s.values for s in rows)]
    others = [c for c in gb3838.items() if c not in MAIN]
    return _render(
        request,
        "eco/water/section.html",
        {
            "s": section,
            "samples": rows,
            "columns": shown,
            "trend": _trend(rows, section),
            "names": _names(session, rows),
            "form": form or Refused.empty(),
            "main": MAIN,
            "others": others,
            "others_open": form is not None and any(f"v_{c}" in form.errors for c in others),
            "W": W,
            "H": H,
            "shown": SHOWN,
            "station": water.station_of(session, section),
        },
        status,
    )


@router.get("/eco/water/sections/{section_id:int}")
def section_page(request: Request, section_id: int, session: ReadSession, a: Reader) -> Response:
    return _section_page(request, session, section_id)


def _value_errors(request: Request, exc: Exception) -> dict[str, str]:
    """Each refused parameter's message beside its own field (``values.tp`` → ``v_tp``)."""
    out: dict[str, str] = {}
    if isinstance(exc, PydanticValidationError):
        for e in exc.errors():
            loc = e["loc"]
            if len(loc) >= 2 and loc[0] == "values":
                out.setdefault(f"v_{loc[1]}", translate(request, FIELD_MESSAGES.get(e["type"], N_("Not valid"))))
    return out


@router.post("/eco/water/sections/{section_id:int}/samples")
def enter_sample(request: Request, section_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    typed = forms.typed(form, ("sampled_at", "lab_name", "report_no", *(f"v_{c}" for c in gb3838.items())))
    values = {c: typed[f"v_{c}"].strip() for c in gb3838.items() if typed[f"v_{c}"].strip()}
    try:
        body = forms.parse(
            SampleIn,
            {
                "sampled_at": typed["sampled_at"],
                "lab_name": typed["lab_name"],
                "report_no": typed["report_no"],
                "values": values,
            },
        )
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            sample = water.enter_lab_result(session, actor=a.actor, section_id=section_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, typed)
        refused.errors.update(_value_errors(request, exc))
        return _section_page(request, session, section_id, refused, refused.status)
    flash = translate(request, "Saved: %(cls)s", cls=gb3838.LABELS.get(sample.cls or "", "—"))
    return redirect(f"/eco/water/sections/{section_id}", flash=flash)


# --- the section form ----------------------------------------------------------------------------


def _section_values(s: WaterSection) -> dict[str, str]:
    return {
        "code": s.code,
        "name": s.name,
        "water_name": s.water_name,
        "waterbody": s.waterbody.value,
        "lon": f"{s.lon:.6f}",
        "lat": f"{s.lat:.6f}",
        "level": s.level.value,
        "target_class": s.target_class,
        "thing_id": str(s.thing_id or ""),
        "active": "on" if s.active else "",
    }


def _form_page(
    request: Request, session: Session, s: WaterSection | None, form: Refused | None = None, status: int = 200
) -> Response:
    blank = Refused(
        _section_values(s) if s else {"waterbody": "river", "level": "county", "target_class": "III", "active": "on"},
        {},
        None,
        200,
    )
    return _render(
        request,
        "eco/water/section_form.html",
        {
            "s": s,
            "form": form or blank,
            "stations": water.stations(session),
            "levels": list(SectionLevel),
            "waterbodies": list(WaterbodyType),
            "targets": gb3838.CLASSES[:5],
        },
        status,
    )


@router.get("/eco/water/sections/new")
def new_section(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, None)


@router.get("/eco/water/sections/{section_id:int}/edit")
def edit_section(request: Request, section_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, water.get_section(session, section_id=section_id))


def _save_section(request: Request, session: Session, a: Auth, form: Any, section_id: int | None) -> Response:
    values = forms.typed(form, (*SECTION_FIELDS, "active"))
    try:
        body = forms.parse(SectionIn, {**{k: values[k] for k in SECTION_FIELDS}, "active": values["active"] == "on"})
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            if section_id is None:
                s = water.create_section(session, actor=a.actor, data=body)
            else:
                s = water.update_section(session, actor=a.actor, section_id=section_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        current = water.get_section(session, section_id=section_id) if section_id is not None else None
        return _form_page(request, session, current, refused, refused.status)
    return redirect(f"/eco/water/sections/{s.id}", flash=translate(request, "Saved"))


@router.post("/eco/water/sections/new")
def create_section(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save_section(request, session, a, form, None)


@router.post("/eco/water/sections/{section_id:int}/edit")
def update_section(request: Request, section_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    water.get_section(session, section_id=section_id)
    return _save_section(request, session, a, form, section_id)


# --- import --------------------------------------------------------------------------------------


def _import_page(
    request: Request,
    *,
    report: water_import.Report | None = None,
    problems: list[dict[str, Any]] | None = None,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    names = [gb3838.items()[c].name for c in gb3838.items()]
    return _render(
        request,
        "eco/water/import.html",
        {
            "report": report,
            "problems": problems or [],
            "form": form or Refused.empty(),
            "parameter_names": names,
            "max_rows": water_import.MAX_ROWS,
            "max_mb": water_import.MAX_FILE_BYTES // 1_000_000,
        },
        status,
    )


@router.get("/eco/water/import")
def import_page(request: Request, a: Keeper) -> Response:
    return _import_page(request)


@router.post("/eco/water/import")
def import_file(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    """A file, all or nothing: the report of what was added, or every bad row."""
    upload = form.get("file")
    try:
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            if not isinstance(upload, StarletteUpload) or not (upload.filename or upload.size):
                raise water.field_error("file", N_("Choose a file"))
            data = forms.read_upload(cast(UploadFile, upload), water_import.MAX_FILE_BYTES)
            report = water_import.import_file(session, actor=a.actor, data=data, filename=upload.filename or "")
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {})
        rows = [e for e in exc.errors if "row" in e] if isinstance(exc, ValidationFailed) else []
        return _import_page(request, problems=rows, form=refused, status=refused.status)
    return _import_page(request, report=report)
