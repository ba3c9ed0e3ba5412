"""好差评 under /api/v1/services: rate a concluded application, 追评, the ratings list and statistics, and
the 差评 rectification steps (核实 → 整改 → 回访) with 409 listing the allowed steps."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.paging import Paged
from countyos.core.settings import get_settings
from countyos.services import schemas
from countyos.services.api.common import Page, PathId, Person
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.models import (
    Application,
    MatterVersion,
    Rating,
    RatingTag,
    RectificationAction,
    RectificationState,
)
from countyos.services.service import ratings as svc
from countyos.services.service import rectification
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Supervisor = Annotated[Auth, Depends(require(rectification.SUPERVISE))]
MAX_PERIOD_DAYS = 3700


def local_midnight(d: date) -> datetime:
    """The start of a county day, as an aware instant."""
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(get_settings().timezone))


def period(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start, end) from county days; ``end`` is excluded."""
    if start is not None and end is not None and end <= start:
        msg = N_("The period must end after it starts")
        raise ValidationFailed(msg, errors=[{"field": "end", "message": gettext(msg)}])
    return (local_midnight(start) if start else None, local_midnight(end) if end else None)


def _dep_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    from countyos.org.models import Department

    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted))).all())


def rectification_out(session: Session, actor: Actor, rating: Rating) -> schemas.RectificationOut | None:
    rec = rectification.of_rating(session, rating.id)
    if rec is None:
        return None
    names = _dep_names(session, {rec.department_id})
    events = rectification.events(session, rec)
    names_of = rectification.actor_names(session, events)
    return schemas.RectificationOut(
        id=rec.id,
        state=RectificationState(rec.state),
        version=rec.version,
        department_id=rec.department_id,
        department_name=names.get(rec.department_id) if rec.department_id else None,
        opened_at=rec.opened_at,
        due_at=rec.due_at,
        overdue=rectification.overdue(rec),
        substantiated=rec.substantiated,
        rounds=rec.rounds,
        closed_at=rec.closed_at,
        allowed_actions=[RectificationAction(a) for a in rectification.allowed_actions(actor, rec)],
        events=[
            schemas.RectificationEventOut.model_validate(e).model_copy(update={"actor_name": names_of[e.id]})
            for e in events
        ],
    )


def rating_out(session: Session, actor: Actor, rating: Rating) -> schemas.RatingOut:
    app = session.get(Application, rating.application_id)
    assert app is not None
    version = session.get(MatterVersion, app.matter_version_id)
    names = _dep_names(session, {rating.department_id})
    return schemas.RatingOut(
        id=rating.id,
        application_id=app.id,
        application_number=app.number,
        matter_name=version.name if version else "",
        channel=RatingChannel(rating.channel),
        level=Satisfaction(rating.level),
        level_code=svc.level_code(Satisfaction(rating.level)),
        bad=svc.is_bad(rating.level),
        tags=[RatingTag(t) for t in rating.tags if t in svc.TAG_LABELS],
        comment=rating.comment,
        anonymous=rating.anonymous,
        rater_name=svc.shown_rater(rating),
        department_id=rating.department_id,
        department_name=names.get(rating.department_id) if rating.department_id else None,
        window=rating.window,
        rated_at=rating.rated_at,
        follow_up=rating.follow_up,
        follow_up_at=rating.follow_up_at,
        rectification=rectification_out(session, actor, rating),
    )


def rating_input(body: schemas.RatingIn) -> svc.RatingInput:
    return svc.RatingInput(**body.model_dump())


@router.get("/applications/{application_id}/ratings", response_model=list[schemas.RatingOut])
def application_ratings(application_id: PathId, session: ReadSession, a: Person) -> list[schemas.RatingOut]:
    """The ratings of an application (the applicant sees their own; staff who may read it, all)."""
    rows = svc.of_application(session, actor=a.actor, application_id=application_id)
    return [rating_out(session, a.actor, r) for r in rows]


@router.post("/applications/{application_id}/ratings", response_model=schemas.RatingOut, status_code=201)
def rate_application(
    application_id: PathId, body: schemas.RatingIn, session: WriteSession, a: Person
) -> schemas.RatingOut:
    """Rate a concluded application: the applicant online (``mobile``, ``pc``, ``qr_code``), a window
    clerk for a hall device, phone or text. One rating per channel (409 for a second one); a 差评 needs
    a tag or a comment and opens its rectification."""
    rating = svc.rate(session, actor=a.actor, application_id=application_id, data=rating_input(body))
    return rating_out(session, a.actor, rating)


@router.post("/applications/{application_id}/ratings/{rating_id}/follow-up", response_model=schemas.RatingOut)
def rating_follow_up(
    application_id: PathId, rating_id: PathId, body: schemas.FollowUpIn, session: WriteSession, a: Person
) -> schemas.RatingOut:
    """追评: one follow-up comment, by whoever gave the rating."""
    rating = svc.get(session, actor=a.actor, rating_id=rating_id)
    if rating.application_id != application_id:
        raise NotFound(N_("No such rating"))
    rating = svc.follow_up(session, actor=a.actor, rating_id=rating_id, text=body.text)
    return rating_out(session, a.actor, rating)


@router.get("/ratings", response_model=Paged[schemas.RatingOut])
def list_ratings(
    session: ReadSession,
    a: Person,
    page: Page,
    bad_only: bool = False,
    level: Satisfaction | None = None,
    department_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    channel: RatingChannel | None = None,
    state: RectificationState | None = None,
    overdue: bool = False,
    start: date | None = None,
    end: date | None = None,
    number: Annotated[str | None, Query(max_length=50)] = None,
) -> Paged[schemas.RatingOut]:
    """Ratings the caller may see (supervisors and window clerks: all; a department's staff: those of
    their department): 差评 with an open rectification first (the oldest due first), then the newest.
    ``start``/``end`` are county days (``end`` excluded)."""
    t0, t1 = period(start, end)
    f = svc.RatingFilter(
        bad_only=bad_only,
        level=level,
        department_id=department_id,
        channel=channel,
        state=state,
        overdue=overdue,
        start=t0,
        end=t1,
        application_number=number,
    )
    rows, total = svc.listing(session, actor=a.actor, f=f, limit=page.limit, offset=page.offset)
    return Paged(
        items=[rating_out(session, a.actor, r) for r, _ in rows], total=total, limit=page.limit, offset=page.offset
    )


def stats_out(row: svc.RatingStats) -> schemas.RatingStatsOut:
    return schemas.RatingStatsOut(
        key=row.key,
        name=row.name,
        rated=len(row.rated),
        good_rate=row.good_rate,
        bad_count=row.bad_count,
        rectification_rate=row.rectification_rate,
        named_rectification_rate=row.named_rectification_rate,
        rating_ids=row.rated,
        bad_ids=row.bad,
        rectified_ids=row.rectified,
        named_bad_ids=row.named_bad,
        named_rectified_ids=row.named_rectified,
    )


@router.get("/ratings/statistics", response_model=schemas.RatingStatisticsOut)
def rating_statistics(
    session: ReadSession,
    a: Person,
    start: date,
    end: date,
    group: Annotated[str, Query(pattern="^(department|township|month|all)$")] = "department",
    department_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
) -> schemas.RatingStatisticsOut:
    """好评率, 差评数, 差评整改率 and 实名差评整改率 of the ratings given from ``start`` to ``end`` (county days,
    ``end`` excluded) per department, township or month, with the rating ids behind every number."""
    t0, t1 = period(start, end)
    assert t0 is not None and t1 is not None
    rows, total = svc.statistics(session, actor=a.actor, start=t0, end=t1, group=group, department_id=department_id)
    return schemas.RatingStatisticsOut(group=group, rows=[stats_out(r) for r in rows], total=stats_out(total))


@router.get("/ratings/limits", response_model=schemas.RectificationLimitsIn)
def rectification_limits(session: ReadSession, a: Person) -> schemas.RectificationLimitsIn:
    """Working days allowed for 核实, 整改 and 回访."""
    return schemas.RectificationLimitsIn(**{str(k): v for k, v in rectification.limits(session).items()})


@router.put("/ratings/limits", response_model=schemas.RectificationLimitsIn)
def set_rectification_limits(
    body: schemas.RectificationLimitsIn, session: WriteSession, a: Supervisor
) -> schemas.RectificationLimitsIn:
    """Change the limits (records already open keep their due times)."""
    days = {RectificationState(k): v for k, v in body.model_dump().items()}
    out = rectification.set_limits(session, actor=a.actor, days=days)
    return schemas.RectificationLimitsIn(**{str(k): v for k, v in out.items()})


@router.get("/ratings/{rating_id}", response_model=schemas.RatingOut)
def get_rating(rating_id: PathId, session: ReadSession, a: Person) -> schemas.RatingOut:
    return rating_out(session, a.actor, svc.get(session, actor=a.actor, rating_id=rating_id))


@router.post("/ratings/{rating_id}/rectification/{action}", response_model=schemas.RatingOut)
def rectification_action(
    rating_id: PathId,
    action: RectificationAction,
    body: schemas.RectificationActionIn,
    session: WriteSession,
    a: Person,
) -> schemas.RatingOut:
    """One step of the 差评's rectification with what was done (``note``) and the ``version`` seen.
    409 ``transition_not_allowed`` (not in this state) and 403 (not yours) list the ``allowed_actions``;
    409 ``stale_version`` when someone else acted first."""
    rectification.act(session, actor=a.actor, rating_id=rating_id, action=action, version=body.version, note=body.note)
    return rating_out(session, a.actor, svc.get(session, actor=a.actor, rating_id=rating_id))
