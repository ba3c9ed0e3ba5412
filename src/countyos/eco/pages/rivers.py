"""Pages of the rivers part (河长制/林长制).

- ``/eco/rivers``: the 河长办's view — the map of rivers, lakes, sections and forests coloured by patrol
  status, 巡河率 and problems by level and by chief for a period (every number opens its records).
- ``/eco/rivers/areas/{id}``, ``/eco/rivers/chiefs/{id}``, ``/eco/rivers/patrols[/{id}]``,
  ``/eco/rivers/problems``: one water or forest, one chief, the patrol and problem lists.
- ``/eco/rivers/manage``: draw or import areas, assign and end chiefs (``eco.rivers.manage``).
- ``/eco/patrol``: the chief's phone page — my waters and what is due, start, live track, problems
  with a photo, finish (``eco.rivers.patrol``; the page script talks to the API).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.api import rivers as api
from countyos.eco.models.rivers import AreaKind, ChiefLevel, ChiefRole, PatrolState, RiverArea
from countyos.eco.permissions import RIVERS_MANAGE, RIVERS_PATROL, RIVERS_READ
from countyos.eco.schemas.rivers import AreaIn, ChiefEndIn, ChiefIn
from countyos.eco.service import rivers as svc
from countyos.eco.service import rivers_patrols as patrols
from countyos.eco.service import rivers_stats as stats
from countyos.org.models import User
from countyos.org.service import users
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
SECTION = N_("Ecology")
NAV = [
    NavItem(SECTION, N_("River and forest chiefs"), "/eco/rivers", RIVERS_READ, order=510),
    NavItem(SECTION, N_("Rivers and forests: keep"), "/eco/rivers/manage", RIVERS_MANAGE, order=511),
    NavItem(SECTION, N_("My patrol"), "/eco/patrol", RIVERS_PATROL, order=512),
]
Reader = Annotated[Auth, Depends(require(RIVERS_READ))]
Keeper = Annotated[Auth, Depends(require(RIVERS_MANAGE))]
Chief = Annotated[Auth, Depends(require(RIVERS_PATROL))]
LIST_LIMIT = 100
SOURCE_LABELS = {"demo": N_("Demo data"), "drawn": N_("Drawn on the map")}


def _period(value: str | None) -> stats.Period:
    try:
        return stats.parse_period(value or stats.current_period("year"))
    except ValidationFailed:
        return stats.parse_period(stats.current_period("year"))


def _level(value: str | None) -> ChiefLevel | None:
    try:
        return ChiefLevel(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _qs(**values: str) -> str:
    return urlencode({k: v for k, v in values.items() if v})


def _common() -> dict[str, Any]:
    return {
        "kind_names": svc.KIND_NAMES,
        "level_names": svc.LEVEL_NAMES,
        "role_names": svc.ROLE_NAMES,
        "levels": list(ChiefLevel),
        "kinds": list(AreaKind),
        "roles": list(ChiefRole),
        "problem_kinds": patrols.problem_kinds(),
        "source_labels": SOURCE_LABELS,
    }


# --- the 河长办 view -------------------------------------------------------------------------------


@router.get("/eco/rivers")
def overview(request: Request, session: ReadSession, a: Reader, period: str = "", level: str = "") -> Response:
    per, lv = _period(period), _level(level)
    data = api.stats_out(session, period=per.text, level=lv, as_of=None)
    status = stats.area_status(session)
    counts: dict[str, int] = {}
    for s in status.values():
        counts[s] = counts.get(s, 0) + 1
    areas = svc.list_areas(session, limit=5000)
    return templates(request).render(
        request,
        "eco/rivers/overview.html",
        {
            **_common(),
            "stats": data,
            "period": per.text,
            "level": lv,
            "status_counts": counts,
            "areas": areas,
            "status": status,
            "periods": [stats.current_period("month"), stats.current_period("quarter"), stats.current_period("year")],
        },
    )


@router.get("/eco/rivers/areas/{area_id}")
def area_page(request: Request, area_id: int, session: ReadSession, a: Reader, period: str = "") -> Response:
    area = svc.get_area(session, area_id=area_id)
    per = _period(period)
    chiefs = api.chiefs_out(session, svc.list_chiefs(session, area_id=area.id))
    rates = {r.chief.id: r for r in stats.rates(session, period=per, area_id=area.id)}
    rows, total = patrols.list_patrols(session, f=patrols.PatrolFilter(area_id=area.id), limit=20)
    probs, ptotal = patrols.list_problems(session, f=patrols.ProblemFilter(area_id=area.id), limit=20)
    closed = patrols.closed_cases(session, [p.case_id for p in probs if p.case_id is not None])
    parent = session.get(RiverArea, area.parent_id) if area.parent_id else None
    sections = list(session.scalars(select(RiverArea).where(RiverArea.parent_id == area.id).order_by(RiverArea.code)))
    return templates(request).render(
        request,
        "eco/rivers/area.html",
        {
            **_common(),
            "area": area,
            "parent": parent,
            "sections": sections,
            "geometry": json.dumps(mapping(area.geom)),
            "chiefs": chiefs,
            "rates": rates,
            "period": per.text,
            "patrols": [api.patrol_out(session, p) for p in rows],
            "patrol_total": total,
            "problems": [api.problem_out(p, closed) for p in probs],
            "problem_total": ptotal,
        },
    )


@router.get("/eco/rivers/chiefs/{chief_id}")
def chief_page(request: Request, chief_id: int, session: ReadSession, a: Reader, period: str = "") -> Response:
    c = svc.get_chief(session, chief_id=chief_id)
    per = _period(period)
    out = api.chiefs_out(session, [c])[0]
    rate = next((r for r in stats.rates(session, period=per, user_id=c.user_id) if r.chief.id == c.id), None)
    rows, total = patrols.list_patrols(session, f=patrols.PatrolFilter(chief_id=c.id), limit=30)
    probs, ptotal = patrols.list_problems(session, f=patrols.ProblemFilter(chief_id=c.id), limit=30)
    closed = patrols.closed_cases(session, [p.case_id for p in probs if p.case_id is not None])
    others = api.chiefs_out(session, svc.list_chiefs(session, user_id=c.user_id))
    unit, count = stats.duty(c)
    return templates(request).render(
        request,
        "eco/rivers/chief.html",
        {
            **_common(),
            "chief": out,
            "rate": rate,
            "unit": UNIT_WORDS[unit],
            "count": count,
            "period": per.text,
            "others": others,
            "patrols": [api.patrol_out(session, p) for p in rows],
            "patrol_total": total,
            "problems": [api.problem_out(p, closed) for p in probs],
            "problem_total": ptotal,
        },
    )


def _where(period: str, level: str, chief_id: str, area_id: str) -> dict[str, Any]:
    """The filters the patrol and problem lists share, as the service's filter fields."""
    per = stats.parse_period(period) if period else None
    since, until = per.utc_bounds() if per else (None, None)
    return {
        "chief_id": _int(chief_id),
        "area_id": _int(area_id),
        "level": _level(level),
        "since": since,
        "until": until,
    }


def _list(request: Request, name: str, context: dict[str, Any], offset: int, filters: dict[str, str]) -> Response:
    """A list page of patrols or problems: its rows, the page and the filters that made it."""
    return templates(request).render(
        request,
        name,
        {**_common(), **context, "offset": offset, "limit": LIST_LIMIT, "filters": filters, "qs": _qs(**filters)},
    )


@router.get("/eco/rivers/patrols")
def patrol_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    period: str = "",
    level: str = "",
    chief_id: str = "",
    area_id: str = "",
    flagged: str = "",
    offset: int = 0,
) -> Response:
    f = patrols.PatrolFilter(**_where(period, level, chief_id, area_id), flagged={"1": True, "0": False}.get(flagged))
    offset = max(0, min(offset, 100_000))
    rows, total = patrols.list_patrols(session, f=f, limit=LIST_LIMIT, offset=offset)
    counts = patrols.problem_counts(session, [p.id for p in rows])
    rows_out = [api.patrol_out(session, p, counts.get(p.id, 0)) for p in rows]
    filters = {"period": period, "level": level, "chief_id": chief_id, "area_id": area_id}
    return _list(request, "eco/rivers/patrols.html", {"rows": rows_out, "total": total}, offset,
                 {**filters, "flagged": flagged})  # fmt: skip


@router.get("/eco/rivers/patrols/{patrol_id}")
def patrol_page(request: Request, patrol_id: int, session: ReadSession, a: Reader) -> Response:
    p = patrols.get(session, patrol_id=patrol_id)
    probs = patrols.problems_of(session, patrol_id=p.id)
    closed = patrols.closed_cases(session, [x.case_id for x in probs if x.case_id is not None])
    area = svc.get_area(session, area_id=p.area_id)
    track = [[t.lon, t.lat] for t in patrols.track(session, patrol_id=p.id)]
    return templates(request).render(
        request,
        "eco/rivers/patrol.html",
        {
            **_common(),
            "patrol": api.patrol_out(session, p, len(probs)),
            "area": area,
            "problems": [api.problem_out(x, closed) for x in probs],
            "geometry": json.dumps(mapping(area.geom)),
            "track": json.dumps(track),
        },
    )


@router.get("/eco/rivers/problems")
def problem_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    period: str = "",
    level: str = "",
    chief_id: str = "",
    area_id: str = "",
    closed: str = "",
    offset: int = 0,
) -> Response:
    f = patrols.ProblemFilter(**_where(period, level, chief_id, area_id), closed={"1": True, "0": False}.get(closed))
    offset = max(0, min(offset, 100_000))
    rows, total = patrols.list_problems(session, f=f, limit=LIST_LIMIT, offset=offset)
    done = patrols.closed_cases(session, [p.case_id for p in rows if p.case_id is not None])
    context = {
        "rows": [api.problem_out(p, done) for p in rows],
        "areas": svc.area_names(session, [p.area_id for p in rows]),
        "total": total,
    }
    filters = {"period": period, "level": level, "chief_id": chief_id, "area_id": area_id, "closed": closed}
    return _list(request, "eco/rivers/problems.html", context, offset, filters)


# --- keeping areas and chiefs ---------------------------------------------------------------------


AREA_FIELDS = ("kind", "code", "name", "parent_code", "geometry", "note", "area_id")
CHIEF_FIELDS = ("user_id", "area_id", "level", "role", "starts_on", "note")


def _people(session: Session) -> list[tuple[int, str]]:
    holders = users.names_of_holders(session, permission=RIVERS_PATROL)
    return [(p.id, p.display_name) for p in holders]


def _manage(
    request: Request,
    session: Session,
    *,
    area_form: Refused | None = None,
    chief_form: Refused | None = None,
    report: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    areas = svc.list_areas(session, active=None, limit=5000)
    return templates(request).render(
        request,
        "eco/rivers/manage.html",
        {
            **_common(),
            "areas": areas,
            "chiefs": api.chiefs_out(session, svc.list_chiefs(session, current=True)),
            "people": _people(session),
            "area_form": area_form or Refused.empty(),
            "chief_form": chief_form or Refused.empty(),
            "report": report,
            "today": stats.local_today().isoformat(),
        },
        status_code=status,
    )


@router.get("/eco/rivers/manage")
def manage_page(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _manage(request, session)


@router.post("/eco/rivers/manage/areas")
def save_area(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    """A drawn area (the map's draw tool fills ``geometry`` with GeoJSON) or a pasted GeoJSON geometry;
    ``area_id`` set replaces that area."""
    values = forms.typed(form, AREA_FIELDS)
    try:
        raw = values.get("geometry", "").strip()
        try:
            geometry = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ValidationFailed(
                N_("The geometry is not a GeoJSON geometry"), errors=[{"field": "geometry", "message": "not valid"}]
            ) from exc
        if isinstance(geometry, dict) and geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        body = forms.parse(AreaIn, {**{k: v for k, v in values.items() if k != "area_id"}, "geometry": geometry})
        area_id = _int(values.get("area_id"))
        if area_id:
            svc.update_area(session, actor=a.actor, area_id=area_id, body=body)
        else:
            svc.create_area(session, actor=a.actor, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="area")
        return _manage(request, session, area_form=refused, status=refused.status)
    return redirect("/eco/rivers/manage", flash=translate(request, "Saved"))


@router.post("/eco/rivers/manage/import")
def import_areas(
    request: Request,
    session: WriteSession,
    a: Keeper,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = forms.read_upload(file, svc.MAX_FILE_BYTES)
        k = AreaKind(kind) if kind in {x.value for x in AreaKind} else None
        result = svc.import_file(session, actor=a.actor, data=data, filename=file.filename or "", kind=k)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, which="import")
        return _manage(request, session, area_form=refused, status=refused.status)
    return _manage(request, session, report=result.as_dict())


@router.post("/eco/rivers/manage/chiefs")
def save_chief(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, CHIEF_FIELDS)
    try:
        body = forms.parse(ChiefIn, values)
        svc.assign(session, actor=a.actor, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="chief")
        return _manage(request, session, chief_form=refused, status=refused.status)
    return redirect("/eco/rivers/manage", flash=translate(request, "Saved"))


@router.post("/eco/rivers/manage/chiefs/{chief_id}/end")
def end_chief(request: Request, chief_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("ends_on", "reason"))
    try:
        body = forms.parse(ChiefEndIn, values)
        svc.end(session, actor=a.actor, chief_id=chief_id, ends_on=body.ends_on, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="chief")
        return _manage(request, session, chief_form=refused, status=refused.status)
    return redirect("/eco/rivers/manage", flash=translate(request, "Saved"))


# --- the chief's phone page -----------------------------------------------------------------------


@router.get("/eco/patrol")
def patrol_phone(request: Request, session: ReadSession, a: Chief) -> Response:
    assert a.actor.id is not None
    mine = patrols.my_assignments(session, user_id=a.actor.id)
    today = stats.local_today()
    rows = []
    for c in mine:
        r = next(iter(stats.rates(session, period=stats.Period("", today, today), area_id=c.area_id,
                                  user_id=c.user_id)), None)  # fmt: skip
        unit, count = stats.duty(c)
        _first, last = stats.unit_of(unit, today)
        area = svc.get_area(session, area_id=c.area_id)
        rows.append({"chief": c, "area": area, "unit": unit, "count": count, "unit_end": last,
                     "done": bool(r and r.current_done), "overdue": bool(r and r.overdue)})  # fmt: skip
    open_rows, _ = patrols.list_patrols(
        session, f=patrols.PatrolFilter(user_id=a.actor.id, state=PatrolState.OPEN), limit=5
    )
    user = session.get(User, a.actor.id)
    return templates(request).render(
        request,
        "eco/rivers/phone.html",
        {
            **_common(),
            "rows": rows,
            "open": [api.patrol_out(session, p) for p in open_rows],
            "me": user.display_name if user else "",
            "unit_names": UNIT_NAMES,
            "rule": patrols.rule(),
        },
    )


UNIT_WORDS = {"week": N_("week"), "xun": N_("ten days (旬)"), "month": N_("month"), "quarter": N_("quarter")}
UNIT_NAMES = {"week": N_("this week"), "xun": N_("this ten-day period"), "month": N_("this month"),
              "quarter": N_("this quarter")}  # fmt: skip
