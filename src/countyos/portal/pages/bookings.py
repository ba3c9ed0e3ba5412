"""Portal pages of bookings (预约).

Residents (the list and the slots are public; booking needs ``portal.self``): ``/portal/bookings``
what can be booked, by kind; ``/portal/bookings/{token}`` the next days' slots with the places left and
the booking form; ``/portal/me/bookings`` my bookings, cancelled before the deadline, and each
booking's page (the confirmation). Staff (``portal.booking.manage``, staff shell): the department's
bookables with all their rules, a day view per bookable (check-in, not come, cancel with a reason) and,
for a window appointment, the services desk's form for its matter with the resident filled in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.core.clock import as_utc, utcnow
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.org.service import users
from countyos.portal.booking_lifecycle import STATE_NAMES, Action, Role, actions_for
from countyos.portal.models import Bookable, BookableKind, Booking, BookingState
from countyos.portal.pages.common import PORTAL, render
from countyos.portal.schemas.bookings import ApplicationLinkIn, BookableIn, BookIn, StaffCancelIn
from countyos.portal.service import booking_rules, slots
from countyos.portal.service import bookings as svc
from countyos.services.models import MatterStatus
from countyos.services.service import applications, catalogue
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Public = Annotated[Auth | None, Depends(public)]
Resident = Annotated[Auth, Depends(require(svc.SELF))]
Staff = Annotated[Auth, Depends(require(svc.MANAGE))]
NAV: list[NavItem] = [NavItem(PORTAL, N_("Bookings"), "/portal/bookings/manage", svc.MANAGE, order=320)]
PAGE_SIZE = 30
MAX_MATTERS = 300
DAYS_SHOWN = 7
WEEKDAYS = [N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun")]
RULE_FIELDS = (
    "slot_minutes",
    "capacity",
    "advance_days",
    "min_notice_minutes",
    "per_person_open",
    "cancel_minutes",
    "no_show_limit",
    "no_show_days",
    "ban_days",
)
FIELDS = ("kind", "name", "description", "matter_id", "working_days_only", *RULE_FIELDS)
OPENING_FIELDS = tuple(f"opening_{d}" for d in range(1, 8))


def labels() -> dict[str, Any]:
    return {
        "kind_names": svc.KIND_NAMES,
        "kinds": list(BookableKind),
        "state_names": STATE_NAMES,
        "weekdays": WEEKDAYS,
    }


def _page_no(page: int) -> int:
    return min(max(page, 1), 1000)


# --- staff (registered first: /portal/bookings/manage is not a bookable's token) -------------------


def _matters(session: Session) -> list[tuple[int, str]]:
    """Published matters to pick a window appointment's from, by name."""
    found = [
        (m.id, m.current.name)
        for m in catalogue.all_matters(session)
        if m.status == MatterStatus.PUBLISHED and m.current is not None
    ]
    return sorted(found, key=lambda x: x[1])[:MAX_MATTERS]


def _staff_page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(request, name, {**labels(), **ctx}, status_code=status)


@router.get("/portal/bookings/manage")
def manage_list(request: Request, session: ReadSession, a: Staff, page: int = 1) -> Response:
    page = _page_no(page)
    try:
        rows, total = svc.of_department(session, actor=a.actor, page=PageParams(PAGE_SIZE, (page - 1) * PAGE_SIZE))
        problem = None
    except CountyError as exc:
        rows, total, problem = [], 0, exc.message
    return _staff_page(
        request,
        "portal/bookings/manage.html",
        {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "problem": problem},
    )


def _values_of(b: Bookable) -> dict[str, str]:
    values = {f: str(getattr(b, f)) for f in ("kind", "name", "description", *RULE_FIELDS)}
    values["kind"] = b.kind.value
    values["matter_id"] = str(b.matter_id or "")
    values["working_days_only"] = "1" if b.working_days_only else ""
    for d in range(1, 8):
        values[f"opening_{d}"] = ", ".join(b.opening.get(str(d), []))
    return values


DEFAULTS = {
    "kind": BookableKind.VENUE.value,
    "slot_minutes": "60",
    "capacity": "1",
    "advance_days": "7",
    "min_notice_minutes": "60",
    "per_person_open": "2",
    "cancel_minutes": "120",
    "no_show_limit": "3",
    "no_show_days": "90",
    "ban_days": "30",
    **{f"opening_{d}": "08:30-12:00, 13:30-17:30" for d in range(1, 6)},
}


def _form_page(
    request: Request, session: Session, *, b: Bookable | None, form: Refused | None = None, status: int = 200
) -> Response:
    blank = Refused(_values_of(b) if b else DEFAULTS, {}, None, 200)
    return _staff_page(
        request,
        "portal/bookings/form.html",
        {"b": b, "form": form or blank, "matters": _matters(session)},
        status,
    )


@router.get("/portal/bookings/manage/new")
def new_page(request: Request, session: ReadSession, a: Staff) -> Response:
    return _form_page(request, session, b=None)


def _typed_bookable(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    values = forms.typed(form, (*FIELDS, *OPENING_FIELDS))
    data: dict[str, Any] = {k: values[k] for k in FIELDS if k != "working_days_only"}
    data["working_days_only"] = values["working_days_only"] == "1"
    opening: dict[str, list[str]] = {}
    for d in range(1, 8):
        parts = [p.strip() for p in values[f"opening_{d}"].replace("，", ",").replace(";", ",").split(",")]
        if any(parts):
            opening[str(d)] = [p for p in parts if p]
    data["opening"] = opening
    return values, data


def _save(request: Request, session: Session, a: Auth, form: FormData, b: Bookable | None) -> Response:
    values, data = _typed_bookable(form)
    try:
        body = forms.parse(BookableIn, data)
        if b is None:
            saved = svc.create(session, actor=a.actor, data=body)
        else:
            saved = svc.update_bookable(session, actor=a.actor, bookable_id=b.id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        current = svc.get(session, bookable_id=b.id) if b is not None else None
        return _form_page(request, session, b=current, form=refused, status=refused.status)
    return redirect(f"/portal/bookings/manage/b/{saved.token}", flash=translate(request, "Saved"))


@router.post("/portal/bookings/manage/new")
def create_bookable(request: Request, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


def _own(session: Session, a: Auth, token: str) -> Bookable:
    return svc.for_staff(a.actor, svc.get_by_token(session, token=token, active_only=False))


@router.get("/portal/bookings/manage/b/{token}")
def edit_page(request: Request, token: str, session: ReadSession, a: Staff) -> Response:
    return _form_page(request, session, b=_own(session, a, token))


@router.post("/portal/bookings/manage/b/{token}")
def update_bookable(request: Request, token: str, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    return _save(request, session, a, form, _own(session, a, token))


@router.post("/portal/bookings/manage/b/{token}/active")
def set_active(request: Request, token: str, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    b = _own(session, a, token)
    active = form.get("active") == "1"
    svc.set_active(session, actor=a.actor, bookable_id=b.id, active=active)
    return redirect(
        f"/portal/bookings/manage/b/{token}",
        flash=translate(request, N_("Open for booking") if active else N_("Closed for booking")),
    )


def _day_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return slots.local_today(utcnow())


def _day_page(
    request: Request,
    session: Session,
    a: Auth,
    b: Bookable,
    day: date,
    *,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    rows = svc.day_view(session, bookable=b, day=day)
    base = f"/portal/bookings/manage/b/{b.token}/day?day={day.isoformat()}"
    desk = {
        r.booking.id: svc.desk_start(
            session,
            booking=r.booking,
            bookable=b,
            then=f"/portal/bookings/manage/booking/{r.booking.token}/application",
        )
        for r in rows
        if r.booking.state is BookingState.CHECKED_IN and r.booking.application_id is None
    }
    people = users.colleagues(session, user_ids=[r.booking.changed_by_id for r in rows])
    return _staff_page(
        request,
        "portal/bookings/day.html",
        {
            "b": b,
            "day": day,
            "prev": (day - timedelta(days=1)).isoformat(),
            "next": (day + timedelta(days=1)).isoformat(),
            "rows": rows,
            "desk": desk,
            "people": {i: c.display_name for i, c in people.items()},
            "actions": {
                r.booking.id: [x.value for x in actions_for(r.booking.state, frozenset({Role.STAFF}))] for r in rows
            },
            "matter": svc.matter_name(session, matter_id=b.matter_id),
            "form": form or Refused.empty(),
            "back": base,
            "may_desk": a.actor.can(applications.WINDOW),
        },
        status,
    )


@router.get("/portal/bookings/manage/b/{token}/day")
def day_page(
    request: Request, token: str, session: ReadSession, a: Staff, day: Annotated[str, Query(max_length=10)] = ""
) -> Response:
    return _day_page(request, session, a, _own(session, a, token), _day_of(day))


def _back_to_day(request: Request, b: Bookable, booking: Booking, message: str) -> Response:
    day = slots.local_today(booking.starts_at)
    return redirect(f"/portal/bookings/manage/b/{b.token}/day?day={day.isoformat()}", flash=translate(request, message))


def _link_page(
    request: Request, session: Session, a: Auth, token: str, application_id: int, form: Refused | None = None
) -> Response:
    booking, b = svc.staff_booking(session, actor=a.actor, token=token)
    try:
        app = applications.get(session, actor=a.actor, application_id=application_id)
    except CountyError:
        app = None
    user = users.colleagues(session, user_ids=[booking.user_id]).get(booking.user_id)
    return _staff_page(
        request,
        "portal/bookings/link.html",
        {
            "b": b,
            "booking": booking,
            "app": app,
            "application_id": application_id,
            "resident": user.display_name if user else "",
            "form": form or Refused.empty(),
        },
        form.status if form else 200,
    )


@router.get("/portal/bookings/manage/booking/{token}/application")
def link_page(
    request: Request,
    token: str,
    session: ReadSession,
    a: Staff,
    application: Annotated[int, Query(ge=1, le=2_000_000_000)],
) -> Response:
    """Where the desk sends the clerk after the application is made: record it on the appointment."""
    return _link_page(request, session, a, token, application)


@router.post("/portal/bookings/manage/booking/{token}/application")
def link_application(request: Request, token: str, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    values = forms.typed(form, ("application_id",))
    try:
        body = forms.parse(ApplicationLinkIn, values)
        booking = svc.link_application(session, actor=a.actor, token=token, application_id=body.application_id)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        raw = values["application_id"]
        return _link_page(request, session, a, token, int(raw) if raw.isdigit() else 0, refused)
    b = svc.get(session, bookable_id=booking.bookable_id)
    return _back_to_day(request, b, booking, N_("The application was recorded on the appointment"))


@router.post("/portal/bookings/manage/booking/{token}/{action}")
def staff_action(
    request: Request, token: str, action: str, session: WriteSession, a: Staff, form: PostedForm
) -> Response:
    """Check-in, not come, or cancel with a reason; a refusal comes back on the day view."""
    booking, b = svc.staff_booking(session, actor=a.actor, token=token)
    values = forms.typed(form, ("reason",))
    try:
        if action == Action.CHECK_IN:
            svc.check_in(session, actor=a.actor, token=token)
            done = N_("Checked in")
        elif action == Action.NO_SHOW:
            svc.mark_no_show(session, actor=a.actor, token=token)
            done = N_("Recorded as not come")
        elif action == Action.CANCEL:
            body = forms.parse(StaffCancelIn, values)
            svc.cancel_by_staff(session, actor=a.actor, token=token, reason=body.reason)
            done = N_("Cancelled; the resident was told")
        else:
            raise NotFound(N_("Not found"))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which=booking.token)
        booking, b = svc.staff_booking(session, actor=a.actor, token=token)
        return _day_page(
            request, session, a, b, slots.local_today(booking.starts_at), form=refused, status=refused.status
        )
    return _back_to_day(request, b, booking, done)


# --- residents ----------------------------------------------------------------------------------


@router.get("/portal/bookings")
def bookables_page(request: Request, session: ReadSession, a: Public, kind: str = "", page: int = 1) -> Response:
    chosen = BookableKind(kind) if kind in set(BookableKind) else None
    page = _page_no(page)
    rows, total = svc.listed(session, kind=chosen, page=PageParams(PAGE_SIZE, (page - 1) * PAGE_SIZE))
    return render(
        request,
        "portal/bookings/list.html",
        {
            "rows": rows,
            "total": total,
            "kind": chosen.value if chosen else "",
            "listed_kinds": svc.kinds_listed(session),
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "open": svc.open_count(session, user_id=a.user.id) if a is not None and a.actor.can(svc.SELF) else 0,
            **labels(),
        },
        a=a,
        tab="home",
    )


def _slots_page(
    request: Request,
    session: Session,
    a: Auth | None,
    b: Bookable,
    start: str = "",
    *,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    now = utcnow()
    today = slots.local_today(now)
    first = _day_of(start) if start else today
    first = min(max(first, today), slots.last_day(b, now))
    days = slots.bookable_slots(session, bookable=b, now=now, days=DAYS_SHOWN, start_day=first)
    later = first + timedelta(days=DAYS_SHOWN)
    return render(
        request,
        "portal/bookings/detail.html",
        {
            "b": b,
            "days": days,
            "earlier": (first - timedelta(days=DAYS_SHOWN)).isoformat() if first > today else "",
            "later": later.isoformat() if later <= slots.last_day(b, now) else "",
            "last_day": slots.last_day(b, now),
            "form": form or Refused.empty(),
            "resident": a is not None and a.actor.can(svc.SELF),
            "signed_in": a is not None,
            "matter": svc.matter_name(session, matter_id=b.matter_id),
            "iso": lambda t: as_utc(t).isoformat(),
            **labels(),
        },
        a=a,
        tab="home",
        status_code=status,
    )


@router.get("/portal/bookings/{token}")
def slots_page(
    request: Request, token: str, session: ReadSession, a: Public, start: Annotated[str, Query(max_length=10)] = ""
) -> Response:
    return _slots_page(request, session, a, svc.get_by_token(session, token=token), start)


@router.post("/portal/bookings/{token}")
def book(request: Request, token: str, session: WriteSession, a: Resident, form: PostedForm) -> Response:
    values = forms.typed(form, ("starts_at", "note", "start"))
    try:
        b = svc.get_by_token(session, token=token)
        body = forms.parse(BookIn, {"starts_at": values["starts_at"], "note": values["note"]})
        booking = svc.book(session, actor=a.actor, bookable_id=b.id, starts_at=body.starts_at, note=body.note)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        b = svc.get_by_token(session, token=token)
        return _slots_page(request, session, a, b, values["start"][:10], form=refused, status=refused.status)
    return redirect(f"/portal/me/bookings/{booking.token}", flash=translate(request, "Your booking is made"))


def _mine_page(request: Request, session: Session, a: Auth, page: int, form: Refused | None = None) -> Response:
    page = _page_no(page)
    rows, total = svc.mine(session, user_id=a.user.id, page=PageParams(PAGE_SIZE, (page - 1) * PAGE_SIZE))
    places = svc.names_of(session, [r.bookable_id for r in rows])
    now = utcnow()
    return render(
        request,
        "portal/bookings/mine.html",
        {
            "rows": rows,
            "places": places,
            "deadlines": {r.id: booking_rules.cancel_deadline(places[r.bookable_id], r) for r in rows},
            "now": now,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "form": form or Refused.empty(),
            **labels(),
        },
        a=a,
        tab="me",
        status_code=form.status if form else 200,
    )


@router.get("/portal/me/bookings")
def my_bookings(request: Request, session: ReadSession, a: Resident, page: int = 1) -> Response:
    return _mine_page(request, session, a, page)


@router.get("/portal/me/bookings/{token}")
def my_booking(request: Request, token: str, session: ReadSession, a: Resident) -> Response:
    """One booking: the confirmation after booking, and where to cancel it."""
    booking = svc.own_booking(session, actor=a.actor, token=token)
    b = svc.get(session, bookable_id=booking.bookable_id)
    return render(
        request,
        "portal/bookings/booking.html",
        {
            "booking": booking,
            "b": b,
            "deadline": booking_rules.cancel_deadline(b, booking),
            "may_cancel": booking.state is BookingState.BOOKED
            and utcnow() <= booking_rules.cancel_deadline(b, booking),
            "matter": svc.matter_name(session, matter_id=b.matter_id),
            **labels(),
        },
        a=a,
        tab="me",
    )


@router.post("/portal/me/bookings/{token}/cancel")
def cancel_mine(request: Request, token: str, session: WriteSession, a: Resident) -> Response:
    """Cancel before the deadline; after it the list comes back saying why, with the deadline."""
    try:
        svc.cancel_own(session, actor=a.actor, token=token)
    except CountyError as exc:
        session.rollback()
        return _mine_page(request, session, a, 1, Refused.of(request, exc, {}, which=token[:32]))
    return redirect("/portal/me/bookings", flash=translate(request, "Your booking is cancelled"))
