"""Bookings (预约): what residents book, their bookings, staff check-in, no-shows, window appointments.

A ``Bookable`` belongs to the department of the staff who set it up (``portal.booking.manage``); only
that department's staff edit it, see its bookings, check residents in, mark no-shows and cancel with a
reason. A resident (``portal.self``) books a slot under the rules of ``booking_rules`` — the count of
places happens with the bookable's row locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite write
transactions are serialised already), so two residents racing for the last place never both get it.
A window appointment (kind ``window``) names a published 事项; the clerk who checks the resident in
opens the services desk's form for it with the resident's name and phone filled in, and the 办件 made
there is recorded on the booking. States move on ``booking_lifecycle``'s table only; every write is
audited; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import as_utc, utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.paging import PageParams, fetch_page
from countyos.org.models import User
from countyos.org.service import audit, users
from countyos.portal import booking_lifecycle as lifecycle
from countyos.portal.booking_lifecycle import Action, Role
from countyos.portal.models import Bookable, BookableKind, Booking, BookingState, MessageKind
from countyos.portal.schemas.bookings import BookableIn
from countyos.portal.service import booking_rules, messages, slots
from countyos.portal.service.booking_rules import local_text
from countyos.services.service import applications, catalogue

MANAGE = "portal.booking.manage"
SELF = "portal.self"
SCHEDULER = Actor(id=None, name="schedule")
NO_SHOW_AFTER = timedelta(minutes=30)  # after the slot ended, a booking still open is a no-show
MY_LINK = "/portal/me/bookings"
DAY_LIMIT = 500  # bookings shown on one day view

KIND_NAMES = {
    BookableKind.VENUE: N_("Venue"),
    BookableKind.CULTURE_HALL: N_("Culture hall"),
    BookableKind.MEETING_ROOM: N_("Meeting room"),
    BookableKind.WINDOW: N_("Window appointment"),
}

audit.name_codes(
    actions={
        "portal.bookable.create": N_("Bookable set up"),
        "portal.bookable.update": N_("Bookable rules changed"),
        "portal.bookable.active": N_("Bookable opened or closed for booking"),
        "portal.booking.book": N_("Booked"),
        "portal.booking.cancel": N_("Booking cancelled"),
        "portal.booking.check_in": N_("Checked in for a booking"),
        "portal.booking.no_show": N_("Booking marked as not come"),
        "portal.booking.application": N_("Application recorded on a window appointment"),
        "portal.booking.forget": N_("Bookings of a resident who deleted their data cleared"),
    },
    targets={"bookable": N_("Bookable"), "booking": N_("Booking")},
)


# --- bookables ----------------------------------------------------------------------------------


def get(session: Session, *, bookable_id: int) -> Bookable:
    b = session.get(Bookable, bookable_id)
    if b is None:
        raise NotFound(N_("There is no such bookable place or service"))
    return b


def get_by_token(session: Session, *, token: str, active_only: bool = True) -> Bookable:
    b = session.scalars(select(Bookable).where(Bookable.token == token[:32])).first()
    if b is None or (active_only and not b.active):
        raise NotFound(N_("There is no such bookable place or service"))
    return b


def listed(session: Session, *, kind: BookableKind | None, page: PageParams) -> tuple[list[Bookable], int]:
    """What residents can book now (active), by kind and name."""
    stmt = select(Bookable).where(Bookable.active.is_(True))
    if kind is not None:
        stmt = stmt.where(Bookable.kind == kind)
    return fetch_page(session, stmt.order_by(Bookable.kind, Bookable.name, Bookable.id), page)


def kinds_listed(session: Session) -> list[BookableKind]:
    found = set(session.scalars(select(Bookable.kind).where(Bookable.active.is_(True)).distinct()))
    return [k for k in BookableKind if k in found]


def _department_of(actor: Actor) -> int:
    if not actor.can(MANAGE):
        raise errors.PermissionDenied()
    if actor.department_id is None:
        raise ValidationFailed(
            N_("Your account belongs to no department; ask for one to set up bookings"),
            errors=[{"field": "", "message": N_("Your account belongs to no department")}],
        )
    return actor.department_id


def for_staff(actor: Actor, bookable: Bookable) -> Bookable:
    """BOOKABLE, when the actor's department runs it (another department's are not found)."""
    if not actor.can(MANAGE) or actor.department_id is None or bookable.department_id != actor.department_id:
        raise NotFound(N_("There is no such bookable place or service"))
    return bookable


def of_department(session: Session, *, actor: Actor, page: PageParams) -> tuple[list[Bookable], int]:
    dep = _department_of(actor)
    stmt = select(Bookable).where(Bookable.department_id == dep)
    return fetch_page(session, stmt.order_by(Bookable.active.desc(), Bookable.name, Bookable.id), page)


def _check_matter(session: Session, data: BookableIn) -> None:
    if data.matter_id is None:
        return
    if data.kind is not BookableKind.WINDOW:
        raise ValidationFailed(
            N_("Only a window appointment names a matter"),
            errors=[{"field": "matter_id", "message": N_("Only a window appointment names a matter")}],
        )
    try:
        catalogue.get_published(session, matter_id=data.matter_id)
    except NotFound:
        raise ValidationFailed(
            N_("Choose a published matter"), errors=[{"field": "matter_id", "message": N_("Choose a published matter")}]
        ) from None


def _apply(b: Bookable, data: BookableIn) -> dict[str, object]:
    changed: dict[str, object] = {}
    for name, value in data.model_dump().items():
        if getattr(b, name, None) != value:
            changed[name] = value
            setattr(b, name, value)
    return changed


def create(session: Session, *, actor: Actor, data: BookableIn) -> Bookable:
    """A bookable of the actor's department; audited."""
    dep = _department_of(actor)
    _check_matter(session, data)
    b = Bookable(department_id=dep, active=True, created_at=utcnow())
    _apply(b, data)
    session.add(b)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.bookable.create",
        target_type="bookable",
        target_id=b.id,
        detail={"kind": b.kind.value, "name": b.name, "matter_id": b.matter_id},
    )
    return b


def update_bookable(session: Session, *, actor: Actor, bookable_id: int, data: BookableIn) -> Bookable:
    """New rules; bookings already made keep their slots."""
    b = for_staff(actor, get(session, bookable_id=bookable_id))
    _check_matter(session, data)
    changed = _apply(b, data)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="portal.bookable.update",
            target_type="bookable",
            target_id=b.id,
            detail={"changed": sorted(changed)},
        )
    return b


def set_active(session: Session, *, actor: Actor, bookable_id: int, active: bool) -> Bookable:
    """Close a bookable to new bookings (or open it again); bookings already made stay."""
    b = for_staff(actor, get(session, bookable_id=bookable_id))
    if b.active != active:
        b.active = active
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="portal.bookable.active",
            target_type="bookable",
            target_id=b.id,
            detail={"active": active},
        )
    return b


def matter_name(session: Session, *, matter_id: int | None) -> str:
    if matter_id is None:
        return ""
    try:
        return catalogue.current(catalogue.get(session, matter_id=matter_id)).name
    except NotFound:
        return ""


# --- booking ------------------------------------------------------------------------------------


def _locked(session: Session, bookable_id: int) -> Bookable:
    """The bookable's row, locked until the transaction ends (PostgreSQL); read afresh."""
    stmt = select(Bookable).where(Bookable.id == bookable_id).with_for_update()
    found = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(N_("There is no such bookable place or service"))
    return found


def _tell(
    session: Session, *, booking: Booking, bookable: Bookable, event: str, title: str, body: str, **params: str
) -> None:
    """A message to the resident: the title translated when shown, the body in their language now."""
    user = session.get(User, booking.user_id)
    with use_locale(user.locale if user else "zh_CN"):
        text = gettext(body, name=bookable.name, when=local_text(booking.starts_at), **params)
    messages.deliver(
        session,
        user_ids=[booking.user_id],
        kind=MessageKind.BOOKING,
        key=f"booking:{booking.id}:{event}",
        title=title,
        body=text,
        link=MY_LINK,
        extra={"translate": True, "booking": booking.token},
    )


def book(
    session: Session,
    *,
    actor: Actor,
    bookable_id: int,
    starts_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book the slot beginning at STARTS_AT for the actor (a resident), or refuse naming the rule."""
    if actor.id is None or not actor.can(SELF):
        raise errors.PermissionDenied(N_("Sign in as a resident to book"))
    now = now or utcnow()
    b = get(session, bookable_id=bookable_id)
    start, end = booking_rules.check_slot(b, starts_at=slots.aware(starts_at), now=now)
    booking_rules.check_person(session, bookable=b, user_id=actor.id, starts_at=start, now=now)
    b = _locked(session, bookable_id)
    booking_rules.check_slot(b, starts_at=start, now=now)  # the rules may have changed while waiting
    booking_rules.check_capacity(session, bookable=b, starts_at=start)
    booking = Booking(
        bookable_id=b.id,
        user_id=actor.id,
        starts_at=start,
        ends_at=end,
        state=BookingState.BOOKED,
        note=note.strip()[:300],
        created_at=now,
    )
    session.add(booking)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.booking.book",
        target_type="booking",
        target_id=booking.id,
        detail={"bookable_id": b.id, "starts_at": start.isoformat()},
    )
    _tell(
        session,
        booking=booking,
        bookable=b,
        event="booked",
        title=N_("Your booking is made"),
        body=N_("%(name)s, %(when)s. Cancel in My bookings if you cannot come."),
    )
    return booking


def get_booking(session: Session, *, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(N_("There is no such booking"))
    return booking


def booking_by_token(session: Session, *, token: str) -> Booking:
    booking = session.scalars(select(Booking).where(Booking.token == token[:32])).first()
    if booking is None:
        raise NotFound(N_("There is no such booking"))
    return booking


def own_booking(session: Session, *, actor: Actor, token: str) -> Booking:
    """The actor's own booking by its token (another's is not found)."""
    booking = booking_by_token(session, token=token)
    if actor.id is None or booking.user_id != actor.id:
        raise NotFound(N_("There is no such booking"))
    return booking


def staff_booking(session: Session, *, actor: Actor, token: str) -> tuple[Booking, Bookable]:
    """A booking of a bookable the actor's department runs (else not found)."""
    booking = booking_by_token(session, token=token)
    return booking, for_staff(actor, get(session, bookable_id=booking.bookable_id))


def _move(
    session: Session, *, actor: Actor, booking: Booking, action: Action, role: Role, detail: dict[str, object]
) -> Booking:
    booking.state = lifecycle.next_state(booking.state, action, role)
    booking.changed_at = utcnow()
    booking.changed_by_id = actor.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"portal.booking.{action.value}",
        target_type="booking",
        target_id=booking.id,
        detail={"by": role.value, **detail},
    )
    return booking


def cancel_own(session: Session, *, actor: Actor, token: str, now: datetime | None = None) -> Booking:
    """The resident cancels before the deadline (``cancel_minutes`` before the slot)."""
    booking = own_booking(session, actor=actor, token=token)
    b = get(session, bookable_id=booking.bookable_id)
    lifecycle.next_state(booking.state, Action.CANCEL, Role.RESIDENT)
    booking_rules.check_cancel(b, booking, now=now or utcnow())
    return _move(session, actor=actor, booking=booking, action=Action.CANCEL, role=Role.RESIDENT, detail={})


def cancel_by_staff(session: Session, *, actor: Actor, token: str, reason: str) -> Booking:
    """Staff cancel (the hall is needed, the window is closed): the resident is told why."""
    booking, b = staff_booking(session, actor=actor, token=token)
    _move(session, actor=actor, booking=booking, action=Action.CANCEL, role=Role.STAFF, detail={"reason": reason})
    _tell(
        session,
        booking=booking,
        bookable=b,
        event="cancelled",
        title=N_("Your booking was cancelled"),
        body=N_("%(name)s, %(when)s was cancelled by the staff: %(reason)s"),
        reason=reason,
    )
    return booking


def check_in(session: Session, *, actor: Actor, token: str) -> Booking:
    """到场核验 by staff of the bookable's department: who and when are kept and audited."""
    booking, _ = staff_booking(session, actor=actor, token=token)
    return _move(session, actor=actor, booking=booking, action=Action.CHECK_IN, role=Role.STAFF, detail={})


def _no_show_told(session: Session, booking: Booking, bookable: Bookable) -> None:
    _tell(
        session,
        booking=booking,
        bookable=bookable,
        event="no_show",
        title=N_("You did not come to your booking"),
        body=N_(
            "%(name)s, %(when)s was recorded as not come. After %(limit)s such bookings within %(days)s days "
            "you cannot book here for %(ban)s days."
        ),
        limit=str(bookable.no_show_limit),
        days=str(bookable.no_show_days),
        ban=str(bookable.ban_days),
    )


def mark_no_show(session: Session, *, actor: Actor, token: str, now: datetime | None = None) -> Booking:
    """Staff record that the resident did not come (once the slot has begun)."""
    booking, b = staff_booking(session, actor=actor, token=token)
    if as_utc(booking.starts_at) > (now or utcnow()):
        raise errors.Conflict(N_("A booking can be marked as not come once its time slot has begun"))
    _move(session, actor=actor, booking=booking, action=Action.NO_SHOW, role=Role.STAFF, detail={})
    _no_show_told(session, booking, b)
    return booking


def sweep_no_shows(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Bookings still open 30 minutes after their slot ended become no-shows (as the scheduler);
    the residents are told. Returns how many were marked."""
    cutoff = (now or utcnow()) - NO_SHOW_AFTER
    stmt = (
        select(Booking)
        .where(Booking.state == BookingState.BOOKED, Booking.ends_at <= cutoff)
        .order_by(Booking.ends_at, Booking.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # several workers never mark one twice
    done = 0
    cache: dict[int, Bookable] = {}
    for booking in session.scalars(stmt).all():
        b = cache.get(booking.bookable_id) or get(session, bookable_id=booking.bookable_id)
        cache[b.id] = b
        _move(session, actor=SCHEDULER, booking=booking, action=Action.NO_SHOW, role=Role.SCHEDULE, detail={})
        _no_show_told(session, booking, b)
        done += 1
    return done


# --- window appointments and the services desk -------------------------------------------------------


def desk_start(session: Session, *, booking: Booking, bookable: Bookable, then: str) -> dict[str, str] | None:
    """What the services desk is posted to open the appointment's matter with the resident's name and phone
    filled in (``/services/desk/start``: posted, so that they never stand in an address); THEN is where the
    desk sends the clerk with the new application's id. None when the appointment is for no matter."""
    if bookable.kind is not BookableKind.WINDOW or bookable.matter_id is None:
        return None
    fields = {"matter_id": str(bookable.matter_id), "then": then}
    user = session.get(User, booking.user_id)
    if user is not None:
        fields["applicant_name"] = user.display_name
        phone = users.cipher().decrypt(user.phone_enc) if user.phone_enc else ""
        if phone:
            fields["phone"] = phone
    return fields


def link_application(session: Session, *, actor: Actor, token: str, application_id: int) -> Booking:
    """Record the 办件 the desk created from this (checked-in) window appointment."""
    booking, b = staff_booking(session, actor=actor, token=token)
    if b.kind is not BookableKind.WINDOW or b.matter_id is None:
        raise errors.Conflict(N_("Only a window appointment for a matter leads to an application"))
    if booking.state is not BookingState.CHECKED_IN:
        raise errors.Conflict(N_("Check the resident in before recording the application"))
    if booking.application_id is not None and booking.application_id != application_id:
        raise errors.Conflict(N_("An application is already recorded on this appointment"))
    app = applications.get(session, actor=actor, application_id=application_id)
    if app.matter_id != b.matter_id:
        raise errors.Conflict(N_("The application is for another matter than the appointment"))
    if booking.application_id != application_id:
        booking.application_id = app.id
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="portal.booking.application",
            target_type="booking",
            target_id=booking.id,
            detail={"application_id": app.id, "number": app.number},
        )
    return booking


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    booking: Booking
    resident: str
    phone: str  # masked


def day_view(session: Session, *, bookable: Bookable, day: date) -> list[DayRow]:
    """The bookings of one county day at BOOKABLE, with the residents' names and masked phones."""
    zone = slots.tz()
    start = as_utc(datetime.combine(day, datetime.min.time(), zone))
    rows = session.execute(
        select(Booking, User)
        .join(User, User.id == Booking.user_id)
        .where(
            Booking.bookable_id == bookable.id,
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
        )
        .order_by(Booking.starts_at, Booking.id)
        .limit(DAY_LIMIT)
    )
    return [DayRow(bk, u.display_name, users.masked_phone(u)) for bk, u in rows]


def _mine(user_id: int) -> Select[Booking]:
    return select(Booking).where(Booking.user_id == user_id)


def mine(session: Session, *, user_id: int, page: PageParams) -> tuple[list[Booking], int]:
    """The person's bookings, the latest slot first."""
    return fetch_page(session, _mine(user_id).order_by(Booking.starts_at.desc(), Booking.id.desc()), page)


def names_of(session: Session, bookable_ids: Sequence[int]) -> dict[int, Bookable]:
    ids = sorted(set(bookable_ids))
    if not ids:
        return {}
    return {b.id: b for b in session.scalars(select(Bookable).where(Bookable.id.in_(ids)))}


def of_person(session: Session, *, user_id: int, limit: int = 20) -> list[Booking]:
    """For "my county": the person's bookings, the coming ones first (soonest first), then the past
    ones (latest first); at most LIMIT (bounded to 100)."""
    limit = max(1, min(limit, 100))
    now = utcnow()
    coming = list(
        session.scalars(
            _mine(user_id).where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id).limit(limit)
        )
    )
    past = list(
        session.scalars(
            _mine(user_id)
            .where(Booking.ends_at <= now)
            .order_by(Booking.starts_at.desc(), Booking.id.desc())
            .limit(limit - len(coming))
        )
        if len(coming) < limit
        else []
    )
    return coming + past


def open_count(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Booking.user_id == user_id, Booking.state == BookingState.BOOKED, Booking.ends_at > utcnow()
            )
        )
        or 0
    )


def forget_person(session: Session, *, actor: Actor, user_id: int) -> int:
    """When a resident deletes their personal data: their coming bookings are cancelled (the places
    free again) and the notes they wrote are cleared on every booking. Kept: each booking's place,
    slot, state, check-in (who and when) and the 办件 it led to, on the account row that stays, for
    the department's records and the no-show rules. Returns how many bookings were cancelled."""
    now = utcnow()
    coming = list(
        session.scalars(
            _mine(user_id).where(Booking.state == BookingState.BOOKED, Booking.starts_at > now).order_by(Booking.id)
        )
    )
    for booking in coming:
        booking.state = lifecycle.next_state(booking.state, Action.CANCEL, Role.RESIDENT)
        booking.changed_at = now
        booking.changed_by_id = actor.id
    cleared = session.execute(
        update(Booking).where(Booking.user_id == user_id, Booking.note != "").values(note=""),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.booking.forget",
        target_type="user",
        target_id=user_id,
        detail={"cancelled": [b.id for b in coming], "notes_cleared": int(getattr(cleared, "rowcount", 0) or 0)},
    )
    return len(coming)
