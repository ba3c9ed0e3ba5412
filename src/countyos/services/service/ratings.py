"""好差评 (GB/T 39046-2020 表9; GB/T 39734-2020 一次一评·一事一评, GB/T 39735-2020): ratings of concluded
applications, 追评, the 差评 rectification they open, statistics and the 表9 exchange rows.

* One rating per 办件 per 评价渠道 (``RatingChannel``, channels 1–7; a unique key in the table).
* Only a concluded application is rated: 办结 (decided), 已送达 (delivered) or 不予受理 (rejected).
  The applicant rates online with their own account (PC端, 移动服务端, 二维码); a window clerk
  (``services.application.window``) enters what the applicant gave on a hall 评价器 (平板电脑, 其他终端)
  or by 电话 / 短信, named (the applicant or the person at the window) or anonymous.
* The level is stored as its meaning (``Satisfaction``); ``level_code`` gives the national A.8 code
  (1 非常满意 … 5 非常不满意) or the provincial opposite order (1 非常不满意 … 5 非常满意), both as data
  in ``codes``.
* 好评 = 非常满意, 满意, 基本满意; 差评 = 不满意, 非常不满意. A 差评 needs what went wrong (a tag or a
  comment) and opens a rectification (``service/rectification.py``) assigned to the rated department.
* One 追评 per rating, by whoever gave it (the applicant online; the window for a window rating).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from random import Random
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.service import audit
from countyos.services import codes
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.lifecycle import State
from countyos.services.models import Application, ApplicationStep, Rating, RatingTag, Rectification
from countyos.services.service import applications, rectification

WINDOW = "services.application.window"
HANDLE = "services.application.handle"
SUPERVISE = "services.application.supervise"
STATISTICS = "services.statistics.read"  # leaders: every rating, to read (the statistics and their records)
MAX_PAGE = 200
MAX_PERIOD_DAYS = 3700

RATEABLE_STATES = frozenset({State.DECIDED, State.DELIVERED, State.REJECTED})
GOOD = frozenset({Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.FAIRLY_SATISFIED})
BAD = frozenset({Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED})
ONLINE_CHANNELS = (RatingChannel.MOBILE, RatingChannel.PC, RatingChannel.QR_CODE)  # the applicant's own
WINDOW_CHANNELS = (RatingChannel.HALL_TABLET, RatingChannel.HALL_TERMINAL, RatingChannel.PHONE, RatingChannel.SMS)
LEVELS = (  # best first, as a rater sees them
    Satisfaction.VERY_SATISFIED,
    Satisfaction.SATISFIED,
    Satisfaction.FAIRLY_SATISFIED,
    Satisfaction.DISSATISFIED,
    Satisfaction.VERY_DISSATISFIED,
)


GOOD_TAGS = (RatingTag.CLEAR_GUIDE, RatingTag.ONE_VISIT, RatingTag.FRIENDLY, RatingTag.FAST)
BAD_TAGS = tuple(t for t in RatingTag if t not in GOOD_TAGS)

TAG_LABELS: dict[str, str] = {
    RatingTag.CLEAR_GUIDE: N_("Clear guide"),
    RatingTag.ONE_VISIT: N_("Done in one visit"),
    RatingTag.FRIENDLY: N_("Friendly service"),
    RatingTag.FAST: N_("Quick handling"),
    RatingTag.UNCLEAR_GUIDE: N_("The guide was unclear"),
    RatingTag.REPEATED_MATERIALS: N_("Materials asked for again"),
    RatingTag.MANY_VISITS: N_("Had to come several times"),
    RatingTag.LONG_WAIT: N_("Long wait"),
    RatingTag.SLOW: N_("Took longer than promised"),
    RatingTag.ATTITUDE: N_("Unfriendly staff"),
    RatingTag.UNFAIR_RESULT: N_("Disagree with the result"),
}


class SatisfactionOrder(StrEnum):
    NATIONAL = "national"  # GB/T 39046 A.8: 1 非常满意 … 5 非常不满意
    ASCENDING = "ascending"  # provincial interfaces: 1 非常不满意 … 5 非常满意


ORDERS: dict[SatisfactionOrder, dict[Satisfaction, str]] = {
    SatisfactionOrder.NATIONAL: {s: codes.national_code(s) for s in Satisfaction},
    SatisfactionOrder.ASCENDING: dict(codes.SATISFACTION_ASCENDING),
}


def level_code(level: Satisfaction, order: SatisfactionOrder = SatisfactionOrder.NATIONAL) -> str:
    return ORDERS[order][level]


def level_from_code(code: str, order: SatisfactionOrder = SatisfactionOrder.NATIONAL) -> Satisfaction:
    for level, c in ORDERS[order].items():
        if c == code.strip():
            return level
    raise ValueError(f"{code!r} is not a satisfaction code of the {order} order")


def is_bad(level: Satisfaction | str) -> bool:
    return Satisfaction(level) in BAD


# ── who may read ─────────────────────────────────────────────────────────────────────────────────────


def _staff_of(actor: Actor) -> bool:
    return actor.can(HANDLE) or actor.can(WINDOW) or actor.can(SUPERVISE)


def may_read(actor: Actor, rating: Rating) -> bool:
    """The rater's own account, supervisors, window clerks, and staff of the rated department."""
    if actor.id is not None and actor.id == rating.rater_user_id:
        return True
    if actor.can(SUPERVISE) or actor.can(WINDOW):
        return True
    return _staff_of(actor) and actor.department_id is not None and actor.department_id == rating.department_id


def get(session: Session, *, actor: Actor, rating_id: int) -> Rating:
    rating = session.get(Rating, rating_id)
    if rating is None or not may_read(actor, rating):
        raise NotFound(N_("No such rating"))
    return rating


def of_application(session: Session, *, actor: Actor, application_id: int) -> list[Rating]:
    """The ratings of an application the actor may read (the applicant: theirs only)."""
    app = applications.get(session, actor=actor, application_id=application_id)
    rows = session.scalars(select(Rating).where(Rating.application_id == app.id).order_by(Rating.id))
    return [r for r in rows if may_read(actor, r)]


def shown_rater(rating: Rating) -> str | None:
    """The rater as staff see them: the name, or None for an anonymous rating (the page says 匿名)."""
    return None if rating.anonymous else rating.rater_name


# ── rating ───────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class RatingInput:
    """What a rating form or the API gives (parsed by ``schemas.RatingIn``)."""

    channel: RatingChannel
    level: Satisfaction
    tags: list[RatingTag] = field(default_factory=list)
    comment: str | None = None
    anonymous: bool = False
    rater_name: str | None = None  # the person at the window (a window rating); default the applicant
    department_id: int | None = None  # the department rated; default the application's
    window: str | None = None


def _fail(field_name: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field_name, "message": gettext(message, **params)}], **params)


def rateable_departments(session: Session, app: Application) -> list[int]:
    """The departments a rating of this application may name: its responsible department, the
    departments of its steps and the one where it was submitted (a township 便民服务中心)."""
    ids = [app.department_id]
    ids += list(session.scalars(select(ApplicationStep.department_id).where(ApplicationStep.application_id == app.id)))
    ids.append(app.submitted_by_department_id)
    out: list[int] = []
    for i in ids:
        if i is not None and i not in out:
            out.append(i)
    return out


def township_of(session: Session, app: Application, department_id: int | None) -> str | None:
    """The 9-digit township code where the application was handled: the township or village office
    that took it in, else the rated department when it is a township's; None at county level."""
    from countyos.org.models import Department, DepartmentKind

    for dep_id in (app.submitted_by_department_id, department_id):
        dep = session.get(Department, dep_id) if dep_id else None
        if (
            dep is not None
            and dep.kind in (DepartmentKind.TOWNSHIP, DepartmentKind.VILLAGE)
            and dep.division_code
            and len(dep.division_code) >= 9
        ):
            return dep.division_code[:9]
    return None


def rate(
    session: Session, *, actor: Actor, application_id: int, data: RatingInput, now: datetime | None = None
) -> Rating:
    """Rate a concluded application (see the module docstring); a 差评 opens its rectification."""
    now = now or utcnow()
    app = session.get(Application, application_id)
    if app is None or not applications.may_read(session, actor, app):
        raise NotFound(N_("No such application"))
    is_applicant = actor.id is not None and actor.id == app.applicant_user_id
    if data.channel in ONLINE_CHANNELS:
        if not is_applicant:
            raise PermissionDenied(N_("Only the applicant rates an application online"))
    elif not actor.can(WINDOW):
        raise PermissionDenied(N_("Only a window clerk enters a rating from a service hall device, phone or text"))
    if State(app.state) not in RATEABLE_STATES:
        raise Conflict(N_("Only a concluded application can be rated"))
    if is_bad(data.level) and not data.tags and not (data.comment or "").strip():
        raise _fail("comment", N_("Tell us what went wrong: choose a reason or write it"))
    allowed_deps = rateable_departments(session, app)
    department_id = data.department_id if data.department_id is not None else app.department_id
    if data.department_id is not None and data.department_id not in allowed_deps:
        raise _fail("department_id", N_("This department did not handle the application"))
    if data.channel in ONLINE_CHANNELS:
        rater_name = app.applicant_name
    else:
        rater_name = (data.rater_name or "").strip() or app.applicant_name
    rating = Rating(
        application_id=app.id,
        channel=data.channel,
        level=data.level,
        tags=[str(t) for t in dict.fromkeys(data.tags)],
        comment=(data.comment or "").strip() or None,
        anonymous=data.anonymous,
        rater_name=None if data.anonymous else rater_name[:100],
        rater_user_id=actor.id if data.channel in ONLINE_CHANNELS else None,
        entered_by_id=None if data.channel in ONLINE_CHANNELS else actor.id,
        department_id=department_id,
        window=(data.window or "").strip() or None,
        township_code=township_of(session, app, department_id),
        rated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            N_("This application has already been rated through %(channel)s; add a follow-up comment instead"),
            channel=gettext(codes.LABELS[RatingChannel][data.channel]),
        ) from exc
    rec = rectification.open_for(session, rating=rating, now=now) if is_bad(data.level) else None
    audit.record(
        session,
        actor=actor,
        action="services.rating.create",
        target_type="services_application",
        target_id=app.number,
        detail={
            "rating_id": rating.id,
            "channel": str(data.channel),
            "level": str(data.level),
            "anonymous": data.anonymous,
            "rectification_id": rec.id if rec else None,
        },
    )
    return rating


MAX_FOLLOW_UP = 1000


def follow_up(session: Session, *, actor: Actor, rating_id: int, text: str, now: datetime | None = None) -> Rating:
    """追评: one follow-up comment on a rating, by whoever gave it."""
    now = now or utcnow()
    rating = get(session, actor=actor, rating_id=rating_id)
    own = actor.id is not None and actor.id == rating.rater_user_id
    window = rating.channel in WINDOW_CHANNELS and actor.can(WINDOW)
    if not (own or window):
        raise PermissionDenied(N_("Only the rater adds a follow-up comment"))
    text = text.strip()
    if not text or len(text) > MAX_FOLLOW_UP:
        raise _fail("text", N_("Write the follow-up comment (at most %(n)s characters)"), n=MAX_FOLLOW_UP)
    if rating.follow_up is not None:
        raise Conflict(N_("This rating already has its follow-up comment"))
    rating.follow_up, rating.follow_up_at = text, now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="services.rating.follow_up",
        target_type="services_rating",
        target_id=str(rating.id),
        detail={"length": len(text)},
    )
    return rating


# ── listing ──────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class RatingFilter:
    bad_only: bool = False
    level: Satisfaction | None = None
    department_id: int | None = None
    channel: RatingChannel | None = None
    state: rectification.State | None = None
    overdue: bool = False
    start: datetime | None = None
    end: datetime | None = None
    application_number: str | None = None


_S = TypeVar("_S", bound=Select[Any, Any])


def may_list(actor: Actor) -> bool:
    return (
        actor.can(SUPERVISE)
        or actor.can(WINDOW)
        or actor.can(STATISTICS)
        or (_staff_of(actor) and actor.department_id is not None)
    )


def _visible(stmt: _S, actor: Actor) -> _S:
    if actor.can(SUPERVISE) or actor.can(WINDOW) or actor.can(STATISTICS):
        return stmt
    return stmt.where(Rating.department_id == actor.department_id)


def listing(
    session: Session, *, actor: Actor, f: RatingFilter, limit: int = 50, offset: int = 0, now: datetime | None = None
) -> tuple[list[tuple[Rating, Rectification | None]], int]:
    """Ratings the actor may see, 差评 first (open rectifications first, the oldest due first), then newest.
    Nothing for someone who is neither a supervisor, a window clerk nor a department's staff."""
    if not may_list(actor):
        return [], 0
    now = now or utcnow()
    stmt = _visible(select(Rating, Rectification).outerjoin(Rectification, Rectification.rating_id == Rating.id), actor)
    if f.bad_only:
        stmt = stmt.where(Rating.level.in_([str(b) for b in BAD]))
    if f.level is not None:
        stmt = stmt.where(Rating.level == f.level)
    if f.department_id is not None:
        stmt = stmt.where(Rating.department_id == f.department_id)
    if f.channel is not None:
        stmt = stmt.where(Rating.channel == f.channel)
    if f.state is not None:
        stmt = stmt.where(Rectification.state == str(f.state))
    if f.overdue:
        stmt = stmt.where(Rectification.state != str(rectification.State.CLOSED), Rectification.due_at < now)
    if f.start is not None:
        stmt = stmt.where(Rating.rated_at >= f.start)
    if f.end is not None:
        stmt = stmt.where(Rating.rated_at < f.end)
    if f.application_number:
        stmt = stmt.where(
            Rating.application_id.in_(select(Application.id).where(Application.number == f.application_number))
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    open_first = or_(Rectification.id.is_(None), Rectification.state == str(rectification.State.CLOSED))
    rows = session.execute(
        stmt.order_by(
            Rectification.id.is_(None),  # 差评 (with a record) first
            open_first,  # open records before closed ones
            Rectification.due_at,
            Rating.rated_at.desc(),
            Rating.id.desc(),
        )
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    ).all()
    return [(r, rec) for r, rec in rows], total


# ── statistics ───────────────────────────────────────────────────────────────────────────────────────


@dataclass
class RatingStats:
    """The numbers of a group, each with the rating ids behind it."""

    key: str
    name: str
    rated: list[int] = field(default_factory=list)
    good: list[int] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)  # 差评
    rectified: list[int] = field(default_factory=list)  # 差评 whose rectification is closed
    named_bad: list[int] = field(default_factory=list)  # 实名差评
    named_rectified: list[int] = field(default_factory=list)

    @staticmethod
    def _pct(num: list[int], den: list[int]) -> float | None:
        return round(100.0 * len(num) / len(den), 2) if den else None

    @property
    def good_rate(self) -> float | None:  # 好评率
        return self._pct(self.good, self.rated)

    @property
    def bad_count(self) -> int:  # 差评数
        return len(self.bad)

    @property
    def rectification_rate(self) -> float | None:  # 差评整改率
        return self._pct(self.rectified, self.bad)

    @property
    def named_rectification_rate(self) -> float | None:  # 实名差评整改率
        return self._pct(self.named_rectified, self.named_bad)

    def add(self, rating: Rating, rec: Rectification | None) -> None:
        self.rated.append(rating.id)
        if not is_bad(rating.level):
            self.good.append(rating.id)
            return
        self.bad.append(rating.id)
        closed = rec is not None and rec.state == rectification.State.CLOSED
        if closed:
            self.rectified.append(rating.id)
        if not rating.anonymous:
            self.named_bad.append(rating.id)
            if closed:
                self.named_rectified.append(rating.id)


GROUPS = ("department", "township", "month", "all")


def _month(t: datetime, tz: Any) -> str:
    return t.astimezone(tz).strftime("%Y-%m")


def statistics(
    session: Session,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    group: str = "department",
    department_id: int | None = None,
) -> tuple[list[RatingStats], RatingStats]:
    """好评率, 差评数, 差评整改率 and 实名差评整改率 of the ratings given in [start, end) per department,
    township (乡镇) or month (county time), and for all of them; each number with its rating ids."""
    from zoneinfo import ZoneInfo

    from countyos.core.settings import get_settings

    if group not in GROUPS:
        raise ValidationFailed(N_("Unknown grouping %(g)s"), g=group)
    if end <= start or end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise ValidationFailed(N_("The period must end after it starts and be at most ten years"))
    if not may_list(actor):
        return [], RatingStats("", "")
    tz = ZoneInfo(get_settings().timezone)
    stmt = _visible(
        select(Rating, Rectification)
        .outerjoin(Rectification, Rectification.rating_id == Rating.id)
        .where(Rating.rated_at >= start, Rating.rated_at < end),
        actor,
    )
    if department_id is not None:
        stmt = stmt.where(Rating.department_id == department_id)
    keys: dict[str, Callable[[Rating], str]] = {
        "department": lambda r: str(r.department_id or ""),
        "township": lambda r: r.township_code or "",
        "month": lambda r: _month(r.rated_at, tz),
        "all": lambda r: "",
    }
    groups: dict[str, RatingStats] = {}
    total = RatingStats("", "")
    for rating, rec in session.execute(stmt.order_by(Rating.id)).all():
        k = keys[group](rating)
        groups.setdefault(k, RatingStats(k, k)).add(rating, rec)
        total.add(rating, rec)
    names = _group_names(session, group, groups.keys())
    for k, row in groups.items():
        row.name = names.get(k, k)
    rows = sorted(groups.values(), key=lambda r: r.key if group == "month" else r.name)
    return rows, total


def _group_names(session: Session, group: str, keys: Iterable[str]) -> dict[str, str]:
    keys = list(keys)
    if group == "department":
        from countyos.org.models import Department

        ids = [int(k) for k in keys if k.isdigit()]
        out = {
            str(i): n for i, n in session.execute(select(Department.id, Department.name).where(Department.id.in_(ids)))
        }
        out[""] = gettext(N_("No department"))
        return out
    if group == "township":
        from countyos.geo.service import divisions

        out = dict(divisions.names_by_code(session, [k for k in keys if k]))
        out[""] = gettext(N_("County level"))
        return out
    if group == "all":
        return {"": gettext(N_("Total"))}
    return {}


# ── 表9 exchange ─────────────────────────────────────────────────────────────────────────────────────


def exchange_rows(
    session: Session, *, start: datetime, end: datetime, order: SatisfactionOrder = SatisfactionOrder.NATIONAL
) -> list[dict[str, Any]]:
    """The ratings given in [start, end) as GB/T 39046-2020 表9 rows (field names as the standard writes
    them, national codes; times in county time, ISO 8601). A 追评 is a second row with 评价次数 2."""
    from zoneinfo import ZoneInfo

    from countyos.core.settings import get_settings

    tz = ZoneInfo(get_settings().timezone)
    division = applications._division(session)
    stmt = (
        select(Rating, Application.number)
        .join(Application, Application.id == Rating.application_id)
        .where(Rating.rated_at >= start, Rating.rated_at < end)
        .order_by(Rating.rated_at, Rating.id)
    )
    out: list[dict[str, Any]] = []
    for rating, number in session.execute(stmt).all():
        base = {
            "办件编号": number,
            "评价渠道": codes.national_code(rating.channel),
            "评价渠道名称": codes.standard_name(rating.channel),
            "评价人": "匿名" if rating.anonymous else (rating.rater_name or ""),
            "满意度": codes.standard_name(rating.level),
            "满意度代码": level_code(rating.level, order),
            "行政区划": rating.township_code or division,
        }
        out.append(
            {
                **base,
                "评价时间": rating.rated_at.astimezone(tz).isoformat(),
                "评价次数": "1",
                "文字评价": rating.comment or "",
            }
        )
        if rating.follow_up is not None and rating.follow_up_at is not None:
            out.append(
                {
                    **base,
                    "评价时间": rating.follow_up_at.astimezone(tz).isoformat(),
                    "评价次数": "2",
                    "文字评价": rating.follow_up,
                }
            )
    return out


# ── demo ─────────────────────────────────────────────────────────────────────────────────────────────


def demo_ratings(session: Session, *, applications: Iterable[Application], rng: Random, now: datetime) -> int:
    """Rate a realistic share of the given concluded demo applications (``ratings_demo.rate_demo``)."""
    from countyos.services.service import ratings_demo

    return ratings_demo.rate_demo(session, applications=applications, rng=rng, now=now)


def labels() -> dict[str, Any]:
    """Label maps for pages (message ids)."""
    return {
        "level_labels": codes.LABELS[Satisfaction],
        "channel_labels": codes.LABELS[RatingChannel],
        "tag_labels": TAG_LABELS,
        "rec_labels": rectification.LABELS,
        "rec_action_labels": rectification.ACTION_LABELS,
        "rec_role_labels": rectification.ROLE_LABELS,
        "rec_step_labels": rectification.STEP_LABELS,
    }


def application_of(session: Session, rating: Rating) -> Application:
    app = session.get(Application, rating.application_id)
    assert app is not None
    return app
