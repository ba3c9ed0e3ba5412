"""The intake desk (受理台) of window clerks and village agents: earlier applicants by 证件号码, the 待受理
queue, the 一次性告知 draft and the facts printed on the 受理通知书 / 收件回执 and the 一次性告知书.

Everything that moves an application goes through ``applications.create`` / ``act`` /
``attach_material``; this module only reads, and records the ID-number lookups in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from countyos.cases.service import people
from countyos.core.actor import Actor
from countyos.core.errors import PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.models import Department
from countyos.org.service import audit, users
from countyos.services import deadlines
from countyos.services.codes import TimeLimitUnit
from countyos.services.lifecycle import Action, State
from countyos.services.models import Application, ApplicationEvent, MatterMaterial, MatterVersion
from countyos.services.service import applications, supervision_rules

MAX_EARLIER = 10  # earlier applications shown for one ID number
MAX_QUEUE_PAGE = 100
ID_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()-")


def may_use(actor: Actor) -> bool:
    """Window clerks and village or township agents work at the desk."""
    return actor.can(applications.WINDOW) or actor.can(applications.AGENT)


def require_desk(actor: Actor) -> None:
    if not may_use(actor):
        raise PermissionDenied(N_("The intake desk is for window clerks and agents"))


# ── earlier applicants ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class EarlierApplicant:
    """One earlier application of the same 证件号码, as the reader may see it."""

    application_id: int
    number: str
    applicant_name: str
    applicant_kind: str
    id_type: str
    id_number: str  # masked unless the reader holds services.application.pii
    phone: str | None  # masked likewise
    address: str | None  # only with services.application.pii
    matter_name: str
    state: str
    submitted_at: datetime | None
    unmasked: bool


def _visible(actor: Actor) -> list[object] | None:
    """Conditions limiting the applications an actor finds at the desk (None: every application)."""
    if actor.can(applications.WINDOW):
        return None
    mine: list[object] = []
    if actor.id is not None:
        mine.append(Application.submitted_by_id == actor.id)
    if actor.department_id is not None:
        mine.append(Application.submitted_by_department_id == actor.department_id)
    return mine


def earlier_applicants(session: Session, *, actor: Actor, id_number: str) -> list[EarlierApplicant]:
    """The newest applications made with this 证件号码 that the actor may see, found by the number's keyed
    blind index (never by decrypting stored numbers); the lookup is in the audit log."""
    require_desk(actor)
    value = "".join(id_number.split()).upper()
    if not 6 <= len(value) <= 18 or not set(value) <= ID_CHARS:
        msg = N_("Type the whole ID number")
        raise ValidationFailed(msg, errors=[{"field": "id_number", "message": gettext(msg)}])
    indexes = {people.cipher().blind_index(value), people.cipher().blind_index(value.lower())}
    stmt = (
        select(Application, MatterVersion.name)
        .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .where(Application.id_number_index.in_(indexes))
    )
    mine = _visible(actor)
    if mine is not None:
        if not mine:
            return []
        stmt = stmt.where(or_(*mine))  # type: ignore[arg-type]
    rows = session.execute(stmt.order_by(Application.id.desc()).limit(MAX_EARLIER)).all()
    out = []
    for app, matter_name in rows:
        unmasked = applications.sees_pii(actor, app)
        out.append(
            EarlierApplicant(
                application_id=app.id,
                number=app.number,
                applicant_name=app.applicant_name,
                applicant_kind=str(app.applicant_kind),
                id_type=str(app.id_type),
                id_number=applications.shown_id_number(actor, app),
                phone=applications.shown_phone(actor, app),
                address=app.address if unmasked else None,
                matter_name=matter_name,
                state=app.state,
                submitted_at=app.submitted_at,
                unmasked=unmasked,
            )
        )
    audit.record(
        session,
        actor=actor,
        action="services.application.lookup",
        target_type="services_application",
        target_id=",".join(r.number for r in out)[:200] or None,
        detail={"found": len(out), "unmasked": any(r.unmasked for r in out)},
    )
    return out


# ── the 待受理 queue ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class QueueRow:
    app: Application
    matter_name: str
    immediate: bool  # 即办件
    waiting_since: datetime
    resubmitted: bool  # came back after a 一次性告知
    missing: int  # required materials still missing
    submitted_by: str | None  # who entered it (a person's name)


def queue(
    session: Session,
    *,
    actor: Actor,
    matter_id: int | None = None,
    department_id: int | None = None,
    at_my_window: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QueueRow], int]:
    """Applications waiting for a window's decision (submitted, or back after 补正), the longest waiting
    first; by matter, by responsible department, or those entered at the clerk's own centre."""
    if not actor.can(applications.WINDOW):
        raise PermissionDenied(N_("Only window clerks decide on applications"))
    since = (
        select(ApplicationEvent.application_id, func.max(ApplicationEvent.at).label("since"))
        .where(ApplicationEvent.to_state == str(State.SUBMITTED))
        .group_by(ApplicationEvent.application_id)
        .subquery()
    )
    stmt = (
        select(Application, MatterVersion.name, MatterVersion.application_kind, since.c.since)
        .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .join(since, since.c.application_id == Application.id)
        .where(Application.state == str(State.SUBMITTED))
    )
    if matter_id is not None:
        stmt = stmt.where(Application.matter_id == matter_id)
    if department_id is not None:
        stmt = stmt.where(Application.department_id == department_id)
    if at_my_window:
        if actor.department_id is None:
            return [], 0
        stmt = stmt.where(Application.submitted_by_department_id == actor.department_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(since.c.since, Application.id).limit(min(limit, MAX_QUEUE_PAGE)).offset(offset)
    ).all()
    names = users.colleagues(session, user_ids=[r[0].submitted_by_id for r in rows])
    out = [
        QueueRow(
            app=app,
            matter_name=name,
            immediate=str(kind) == "immediate",
            waiting_since=waiting,
            resubmitted=app.corrections > 0,
            missing=len(applications.missing_materials(app)),
            submitted_by=names[app.submitted_by_id].display_name if app.submitted_by_id in names else None,
        )
        for app, name, kind, waiting in rows
    ]
    return out, total


# ── the 一次性告知 ───────────────────────────────────────────────────────────────────────────────────


def requirement(m: MatterMaterial) -> str:
    """What the guide asks of one material, in the interface language (originals, copies, issuer, note)."""
    parts = []
    if m.originals:
        parts.append(gettext(N_("%(n)s original(s)"), n=m.originals))
    if m.copies:
        parts.append(gettext(N_("%(n)s copy(ies)"), n=m.copies))
    if m.issuer:
        parts.append(gettext(N_("issued by %(issuer)s"), issuer=m.issuer))
    if m.note:
        parts.append(m.note)
    return gettext(N_("; ")).join(parts)


def correction_draft(session: Session, app: Application) -> str:
    """The 一次性告知 the clerk starts from: every required material still missing with what the guide
    asks of it, one per line (the clerk edits it before sending)."""
    version = applications.version_of(session, app)
    guide = {m.id: m for m in version.materials}
    lines = []
    for i, row in enumerate(applications.missing_materials(app), start=1):
        m = guide.get(row.material_id)
        need = requirement(m) if m is not None else ""
        lines.append(f"{i}. {row.name}" + (f"（{need}）" if need else ""))
    return "\n".join(lines)[:2000]


@dataclass(frozen=True)
class NoticeItem:
    name: str
    requirement: str


@dataclass(frozen=True)
class CorrectionNotice:
    """The facts of a 一次性告知书: what is missing, the clerk's words, by when, who and where."""

    at: datetime
    items: list[NoticeItem]
    note: str | None
    due_at: datetime
    days: int
    clerk: str
    office: str | None
    office_phone: str | None


def _who(session: Session, ev: ApplicationEvent) -> tuple[str, Department | None]:
    """The person who took the action, by name, and their office (the window's centre)."""
    found = users.colleagues(session, user_ids=[ev.actor_id])
    person = found.get(ev.actor_id) if ev.actor_id is not None else None
    office = session.get(Department, person.department_id) if person and person.department_id else None
    return (person.display_name if person else ev.actor_name), office


def _last_event(session: Session, app: Application, actions: tuple[Action, ...]) -> ApplicationEvent | None:
    return session.scalar(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == app.id, ApplicationEvent.action.in_([str(a) for a in actions]))
        .order_by(ApplicationEvent.id.desc())
        .limit(1)
    )


def correction_notice(session: Session, app: Application) -> CorrectionNotice | None:
    """The latest 一次性告知 of the application, or None if it never had one."""
    ev = _last_event(session, app, (Action.REQUEST_CORRECTION,))
    if ev is None:
        return None
    version = applications.version_of(session, app)
    guide = {m.name: m for m in version.materials}
    missing = ev.detail.get("missing") if isinstance(ev.detail, dict) else None
    items = [
        NoticeItem(name=str(n), requirement=requirement(guide[str(n)]) if str(n) in guide else "")
        for n in (missing if isinstance(missing, list) else [])
    ]
    days = supervision_rules.correction_days(session)
    due = deadlines.due_at(deadlines.Limit(days, TimeLimitUnit.WORKING_DAYS), accepted_at=ev.at)
    clerk, office = _who(session, ev)
    return CorrectionNotice(
        at=ev.at,
        items=items,
        note=ev.note,
        due_at=due,
        days=days,
        clerk=clerk,
        office=office.name if office else None,
        office_phone=office.phone if office else None,
    )


# ── the 受理通知书 / 收件回执 ─────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Receipt:
    """The facts of a 受理通知书 (accepted) or 收件回执 (received, not yet accepted)."""

    accepted: bool
    at: datetime | None
    clerk: str | None
    office: str | None
    office_phone: str | None


def receipt(session: Session, app: Application) -> Receipt:
    if app.receipt_number:
        ev = _last_event(session, app, (Action.ACCEPT, Action.ACCEPT_IMMEDIATE))
    else:
        ev = _last_event(session, app, (Action.SUBMIT, Action.RESUBMIT))
    clerk, office = _who(session, ev) if ev is not None else (None, None)
    return Receipt(
        accepted=app.receipt_number is not None,
        at=ev.at if ev is not None else app.submitted_at,
        clerk=clerk,
        office=office.name if office else None,
        office_phone=office.phone if office else None,
    )


# ── 补正: applications waiting for the applicant's corrected materials ───────────────────────────────

MAX_AWAITING = 20


def awaiting_corrections(session: Session, *, actor: Actor) -> list[tuple[Application, str]]:
    """Applications waiting for corrected materials (before or after acceptance) that this desk user
    may bring back: every one for a window clerk, their own or their 代办点's for an agent; oldest first."""
    require_desk(actor)
    stmt = (
        select(Application, MatterVersion.name)
        .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .where(Application.state.in_([str(State.CORRECTION_REQUESTED), str(State.SUPPLEMENT_REQUESTED)]))
    )
    mine = _visible(actor)
    if mine is not None:
        if not mine:
            return []
        stmt = stmt.where(or_(*mine))  # type: ignore[arg-type]
    return [(app, name) for app, name in session.execute(stmt.order_by(Application.id).limit(MAX_AWAITING))]
