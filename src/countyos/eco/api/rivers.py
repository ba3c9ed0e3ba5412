"""API of the rivers part (河长制/林长制) under /api/v1/eco.

Areas (rivers, sections, lakes, reservoirs, forest areas): read with ``eco.rivers.read``, written and
imported with ``eco.rivers.manage``. Chiefs: read, assigned and ended likewise. Patrols: a chief
(``eco.rivers.patrol``) starts a patrol of their own assignment, sends its track in batches, reports
problems (JSON, or a multipart form with a ``photo``), finishes it; anyone with ``eco.rivers.read``
lists them. ``/rivers/stats`` gives 巡河率 and closure by chief and level with the links to their
records. Errors are problem+json.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from shapely.geometry import mapping
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.paging import Paged
from countyos.eco.models.rivers import (
    AreaKind,
    ChiefLevel,
    PatrolState,
    RiverArea,
    RiverChief,
    RiverPatrol,
    RiverProblem,
)
from countyos.eco.permissions import RIVERS_MANAGE, RIVERS_PATROL, RIVERS_READ
from countyos.eco.schemas.rivers import (
    AreaIn,
    AreaOut,
    ChiefEndIn,
    ChiefIn,
    ChiefOut,
    FinishIn,
    LevelOut,
    PatrolOut,
    PatrolStartIn,
    ProblemIn,
    ProblemOut,
    RateOut,
    StatsOut,
    TrackIn,
    TrackOut,
)
from countyos.eco.service import rivers as svc
from countyos.eco.service import rivers_patrols as patrols
from countyos.eco.service import rivers_stats as stats
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(RIVERS_READ))]
Keeper = Annotated[Auth, Depends(require(RIVERS_MANAGE))]
Chief = Annotated[Auth, Depends(require(RIVERS_PATROL))]
MAX_PHOTO_BYTES = 10_000_000
MAX_LIMIT = 500


def area_out(a: RiverArea, *, geometry: bool = False) -> AreaOut:
    return AreaOut(
        id=a.id, kind=a.kind, code=a.code, name=a.name, parent_id=a.parent_id, township_code=a.township_code,
        township_name=a.township_name, length_m=a.length_m, area_m2=a.area_m2, note=a.note, source=a.source,
        active=a.active, url=f"/eco/rivers/areas/{a.id}", geometry=dict(mapping(a.geom)) if geometry else None,
    )  # fmt: skip


def chief_out(c: RiverChief, names: dict[int, str], areas: dict[int, str]) -> ChiefOut:
    return ChiefOut(
        id=c.id, user_id=c.user_id, user_name=names.get(c.user_id, ""), area_id=c.area_id,
        area_name=areas.get(c.area_id, ""), level=c.level, role=c.role, starts_on=c.starts_on, ends_on=c.ends_on,
        end_reason=c.end_reason, url=f"/eco/rivers/chiefs/{c.id}",
    )  # fmt: skip


def chiefs_out(session: Session, rows: list[RiverChief]) -> list[ChiefOut]:
    names = svc.names(session, [c.user_id for c in rows])
    areas = svc.area_names(session, [c.area_id for c in rows])
    return [chief_out(c, names, areas) for c in rows]


def patrol_out(session: Session, p: RiverPatrol, problems: int = 0) -> PatrolOut:
    return PatrolOut(
        id=p.id, chief_id=p.chief_id, area_id=p.area_id,
        area_name=svc.area_names(session, [p.area_id]).get(p.area_id, ""), user_id=p.user_id,
        user_name=svc.names(session, [p.user_id]).get(p.user_id, ""), state=p.state, started_at=p.started_at,
        finished_at=p.finished_at, duration_s=p.duration_s, length_m=p.length_m, points=p.points, flagged=p.flagged,
        flag_reason=gettext(p.flag_reason) if p.flag_reason else None, note=p.note, problems=problems,
        url=f"/eco/rivers/patrols/{p.id}",
    )  # fmt: skip


def problem_out(p: RiverProblem, closed: set[int] | None = None) -> ProblemOut:
    spec = patrols.problem_kinds().get(p.kind, {})
    return ProblemOut(
        id=p.id, patrol_id=p.patrol_id, area_id=p.area_id, chief_id=p.chief_id, kind=p.kind,
        kind_label=str(spec.get("zh", p.kind)), note=p.note, lon=p.lon, lat=p.lat, found_at=p.found_at,
        case_id=p.case_id, case_number=p.case_number,
        case_closed=(p.case_id in closed) if closed is not None and p.case_id is not None else None,
        attachment_id=p.attachment_id,
    )  # fmt: skip


# --- areas ---------------------------------------------------------------------------------------


@router.get("/rivers/areas")
def list_areas(
    session: ReadSession,
    a: Reader,
    kind: AreaKind | None = None,
    q: Annotated[str, Query(max_length=60)] = "",
    geometry: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> list[AreaOut]:
    """Rivers, sections, lakes, reservoirs and forest areas (``kind``), by kind and code."""
    return [area_out(x, geometry=geometry) for x in svc.list_areas(session, kind=kind, q=q, limit=limit)]


@router.get("/rivers/areas.geojson")
def areas_geojson(session: ReadSession, a: Reader) -> dict[str, Any]:
    """Every active area as a GeoJSON FeatureCollection with its patrol status (the map's layer)."""
    status = stats.area_status(session)
    feats = []
    for x in svc.list_areas(session, limit=5000):
        feats.append({
            "type": "Feature", "id": x.id, "geometry": mapping(x.geom),
            "properties": {"id": x.id, "kind": str(x.kind), "code": x.code, "name": x.name,
                           "status": status.get(x.id, "none"), "url": f"/eco/rivers/areas/{x.id}"},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": feats}


@router.get("/rivers/areas/{area_id}")
def get_area(area_id: int, session: ReadSession, a: Reader) -> AreaOut:
    return area_out(svc.get_area(session, area_id=area_id), geometry=True)


@router.post("/rivers/areas", status_code=201)
def create_area(body: AreaIn, session: WriteSession, a: Keeper) -> AreaOut:
    return area_out(svc.create_area(session, actor=a.actor, body=body), geometry=True)


@router.put("/rivers/areas/{area_id}")
def update_area(area_id: int, body: AreaIn, session: WriteSession, a: Keeper) -> AreaOut:
    return area_out(svc.update_area(session, actor=a.actor, area_id=area_id, body=body), geometry=True)


@router.post("/rivers/areas/import")
def import_areas(
    file: UploadFile,
    session: WriteSession,
    a: Keeper,
    kind: AreaKind | None = None,
    crs: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """A GeoJSON, zipped Shapefile or GeoPackage; a report of every feature (added, updated, skipped)."""
    data = forms.read_upload(file, svc.MAX_FILE_BYTES)
    return svc.import_file(session, actor=a.actor, data=data, filename=file.filename or "", kind=kind,
                           source_crs=crs).as_dict()  # fmt: skip


# --- chiefs --------------------------------------------------------------------------------------


@router.get("/rivers/chiefs")
def list_chiefs(
    session: ReadSession,
    a: Reader,
    area_id: Annotated[int | None, Query(ge=1)] = None,
    user_id: Annotated[int | None, Query(ge=1)] = None,
    level: ChiefLevel | None = None,
    current: bool | None = None,
) -> list[ChiefOut]:
    """Assignments (ended ones too unless ``current``)."""
    return chiefs_out(session, svc.list_chiefs(session, area_id=area_id, user_id=user_id, level=level, current=current))


@router.get("/rivers/chiefs/{chief_id}")
def get_chief(chief_id: int, session: ReadSession, a: Reader) -> ChiefOut:
    return chiefs_out(session, [svc.get_chief(session, chief_id=chief_id)])[0]


@router.post("/rivers/chiefs", status_code=201)
def assign_chief(body: ChiefIn, session: WriteSession, a: Keeper) -> ChiefOut:
    return chiefs_out(session, [svc.assign(session, actor=a.actor, body=body)])[0]


@router.post("/rivers/chiefs/{chief_id}/end")
def end_chief(chief_id: int, body: ChiefEndIn, session: WriteSession, a: Keeper) -> ChiefOut:
    c = svc.end(session, actor=a.actor, chief_id=chief_id, ends_on=body.ends_on, reason=body.reason)
    return chiefs_out(session, [c])[0]


# --- patrols -------------------------------------------------------------------------------------


@router.get("/rivers/mine")
def my_assignments(session: ReadSession, a: Chief) -> list[ChiefOut]:
    """The caller's assignments in force today."""
    assert a.actor.id is not None
    return chiefs_out(session, patrols.my_assignments(session, user_id=a.actor.id))


@router.get("/patrols")
def list_patrols(
    session: ReadSession,
    a: Reader,
    chief_id: Annotated[int | None, Query(ge=1)] = None,
    area_id: Annotated[int | None, Query(ge=1)] = None,
    user_id: Annotated[int | None, Query(ge=1)] = None,
    level: ChiefLevel | None = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    flagged: bool | None = None,
    state: PatrolState | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Paged[PatrolOut]:
    since = until = None
    if period:
        since, until = stats.parse_period(period).utc_bounds()
    f = patrols.PatrolFilter(chief_id=chief_id, area_id=area_id, user_id=user_id, level=level, since=since,
                             until=until, flagged=flagged, state=state)  # fmt: skip
    rows, total = patrols.list_patrols(session, f=f, limit=limit, offset=offset)
    counts = patrols.problem_counts(session, [p.id for p in rows])
    return Paged(
        items=[patrol_out(session, p, counts.get(p.id, 0)) for p in rows], total=total, limit=limit, offset=offset
    )


@router.get("/patrols/{patrol_id}")
def get_patrol(patrol_id: int, session: ReadSession, a: Reader) -> dict[str, Any]:
    p = patrols.get(session, patrol_id=patrol_id)
    probs = patrols.problems_of(session, patrol_id=p.id)
    closed = patrols.closed_cases(session, [x.case_id for x in probs if x.case_id is not None])
    return {
        "patrol": patrol_out(session, p, len(probs)).model_dump(mode="json"),
        "track": [[t.lon, t.lat] for t in patrols.track(session, patrol_id=p.id)],
        "problems": [problem_out(x, closed).model_dump(mode="json") for x in probs],
    }


@router.post("/patrols", status_code=201)
def start_patrol(body: PatrolStartIn, session: WriteSession, a: Chief) -> PatrolOut:
    return patrol_out(session, patrols.start(session, actor=a.actor, chief_id=body.chief_id, note=body.note))


@router.post("/patrols/{patrol_id}/track")
def add_track(patrol_id: int, body: TrackIn, session: WriteSession, a: Chief) -> TrackOut:
    added, total = patrols.add_points(session, actor=a.actor, patrol_id=patrol_id, points=body.points)
    return TrackOut(patrol_id=patrol_id, added=added, points=total)


async def problem_input(request: Request) -> tuple[dict[str, Any], patrols.Photo | None]:
    """The problem as JSON, or as a multipart form whose ``photo`` (optional) is a JPEG, PNG or WebP."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        raw = await request.body()
        if len(raw) > 100_000:
            raise PayloadTooLarge(N_("The request is too large"))
        try:
            values = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ValidationFailed(N_("The body is not JSON")) from exc
        if not isinstance(values, dict):
            raise ValidationFailed(N_("The body is not a JSON object"))
        return values, None
    form = await request.form(max_files=1, max_fields=20)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in ProblemIn.model_fields}
    photo = None
    upload = form.get("photo")
    if isinstance(upload, StarletteUpload) and upload.filename:
        data = await upload.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise PayloadTooLarge(N_("The file is too large"))
        if data:
            photo = patrols.Photo(data=data, name=upload.filename)
    return values, photo


ProblemInput = Annotated[tuple[dict[str, Any], patrols.Photo | None], Depends(problem_input)]


@router.post("/patrols/{patrol_id}/problems", status_code=201)
def report_problem(patrol_id: int, given: ProblemInput, session: WriteSession, a: Chief) -> ProblemOut:
    values, photo = given
    try:
        body = forms.parse(ProblemIn, values)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            N_("Please correct the report"),
            errors=[{"field": str(e["loc"][0]) if e["loc"] else "", "message": e["msg"]} for e in exc.errors()],
        ) from exc
    return problem_out(patrols.report_problem(session, actor=a.actor, patrol_id=patrol_id, body=body, photo=photo))


@router.post("/patrols/{patrol_id}/finish")
def finish_patrol(patrol_id: int, session: WriteSession, a: Chief, body: FinishIn | None = None) -> PatrolOut:
    p = patrols.finish(session, actor=a.actor, patrol_id=patrol_id, note=body.note if body else None)
    return patrol_out(session, p, len(patrols.problems_of(session, patrol_id=p.id)))


@router.get("/problems")
def list_problems(
    session: ReadSession,
    a: Reader,
    chief_id: Annotated[int | None, Query(ge=1)] = None,
    area_id: Annotated[int | None, Query(ge=1)] = None,
    level: ChiefLevel | None = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    closed: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Paged[ProblemOut]:
    since = until = None
    if period:
        since, until = stats.parse_period(period).utc_bounds()
    f = patrols.ProblemFilter(chief_id=chief_id, area_id=area_id, level=level, since=since, until=until, closed=closed)
    rows, total = patrols.list_problems(session, f=f, limit=limit, offset=offset)
    done = patrols.closed_cases(session, [p.case_id for p in rows if p.case_id is not None])
    return Paged(items=[problem_out(p, done) for p in rows], total=total, limit=limit, offset=offset)


# --- figures -------------------------------------------------------------------------------------


def stats_out(session: Session, *, period: str, level: ChiefLevel | None, as_of: date | None) -> StatsOut:
    per = stats.parse_period(period)
    rows = stats.rates(session, period=per, level=level, as_of=as_of)
    names = svc.names(session, [r.chief.user_id for r in rows])
    areas = svc.area_names(session, [r.chief.area_id for r in rows])
    chiefs = []
    for r in rows:
        pu, qu = stats.links(per.text, chief_id=r.chief.id)
        chiefs.append(RateOut(
            chief_id=r.chief.id, user_id=r.chief.user_id, user_name=names.get(r.chief.user_id, ""),
            area_id=r.chief.area_id, area_name=areas.get(r.chief.area_id, ""), level=r.chief.level,
            role=r.chief.role, due=r.due, done=r.done, rate=r.rate, missed_units=r.missed, problems=r.problems,
            closed=r.closed, closure_rate=r.closure_rate, overdue=r.overdue, patrols_url=pu, problems_url=qu,
        ))  # fmt: skip
    levels = []
    for lr in stats.by_level(rows):
        pu, qu = stats.links(per.text, level=str(lr.level))
        levels.append(LevelOut(
            level=lr.level, chiefs=lr.chiefs, due=lr.due, done=lr.done, rate=lr.rate, problems=lr.problems,
            closed=lr.closed, closure_rate=lr.closure_rate, overdue=lr.overdue, patrols_url=pu, problems_url=qu,
        ))  # fmt: skip
    return StatsOut(period=per.text, start=per.start, end=per.end, as_of=as_of or stats.local_today(),
                    levels=levels, chiefs=chiefs)  # fmt: skip


@router.get("/rivers/stats")
def river_stats(
    session: ReadSession,
    a: Reader,
    period: Annotated[str | None, Query(max_length=10)] = None,
    level: ChiefLevel | None = None,
    as_of: date | None = None,
) -> StatsOut:
    """巡河率/巡林率 (done ÷ due units), problems and closure by chief and level for a ``period``
    (2026, 2026-Q4, 2026-11; the running year by default); each figure with its records' link."""
    return stats_out(session, period=period or stats.current_period("year"), level=level, as_of=as_of)
