"""Pages for citizens: the report form and the reporter's own page (status, public timeline, rating)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Form, Request, UploadFile
from starlette.responses import Response

from countyos.cases import lifecycle
from countyos.cases.lifecycle import Action, Role
from countyos.cases.models import Channel, Satisfaction
from countyos.cases.pages import evidence
from countyos.cases.pages.nostore import page_router
from countyos.cases.schemas import ActionIn
from countyos.cases.service import attachments, cases, categories, transitions
from countyos.core.actor import Actor
from countyos.core.errors import CountyError, NotFound, RateLimited, ValidationFailed
from countyos.core.i18n import N_
from countyos.web.deps import ReadSession, WriteSession, client_ip, public
from countyos.web.ratelimit import SlidingWindowLimiter
from countyos.web.templating import redirect, templates, translate

router = page_router()
Public = Annotated[Any, Depends(public)]
MAX_PHOTOS = 3
POSITION_AS_NUMBERS = N_("Enter the longitude and latitude as numbers")
REPORTS_PER_MINUTE = 6  # per client address: enough for a person, not for a script


def _limit(request: Request) -> None:
    """Public posting is rate-limited per client address (one window per application instance)."""
    limiter = getattr(request.app.state, "cases_public_limiter", None)
    if limiter is None:
        limiter = request.app.state.cases_public_limiter = SlidingWindowLimiter(REPORTS_PER_MINUTE)
    retry = limiter.hit(client_ip(request) or "unknown")
    if retry is not None:
        raise RateLimited(retry_after=retry)


def _form_context(
    session: Any, values: dict[str, Any], error: str | None = None, field_errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The citizen's form; FIELD_ERRORS (field → message in the interface language) sit by their field."""
    cats = categories.list_categories(session, reportable=True, public=True)
    return {
        "categories": cats,
        "values": values,
        "error": error,
        "field_errors": field_errors or {},
        "max_photos": MAX_PHOTOS,
    }


def _field_errors(request: Request, exc: CountyError) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in getattr(exc, "errors", None) or []:
        field = "lon" if e.get("field") == "lat" else str(e.get("field") or "")
        found.setdefault(field, translate(request, str(e.get("message") or "")))
    return found


@router.get("/report")
def report_form(request: Request, session: ReadSession, _: Public) -> Response:
    return templates(request).render(request, "cases/report.html", _form_context(session, {}))


@router.post("/report")
def report_submit(
    request: Request,
    session: WriteSession,
    _: Public,
    category_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    crs: Annotated[str, Form()] = "wgs84",
    address: Annotated[str, Form(max_length=256)] = "",
    name: Annotated[str, Form(max_length=60)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """A citizen's report: position from the phone (or typed), photos, contact kept encrypted."""
    _limit(request)
    values = {
        "category_id": int(category_id) if category_id.strip().isdigit() else None,
        "description": description,
        "lon": lon,
        "lat": lat,
        "address": address,
        "name": name,
        "phone": phone,
    }
    actor = Actor(id=None, name="citizen", ip=client_ip(request))
    try:
        chosen = [up for up in photos or [] if up.filename]
        problems = []
        if values["category_id"] is None:
            problems.append({"field": "category_id", "message": N_("Choose the kind of problem")})
        if not description.strip():
            problems.append({"field": "description", "message": N_("Describe the problem")})
        elif len(description) > cases.MAX_DESCRIPTION:
            problems.append({"field": "description", "message": N_("The description is too long")})
        if len(chosen) > MAX_PHOTOS:
            problems.append(
                {
                    "field": "photos",
                    "message": translate(
                        request, N_("At most %(n)s photos; you chose %(chosen)s"), n=MAX_PHOTOS, chosen=len(chosen)
                    ),
                }
            )
        if problems:
            raise ValidationFailed("Please correct the report", errors=problems)
        try:
            lon_f, lat_f = float(lon), float(lat)
        except ValueError as exc:
            raise ValidationFailed(
                "Please give the position (use the button, or type longitude and latitude)",
                errors=[{"field": "lon", "message": POSITION_AS_NUMBERS}],
            ) from exc
        att_ids = []
        for up in chosen:
            data = up.file.read(attachments.MAX_BYTES + 1)
            photo = attachments.store(session, actor=actor, data=data, name=up.filename or "", public=True)
            att_ids.append(photo.id)
        new = cases.NewCase(
            channel=Channel.WEB,
            category_id=int(category_id),
            description=description,
            lon=lon_f,
            lat=lat_f,
            crs=crs if crs in ("wgs84", "gcj02", "bd09", "cgcs2000") else "wgs84",
            address=address,
            public_report=True,
            attachment_ids=att_ids,
            reporter=cases.ReporterIn(name=name or None, phone=phone or None),
        )
        cat = categories.get(session, category_id=int(category_id))
        if not cat.public:
            raise NotFound("Category %(id)s does not exist", id=category_id)
        _case, reporter, _ = cases.create(session, actor=actor, new=new)
    except CountyError as exc:
        session.rollback()
        return templates(request).render(
            request,
            "cases/report.html",
            _form_context(session, values, exc.message, _field_errors(request, exc)),
            status_code=exc.status,
        )
    return redirect(
        f"/r/{reporter.public_token}", flash=translate(request, "Thank you. Keep this page to follow your report.")
    )


def _by_token(session: Any, token: str) -> tuple[Any, Any]:
    rep = cases.reporter_by_token(session, token=token)
    if rep is None:
        raise NotFound("This link is not valid")
    return rep, cases.get(session, case_id=rep.case_id)


@router.get("/r/{token}")
def reporter_page(request: Request, token: str, session: ReadSession, _: Public) -> Response:
    """The reporter's page: status and the timeline without internal comments; rating when closed."""
    rep, case = _by_token(session, token)
    events = [e for e in cases.timeline(session, case_id=case.id, public=True) if e.action in PUBLIC_ACTIONS]
    return templates(request).render(
        request,
        "cases/reporter.html",
        {
            "c": case,
            "rep": rep,
            "token": token,
            "events": events,
            "labels": lifecycle.LABELS,
            "action_labels": lifecycle.ACTION_LABELS,
            "can_rate": case.state == lifecycle.State.CLOSED,
            "satisfactions": list(Satisfaction),
            "sat_labels": lifecycle.SATISFACTION_LABELS,
            # public photos only: the reporter's own, and the after-photos staff published
            "evidence": attachments.before_after(session, case_id=case.id, public=True),
            **evidence.context(lambda p, thumb: f"/r/{token}/photo/{p.id}"),  # thumbnails only: no EXIF
        },
    )


# What the public sees of a case's history: the steps, not the internal exchanges.
PUBLIC_ACTIONS = frozenset(
    {
        "report",
        "accept",
        "reject",
        "register",
        "dispatch",
        "feedback",
        "check_pass",
        "check_fail",
        "close",
        "self_close",
        "rate",
        "merge",
        "merged_in",
        "approve_void",
    }
)


@router.post("/r/{token}/rate")
def rate(
    request: Request,
    token: str,
    session: WriteSession,
    _: Public,
    satisfaction: Annotated[Satisfaction, Form()],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    _limit(request)
    rep, case = _by_token(session, token)
    actor = Actor(id=None, name="reporter", ip=client_ip(request))
    try:
        transitions.apply(
            session,
            actor=actor,
            case_id=case.id,
            as_role=Role.REPORTER,
            data=ActionIn(action=Action.RATE, satisfaction=satisfaction, comment=comment or None),
            context={"reporter_id": rep.id},
        )
    except CountyError as exc:
        session.rollback()
        return redirect(f"/r/{token}", flash=exc.message, kind="error")
    return redirect(f"/r/{token}", flash=translate(request, "Thank you for your rating."))


@router.get("/r/{token}/photo/{attachment_id}")
def public_photo(token: str, attachment_id: int, session: ReadSession, _: Public, thumb: bool = True) -> Response:
    from starlette.responses import FileResponse

    _rep, case = _by_token(session, token)
    att = attachments.get(session, attachment_id=attachment_id)
    if att.case_id != case.id or not att.public:
        raise NotFound("Attachment %(id)s does not exist", id=attachment_id)
    if thumb and att.has_thumbnail:
        return FileResponse(attachments.path_for(att.sha256, thumb=True), media_type="image/jpeg")
    path, media_type = attachments.public_file(att)  # a photo without its EXIF (position, camera)
    return FileResponse(path, media_type=media_type)
