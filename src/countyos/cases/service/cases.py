"""Cases: creation from any channel, look-ups, who may see what, queues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy import case as sa_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import OPEN_STATES, Action, State, roles_of
from countyos.cases.models import PRIORITY_RANK, Attachment, Case, CaseEvent, Channel, Priority, Reporter, Step
from countyos.cases.service import attachments as uploads
from countyos.cases.service import categories, duplicates, location, people, routing, timers
from countyos.core.actor import Actor
from countyos.core.clock import to_local, utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams, fetch_page
from countyos.core.settings import get_settings
from countyos.core.signals import Signal
from countyos.org.service import audit

# Sent after a case is created, in its transaction: ``case``, ``category_code`` (its Open311 service code),
# ``actor``. Other domains connect to it in their ``receivers.py`` (``core.signals``).
CASE_CREATED = Signal("cases.case_created")

URGENCY = sa_case({p.value: rank for p, rank in PRIORITY_RANK.items()}, value=Case.priority, else_=9)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")
MAX_DESCRIPTION = 4000


@dataclass
class ReporterIn:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    user_id: int | None = None


@dataclass
class NewCase:
    channel: Channel
    category_id: int
    description: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str | None = None
    title: str | None = None
    priority: Priority | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    reporter: ReporterIn = field(default_factory=ReporterIn)
    external_id: str | None = None
    idempotency_key: str | None = None
    attachment_ids: list[int] = field(default_factory=list)
    self_handled: bool = False
    public_report: bool = False
    context: dict[str, Any] = field(default_factory=dict)


def get(session: Session, *, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("Case %(id)s does not exist", id=case_id)
    return case


def get_for_update(session: Session, *, case_id: int) -> Case:
    """The case, read again with its row locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time anyway): changes that depend on its current values wait for each other."""
    session.flush()
    session.execute(select(Case.id).where(Case.id == case_id).with_for_update())  # the row alone, no joins
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise NotFound("Case %(id)s does not exist", id=case_id)
    return case


def get_by_number(session: Session, *, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == number))


def get_by_idempotency_key(session: Session, *, key: str) -> Case | None:
    return session.scalar(select(Case).where(Case.idempotency_key == key))


def _validate(new: NewCase) -> list[dict[str, str]]:
    errors = []
    if new.description and len(new.description) > MAX_DESCRIPTION:
        errors.append({"field": "description", "message": f"at most {MAX_DESCRIPTION} characters"})
    if new.lon is None or new.lat is None:
        errors.append({"field": "lat", "message": N_("a position (longitude and latitude) is required")})
    r = new.reporter
    if r.phone and not PHONE_RE.match(r.phone.strip()):
        errors.append(
            {"field": "phone", "message": N_("Enter a mobile number or a landline number with its area code")}
        )
    if r.email and not EMAIL_RE.match(r.email.strip()):
        errors.append({"field": "email", "message": N_("not an e-mail address")})
    if new.idempotency_key is not None and not (8 <= len(new.idempotency_key) <= 80):
        errors.append({"field": "idempotency_key", "message": "8–80 characters"})
    return errors


def create(session: Session, *, actor: Actor, new: NewCase, now: datetime | None = None) -> tuple[Case, Reporter, bool]:
    """A new case from any channel. Returns (case, reporter, created); a repeated idempotency key
    returns the case made the first time (created False) and writes nothing."""
    now = now or utcnow()
    if new.idempotency_key:
        existing = get_by_idempotency_key(session, key=new.idempotency_key)
        if existing is not None:
            return existing, _first_reporter(session, existing), False
    errors = _validate(new)
    if errors:
        raise ValidationFailed("Please correct the report", errors=errors)
    cat = categories.info(session, category_id=new.category_id)
    if cat.is_group or not cat.is_active:
        raise ValidationFailed("Category %(name)s cannot be reported; choose one of its sub-categories", name=cat.name)
    assert new.lon is not None and new.lat is not None
    place = location.locate(session, lon=new.lon, lat=new.lat, crs=new.crs)
    title = (new.title or "").strip() or f"{cat.name}" + (f" · {place.village_name}" if place.village_name else "")
    case = Case(
        channel=new.channel,
        external_id=new.external_id,
        idempotency_key=new.idempotency_key,
        category_id=cat.id,
        priority=new.priority or cat.default_priority,
        title=title[:200],
        description=(new.description or "").strip() or None,
        attributes=new.attributes,
        address=(new.address or "").strip()[:256] or None,
        lon=place.lon,
        lat=place.lat,
        county_code=place.county_code,
        township_code=place.township_code,
        township_name=place.township_name,
        village_code=place.village_code,
        village_name=place.village_name,
        grid_code=place.grid_code,
        area_class=place.area_class or "B",
        state=State.REPORTED,
        is_open=True,
        self_handled=new.self_handled,
        public_report=new.public_report,
        reporter_user_id=new.reporter.user_id,
        reported_at=now,
        version=1,
    )
    sug = routing.suggest(session, category=cat, township_code=place.township_code, grid_code=place.grid_code)
    case.suggested_department_id = sug.department_id if sug else None
    timers.start_step(session, case, Step.ACCEPT, now, cat)
    if new.idempotency_key:  # a concurrent retry with the same key may win the race: answer with its case
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
        except IntegrityError:
            existing = get_by_idempotency_key(session, key=new.idempotency_key)
            if existing is not None:
                return existing, _first_reporter(session, existing), False
            raise
    else:
        session.add(case)
        session.flush()
    dup = duplicates.find_for(session, case=case)
    case.number = to_local(now, get_settings().timezone).strftime("%Y%m%d") + f"{case.id:06d}"
    if dup is not None:
        case.duplicate_of_id = dup.id
    # The number, the reporter, the timeline entry and the audit record are written by one flush.
    reporter = add_reporter(session, case=case, channel=new.channel, data=new.reporter, flush=False)
    for att_id in new.attachment_ids:
        uploads.claim(session, actor=actor, attachment_id=att_id, case_id=case.id)
    context = dict(new.context)
    if dup is not None:
        context["suspected_duplicate_of"] = dup.number
    add_event(
        session,
        case=case,
        first=True,
        actor=actor,
        role=None,
        action="report",
        from_state=None,
        to_state=State.REPORTED,
        comment=case.description,
        attachment_ids=new.attachment_ids,
        context={"channel": str(new.channel), **context},
        at=now,
        deadline_after=case.step_deadline,
        flush=False,
    )
    audit.record(
        session,
        actor=actor,
        action="case.report",
        target_type="case",
        target_id=case.number,
        detail={"channel": str(new.channel), "category": cat.service_code, "grid": case.grid_code},
    )
    CASE_CREATED.send(session, case=case, category_code=cat.service_code, actor=actor)
    return case, reporter, True


def add_reporter(session: Session, *, case: Case, channel: Channel, data: ReporterIn, flush: bool = True) -> Reporter:
    rep = Reporter(
        case_id=case.id,
        original_case_id=case.id,
        channel=channel,
        user_id=data.user_id,
        name=(data.name or "").strip()[:60] or None,
        phone_enc=people.encrypt((data.phone or "").strip() or None),
        phone_index=people.blind_index((data.phone or "").strip() or None),
        email_enc=people.encrypt((data.email or "").strip() or None),
        device_id=(data.device_id or "")[:100] or None,
        account_id=(data.account_id or "")[:100] or None,
        public_token=people.public_token(),
    )
    session.add(rep)
    if flush:
        session.flush()
    return rep


def _first_reporter(session: Session, case: Case) -> Reporter:
    rep = session.scalar(select(Reporter).where(Reporter.original_case_id == case.id).order_by(Reporter.id).limit(1))
    assert rep is not None
    return rep


def reporters(session: Session, *, case_id: int) -> list[Reporter]:
    return list(session.scalars(select(Reporter).where(Reporter.case_id == case_id).order_by(Reporter.id)))


def reporter_by_token(session: Session, *, token: str) -> Reporter | None:
    return session.scalar(select(Reporter).where(Reporter.public_token == token))


def add_event(
    session: Session,
    *,
    case: Case,
    actor: Actor | None,
    role: str | None,
    action: str,
    from_state: str | None,
    to_state: str,
    comment: str | None = None,
    internal: bool = False,
    attachment_ids: list[int] | None = None,
    context: dict[str, Any] | None = None,
    at: datetime | None = None,
    deadline_before: datetime | None = None,
    deadline_after: datetime | None = None,
    first: bool = False,
    flush: bool = True,
) -> CaseEvent:
    last = None
    if not first:
        # The next number of the timeline: the case's row is locked first, so that two writers adding
        # to the same timeline at once (merges into one case, an alarm's note beside an action) take
        # turns instead of both choosing the same number.
        session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
        last = session.scalar(
            select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc()).limit(1)
        )
    ev = CaseEvent(
        case_id=case.id,
        seq=(last or 0) + 1,
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else None,
        role=role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=(comment or None),
        internal=internal,
        attachment_ids=list(attachment_ids or []),
        context=context or {},
        department_id=case.department_id,
        deadline_before=deadline_before,
        deadline_after=deadline_after,
    )
    session.add(ev)
    if flush:
        session.flush()
    return ev


def timeline(session: Session, *, case_id: int, public: bool = False) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    if public:
        stmt = stmt.where(CaseEvent.internal.is_(False), CaseEvent.action != Action.COMMENT)
    return list(session.scalars(stmt))


def attachments(session: Session, *, case_id: int, public: bool = False) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
    if public:
        stmt = stmt.where(Attachment.public.is_(True))
    return list(session.scalars(stmt))


# -- who sees what -------------------------------------------------------------------------------


def sees_all(actor: Actor) -> bool:
    return actor.can("case.read_all")


def visibility(session: Session, actor: Actor) -> Any:
    """A WHERE clause: all cases with ``case.read_all``; else a department's cases (main or
    co-handling), the tasks assigned to the person, their grids' cases and their own reports."""
    if sees_all(actor):
        return None
    conds = []
    if actor.id is not None:
        conds += [Case.assignee_id == actor.id, Case.reporter_user_id == actor.id]
    if actor.can("case.handle") and actor.department_id is not None:
        conds.append(Case.department_id == actor.department_id)
        conds.append(Case.co_tags.like(f"%,{actor.department_id},%"))
    if actor.can("case.inspect") and actor.id is not None:
        grids = location.grids_of_worker(session, user_id=actor.id)
        if grids:
            conds.append(Case.grid_code.in_(grids))
    return or_(*conds) if conds else false()


def can_see(session: Session, actor: Actor, case: Case) -> bool:
    if sees_all(actor):
        return True
    if actor.id is not None and actor.id in (case.assignee_id, case.reporter_user_id):
        return True
    if (
        actor.can("case.handle")
        and actor.department_id is not None
        and (actor.department_id == case.department_id or actor.department_id in (case.co_department_ids or []))
    ):
        return True
    if actor.can("case.inspect") and actor.id is not None and case.grid_code:
        return case.grid_code in location.grids_of_worker(session, user_id=actor.id)
    return False


def get_visible(session: Session, *, actor: Actor, case_id: int) -> Case:
    case = get(session, case_id=case_id)
    if not can_see(session, actor, case):
        raise NotFound("Case %(id)s does not exist", id=case_id)
    return case


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    step: str | None = None
    open: bool | None = None
    category_id: int | None = None
    department_id: int | None = None
    township_code: str | None = None
    grid_code: str | None = None
    channel: str | None = None
    level: str | None = None  # yellow / red
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    assignee_id: int | None = None
    duplicates: bool | None = None


def query(session: Session, actor: Actor, f: CaseFilter, now: datetime | None = None) -> Select[Case]:
    """Cases the actor may see: overdue first, then by urgency (特急, 紧急, 一般), then nearest deadline."""
    now = now or utcnow()
    stmt = select(Case)
    vis = visibility(session, actor)
    if vis is not None:
        stmt = stmt.where(vis)
    if f.state:
        stmt = stmt.where(Case.state.in_(f.state.split(",")))
    if f.step:
        stmt = stmt.where(Case.step == f.step)
    if f.open is not None:
        stmt = stmt.where(Case.is_open.is_(f.open))
    for col, val in (
        (Case.category_id, f.category_id),
        (Case.department_id, f.department_id),
        (Case.township_code, f.township_code),
        (Case.grid_code, f.grid_code),
        (Case.channel, f.channel),
        (Case.assignee_id, f.assignee_id),
    ):
        if val is not None:
            stmt = stmt.where(col == val)
    if f.level == "red":
        stmt = stmt.where(Case.is_open.is_(True), Case.paused_at.is_(None), Case.step_deadline <= now)
    elif f.level == "yellow":
        stmt = stmt.where(
            Case.is_open.is_(True), Case.paused_at.is_(None), Case.step_warn_at <= now, Case.step_deadline > now
        )
    if f.duplicates:
        stmt = stmt.where(Case.duplicate_of_id.is_not(None), Case.is_open.is_(True))
    if f.q:
        like = f"%{f.q}%"
        stmt = stmt.where(or_(Case.number.like(like), Case.title.like(like), Case.address.like(like)))
    if f.since:
        stmt = stmt.where(Case.reported_at >= f.since)
    if f.until:
        stmt = stmt.where(Case.reported_at < f.until)
    overdue = and_(Case.is_open.is_(True), Case.step_deadline <= now)
    return stmt.order_by(
        overdue.desc(), Case.is_open.desc(), URGENCY, Case.step_deadline.asc().nulls_last(), Case.id.desc()
    )


def list_cases(
    session: Session, *, actor: Actor, f: CaseFilter, page: PageParams, now: datetime | None = None
) -> tuple[list[Case], int]:
    return fetch_page(session, query(session, actor, f, now), page)


def queue_counts(session: Session, *, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """How many visible open cases wait in each state, and how many are yellow/red."""
    from sqlalchemy import func

    now = now or utcnow()
    base = select(Case.state, func.count()).where(Case.is_open.is_(True))
    vis = visibility(session, actor)
    if vis is not None:
        base = base.where(vis)
    out: dict[str, int] = {str(s): 0 for s in sorted(OPEN_STATES)}
    for state, n in session.execute(base.group_by(Case.state)).all():
        out[state] = int(n)
    for level in ("yellow", "red"):
        out[level] = int(
            session.scalar(
                select(func.count()).select_from(query(session, actor, CaseFilter(level=level), now).subquery())
            )
            or 0
        )
    return out


def actor_roles(actor: Actor) -> list[str]:
    return [str(r) for r in roles_of(actor.permissions)]
