"""好差评 pages.

``/services/applications/{id}/rate``: the applicant rates a concluded application (phone first,
``?large=1`` large text; the channel is the device: phone, computer, or ``?via=qr`` from the QR code),
or a window clerk enters what the applicant gave on a hall 评价器, by phone or text; 追评 below.
``/services/ratings``: the ratings of the caller's department (all for supervisors and window
clerks), 差评 with open rectifications first, filters and the statistics per department, township or
month. ``/services/ratings/{id}``: one rating and its rectification steps (核实 → 整改 → 回访) with a form
for each step the caller may take.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, PermissionDenied
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import audit, departments
from countyos.services import codes
from countyos.services.api.common import Person
from countyos.services.api.ratings import local_midnight
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.lifecycle import LABELS as STATE_LABELS
from countyos.services.models import Application, Rating, RectificationAction, RectificationState
from countyos.services.pages.common import SERVICES
from countyos.services.schemas import MAX_ID, FollowUpIn, RatingIn, RectificationActionIn, RectificationLimitsIn
from countyos.services.service import applications, rectification
from countyos.services.service import ratings as svc
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Supervisor = Annotated[Auth, Depends(require(rectification.SUPERVISE))]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
RatingId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50

NAV = [
    NavItem(SERVICES, N_("Ratings"), "/services/ratings", "services.application.supervise", order=140),
    NavItem(SERVICES, N_("Ratings"), "/services/ratings", "services.application.handle", order=140),
]
audit.name_codes(
    actions={
        "services.rating.create": N_("Application rated"),
        "services.rating.follow_up": N_("Follow-up comment on a rating"),
        "services.rating.limits": N_("Rectification time limits changed"),
        "services.rectification.verify": N_("Bad rating verified: founded"),
        "services.rectification.dismiss": N_("Bad rating verified: unfounded"),
        "services.rectification.rectify": N_("Bad rating rectified"),
        "services.rectification.revisit": N_("Rater revisited, rectification closed"),
        "services.rectification.reopen": N_("Rater revisited, rectification reopened"),
    },
    targets={"services_rating": N_("Rating"), "services_rectification_limit": N_("Rectification time limits")},
)
GROUP_LABELS = {"department": N_("By department"), "township": N_("By township"), "month": N_("By month")}
RATING_FIELDS = ("channel", "level", "comment", "rater_name", "department_id", "window")


def _dep_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in departments.all_active(session)}


# ── rate ─────────────────────────────────────────────────────────────────────────────────────────────


def _online_channel(request: Request, via: str) -> RatingChannel:
    if via == "qr":
        return RatingChannel.QR_CODE
    agent = request.headers.get("user-agent", "")
    return RatingChannel.MOBILE if any(k in agent for k in ("Mobile", "Android", "iPhone")) else RatingChannel.PC


def _rater_kind(actor: Actor, app: Application) -> str:
    if actor.id is not None and actor.id == app.applicant_user_id:
        return "applicant"
    if actor.can(svc.WINDOW):
        return "window"
    raise PermissionDenied(N_("Only the applicant, or a window clerk for them, rates an application"))


def _rate_page(
    request: Request,
    session: Session,
    actor: Actor,
    app: Application,
    *,
    large: bool,
    via: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    follow_errors: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    kind = _rater_kind(actor, app)
    mine = svc.of_application(session, actor=actor, application_id=app.id)
    channel = _online_channel(request, via)
    taken = {r.channel for r in session.query(Rating).filter(Rating.application_id == app.id)}
    if kind == "applicant":
        channels = [channel] if channel not in taken else []
    else:
        channels = [c for c in svc.WINDOW_CHANNELS if c not in taken]
    deps = _dep_names(session)
    rateable = [(i, deps.get(i, "")) for i in svc.rateable_departments(session, app)]
    v = values or {
        "channel": str(channels[0]) if channels else "",
        "level": "",
        "tags": [],
        "comment": "",
        "anonymous": "",
        "rater_name": app.applicant_name if kind == "window" else "",
        "department_id": str(app.department_id or ""),
        "window": "",
    }
    return templates(request).render(
        request,
        "services/ratings/rate.html",
        {
            "app": app,
            "matter_name": applications.version_of(session, app).name,
            "state_label": STATE_LABELS[app.state],
            "rateable": app.state in {str(s) for s in svc.RATEABLE_STATES},
            "kind": kind,
            "channels": channels,
            "ratings": mine,
            "can_follow_up": {r.id: _may_follow_up(actor, r) for r in mine},
            "departments": rateable,
            "levels": svc.LEVELS,
            "good_tags": svc.GOOD_TAGS,
            "bad_tags": svc.BAD_TAGS,
            "v": v,
            "errors": errors or {},
            "follow_errors": follow_errors or {},
            "large": large,
            "via": via,
            **svc.labels(),
        },
        status_code=status,
    )


def _may_follow_up(actor: Actor, r: Rating) -> bool:
    own = actor.id is not None and actor.id == r.rater_user_id
    return r.follow_up is None and (own or (r.channel in svc.WINDOW_CHANNELS and actor.can(svc.WINDOW)))


def _back(app_id: int, large: bool, via: str) -> str:
    query = urlencode({k: v for k, v in (("large", "1" if large else ""), ("via", via)) if v})
    return f"/services/applications/{app_id}/rate" + (f"?{query}" if query else "")


@router.get("/services/applications/{application_id}/rate")
def rate_page(
    request: Request,
    application_id: AppId,
    session: ReadSession,
    a: Person,
    large: Annotated[bool, Query()] = False,
    via: Annotated[str, Query(max_length=4, pattern="^(qr)?$")] = "",
) -> Response:
    app = applications.get(session, actor=a.actor, application_id=application_id)
    return _rate_page(request, session, a.actor, app, large=large, via=via)


@router.post("/services/applications/{application_id}/rate")
def rate(
    request: Request,
    application_id: AppId,
    session: WriteSession,
    a: Person,
    form: PostedForm,
    large: Annotated[bool, Query()] = False,
    via: Annotated[str, Query(max_length=4, pattern="^(qr)?$")] = "",
) -> Response:
    app = applications.get(session, actor=a.actor, application_id=application_id)
    kind = _rater_kind(a.actor, app)
    values: dict[str, Any] = forms.typed(form, RATING_FIELDS)
    values["tags"] = [t for t in form.getlist("tags") if isinstance(t, str)][: len(svc.TAG_LABELS)]
    values["anonymous"] = "1" if form.get("anonymous") == "1" else ""
    if kind == "applicant":  # the device decides the channel; names and windows are the clerk's fields
        values.update(channel=str(_online_channel(request, via)), rater_name="", window="")
    try:
        data = {k: v for k, v in values.items() if k not in ("tags", "anonymous") and str(v).strip()}
        body = RatingIn.model_validate({**data, "tags": values["tags"], "anonymous": values["anonymous"] == "1"})
        svc.rate(session, actor=a.actor, application_id=app.id, data=svc.RatingInput(**body.model_dump()))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        errors = {k.split(".")[0]: m for k, m in errors.items()}
        if errors and "" not in errors:
            errors[""] = translate(request, "Please correct the marked fields")
        app = applications.get(session, actor=a.actor, application_id=application_id)
        status = exc.status if isinstance(exc, CountyError) else 422
        return _rate_page(
            request, session, a.actor, app, large=large, via=via, values=values, errors=errors, status=status
        )
    return redirect(_back(app.id, large, via), flash=translate(request, "Thank you for your rating"))


@router.post("/services/applications/{application_id}/rate/{rating_id}/follow-up")
def rate_follow_up(
    request: Request,
    application_id: AppId,
    rating_id: RatingId,
    session: WriteSession,
    a: Person,
    form: PostedForm,
    large: Annotated[bool, Query()] = False,
    via: Annotated[str, Query(max_length=4, pattern="^(qr)?$")] = "",
) -> Response:
    app = applications.get(session, actor=a.actor, application_id=application_id)
    text = forms.typed(form, ("text",))["text"]
    try:
        rating = svc.get(session, actor=a.actor, rating_id=rating_id)
        if rating.application_id != app.id:
            from countyos.core.errors import NotFound

            raise NotFound(N_("No such rating"))
        body = FollowUpIn.model_validate({"text": text})
        svc.follow_up(session, actor=a.actor, rating_id=rating_id, text=body.text)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        message = next(iter(forms.field_errors(request, exc).values()), translate(request, "Not valid"))
        app = applications.get(session, actor=a.actor, application_id=application_id)
        status = exc.status if isinstance(exc, CountyError) else 422
        return _rate_page(
            request, session, a.actor, app, large=large, via=via, follow_errors={rating_id: message}, status=status
        )
    return redirect(_back(app.id, large, via), flash=translate(request, "Follow-up comment added"))


# ── the ratings list and statistics ──────────────────────────────────────────────────────────────────


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _choice(value: str, allowed: Any) -> str | None:
    return value if value in allowed else None


@router.get("/services/ratings")
def ratings_list(
    request: Request,
    session: ReadSession,
    a: Person,
    bad_only: Annotated[str, Query(max_length=1)] = "",
    level: Annotated[str, Query(max_length=20)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    channel: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(max_length=12)] = "",
    overdue: Annotated[str, Query(max_length=1)] = "",
    start: Annotated[str, Query(max_length=10)] = "",
    end: Annotated[str, Query(max_length=10)] = "",
    group: Annotated[str, Query(max_length=10)] = "department",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Ratings, 差评 first, with filters; the statistics of the period by department, township or month
    (empty for someone who is neither a supervisor, a window clerk nor a department's staff)."""
    from zoneinfo import ZoneInfo

    today = utcnow().astimezone(ZoneInfo(get_settings().timezone)).date()
    d_end = _day(end) or today + timedelta(days=1)
    d_start = _day(start) or d_end - timedelta(days=30)
    if d_start >= d_end:
        d_start = d_end - timedelta(days=1)
    t0, t1 = local_midnight(d_start), local_midnight(d_end)
    lvl = _choice(level, codes.LABELS[Satisfaction])
    ch = _choice(channel, codes.LABELS[RatingChannel])
    st = _choice(state, rectification.LABELS)
    dep = int(department_id) if department_id.isdigit() and 1 <= int(department_id) <= MAX_ID else None
    f = svc.RatingFilter(
        bad_only=bad_only == "1",
        level=Satisfaction(lvl) if lvl else None,
        department_id=dep,
        channel=RatingChannel(ch) if ch else None,
        state=RectificationState(st) if st else None,
        overdue=overdue == "1",
        start=t0,
        end=t1,
    )
    now = utcnow()
    rows, total = svc.listing(session, actor=a.actor, f=f, limit=PAGE, offset=offset, now=now)
    grp = group if group in GROUP_LABELS else "department"
    stats, stats_total = svc.statistics(session, actor=a.actor, start=t0, end=t1, group=grp, department_id=dep)
    deps = _dep_names(session)
    apps_by_id = {r.application_id: session.get(Application, r.application_id) for r, _ in rows}
    query = {
        "bad_only": bad_only,
        "level": level,
        "department_id": department_id,
        "channel": channel,
        "state": state,
        "overdue": overdue,
        "start": d_start.isoformat(),
        "end": d_end.isoformat(),
        "group": grp,
    }
    period = {"start": d_start.isoformat(), "end": d_end.isoformat()}
    return templates(request).render(
        request,
        "services/ratings/list.html",
        {
            "rows": rows,
            "total": total,
            "apps": apps_by_id,
            "offset": offset,
            "limit": PAGE,
            "query": query,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "period_query": urlencode(period),
            "stats": stats,
            "stats_total": stats_total,
            "group": grp,
            "groups": GROUP_LABELS,
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda t: t[1]),
            "now": now,
            "overdue": rectification.overdue,
            "is_bad": svc.is_bad,
            "limits": rectification.limits(session),
            "may_set_limits": a.actor.can(rectification.SUPERVISE),
            "limit_errors": {},
            **svc.labels(),
        },
    )


@router.post("/services/ratings/limits")
def set_limits(request: Request, session: WriteSession, a: Supervisor, form: PostedForm) -> Response:
    """The supervisors' form of the 核实/整改/回访 time limits (working days)."""
    values = forms.typed(form, ("verifying", "rectifying", "revisiting"))
    try:
        body = forms.parse(RectificationLimitsIn, dict(values))
        rectification.set_limits(
            session, actor=a.actor, days={RectificationState(k): v for k, v in body.model_dump().items()}
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        message = "; ".join(
            f"{translate(request, rectification.STEP_LABELS.get(k, k))}: {m}" for k, m in errors.items()
        )
        return redirect("/services/ratings", flash=message, kind="error")
    return redirect("/services/ratings", flash=translate(request, "Time limits saved"))


# ── one rating and its rectification ─────────────────────────────────────────────────────────────────


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    rating: Rating,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    app = svc.application_of(session, rating)
    rec = rectification.of_rating(session, rating.id)
    events = rectification.events(session, rec) if rec else []
    deps = _dep_names(session)
    return templates(request).render(
        request,
        "services/ratings/detail.html",
        {
            "r": rating,
            "app": app,
            "matter_name": applications.version_of(session, app).name,
            "rec": rec,
            "events": events,
            "actor_names": rectification.actor_names(session, events),
            "allowed": rectification.allowed_actions(actor, rec) if rec else [],
            "overdue": rectification.overdue(rec) if rec else False,
            "deps": deps,
            "may_open_application": applications.may_read(session, actor, app) and actor.id != app.applicant_user_id,
            "v": values or {},
            "errors": errors or {},
            "is_bad": svc.is_bad(rating.level),
            **svc.labels(),
        },
        status_code=status,
    )


@router.get("/services/ratings/{rating_id}")
def rating_page(request: Request, rating_id: RatingId, session: ReadSession, a: Person) -> Response:
    rating = svc.get(session, actor=a.actor, rating_id=rating_id)
    if not svc.may_list(a.actor):
        raise PermissionDenied(N_("Only supervisors and departments' staff see the ratings"))
    return _detail(request, session, a.actor, rating)


@router.post("/services/ratings/{rating_id}/rectification/{action}")
def rectification_step(
    request: Request,
    rating_id: RatingId,
    action: RectificationAction,
    session: WriteSession,
    a: Person,
    form: PostedForm,
) -> Response:
    values = forms.typed(form, ("version", "note"))
    try:
        body = RectificationActionIn.model_validate({"version": values["version"] or "0", "note": values["note"]})
        rectification.act(
            session, actor=a.actor, rating_id=rating_id, action=action, version=body.version, note=body.note
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        rating = svc.get(session, actor=a.actor, rating_id=rating_id)
        errors = forms.field_errors(request, exc)
        if isinstance(exc, CountyError) and (allowed := getattr(exc, "allowed", None)) is not None:
            names = "、".join(translate(request, rectification.ACTION_LABELS[x]) for x in allowed)
            errors[""] = exc.message + (
                " " + translate(request, "Allowed now: %(names)s", names=names) if names else ""
            )
        elif "version" in errors:
            errors[""] = translate(request, "The rectification was changed by someone else; reload it")
        status = exc.status if isinstance(exc, CountyError) else 422
        return _detail(
            request, session, a.actor, rating, values={"action": str(action), **values}, errors=errors, status=status
        )
    return redirect(f"/services/ratings/{rating_id}", flash=translate(request, "Saved"))
