"""Hidden dangers (隐患): their ONE transition table, rectification, re-inspection, the overdue sweep.

    open (待整改) ─rectify (整改完成, photos)→ rectified (待复查) ─re-inspection passes→ closed (销号)
      │  ▲                                          │
      │  └──────── re-inspection fails: a new deadline ┘
      └─ re-inspection passes (fixed on the spot) → closed;  fails → open with a new deadline

Each hazard runs as a case (category 安全隐患) from the moment it is found. When the re-inspection passes
the case is closed through the cases service's transitions where its state allows (上报 → 自处理结案;
核查通过 → 结案; 核查中 → the re-inspector's 核查通过 then 结案); otherwise the re-inspection is written on the
case's timeline and the case finishes its own way. A hazard is overdue when its deadline has passed and
it is not closed; the job ``safety.inspections.overdue`` notes each overdue hazard once per deadline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Action, State
from countyos.cases.schemas import ActionIn
from countyos.cases.service import attachments, cases, transitions
from countyos.core.actor import Actor
from countyos.core.clock import county_day, county_today, utcnow
from countyos.core.errors import CountyError, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit, users
from countyos.safety.models.inspections import Hazard, HazardAction, HazardLevel, HazardLog, HazardState, Place
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.schemas.inspections import RectifyIn, ReinspectIn
from countyos.safety.service import inspections_checklists as checklists

SYSTEM = Actor(id=None, name="safety.inspections", permissions=frozenset({"case.shift"}))
MAX_PHOTOS = 5
MAX_PHOTO_BYTES = attachments.MAX_BYTES

# (state, action) → next state. ONE table; nothing else compares hazard states to decide what may happen.
TRANSITIONS: dict[tuple[HazardState, HazardAction], HazardState] = {
    (HazardState.OPEN, HazardAction.RECTIFY): HazardState.RECTIFIED,
    (HazardState.OPEN, HazardAction.PASS): HazardState.CLOSED,
    (HazardState.OPEN, HazardAction.FAIL): HazardState.OPEN,
    (HazardState.RECTIFIED, HazardAction.PASS): HazardState.CLOSED,
    (HazardState.RECTIFIED, HazardAction.FAIL): HazardState.OPEN,
}
STATE_NAMES = {
    HazardState.OPEN: N_("Awaiting rectification"),
    HazardState.RECTIFIED: N_("Rectified, awaiting re-inspection"),
    HazardState.CLOSED: N_("Closed after re-inspection"),
}
LEVEL_NAMES = {HazardLevel.GENERAL: N_("General hazard"), HazardLevel.MAJOR: N_("Major hazard")}
ACTION_NAMES = {
    HazardAction.FOUND: N_("Found in an inspection"),
    HazardAction.RECTIFY: N_("Reported as rectified"),
    HazardAction.PASS: N_("Re-inspection passed"),
    HazardAction.FAIL: N_("Re-inspection failed"),
    HazardAction.OVERDUE: N_("Rectification overdue"),
    HazardAction.NOTE: N_("Note"),
}


def allowed(state: HazardState) -> list[HazardAction]:
    return [a for (s, a) in TRANSITIONS if s is state]


def next_state(state: HazardState, action: HazardAction) -> HazardState:
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not allowed on a hazard in state %(state)s"),
            action=str(action), state=str(state), allowed=[str(a) for a in allowed(state)],
            current_state=str(state),
        )  # fmt: skip
    return target


def is_overdue(h: Hazard, today: date | None = None) -> bool:
    return h.state is not HazardState.CLOSED and h.deadline_on < (today or county_today())


def get(session: Session, *, hazard_id: int) -> Hazard:
    h = session.get(Hazard, hazard_id)
    if h is None:
        raise NotFound(N_("No such hazard"))
    return h


def may_see(session: Session, actor: Actor, h: Hazard) -> bool:
    """Inspectors and the keepers of key places see every hazard; a department sees the hazards whose case
    it handles."""
    if actor.can(INSPECT) or actor.can(INSPECT_MANAGE):
        return True
    if h.case_id is None or actor.department_id is None:
        return False
    case = cases.get(session, case_id=h.case_id)
    return case.department_id == actor.department_id


def get_visible(session: Session, *, actor: Actor, hazard_id: int) -> Hazard:
    h = get(session, hazard_id=hazard_id)
    if not may_see(session, actor, h):
        raise NotFound(N_("No such hazard"))
    return h


def log(session: Session, *, hazard_id: int) -> list[HazardLog]:
    stmt = select(HazardLog).where(HazardLog.hazard_id == hazard_id).order_by(HazardLog.at, HazardLog.id)
    return list(session.scalars(stmt))


def display_name(session: Session, actor: Actor | None) -> str:
    """The person's name as people know them (the account name for a machine or the system)."""
    if actor is None:
        return ""
    if actor.id is not None:
        found = users.colleagues(session, user_ids=[actor.id]).get(actor.id)
        if found is not None:
            return str(found.display_name)
    return actor.name


def add_log(
    session: Session,
    *,
    h: Hazard,
    action: HazardAction,
    before: HazardState | None,
    actor: Actor | None,
    at: datetime,
    note: str = "",
    attachment_ids: list[int] | None = None,
) -> HazardLog:
    row = HazardLog(
        hazard_id=h.id, at=at, action=action, from_state=before, to_state=h.state,
        actor_id=actor.id if actor else None, actor_name=display_name(session, actor), note=note,
        deadline_on=h.deadline_on, attachment_ids=list(attachment_ids or []),
    )  # fmt: skip
    session.add(row)
    return row


def store_photos(session: Session, *, actor: Actor, photos: list[tuple[bytes, str | None]]) -> list[int]:
    """Photos (≤ 5, JPEG/PNG/WebP, each ≤ 10 MB, checked like case attachments) kept as attachments."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed.on_field("photos", N_("At most 5 photos"))
    for data, _ in photos:
        if len(data) > MAX_PHOTO_BYTES:
            raise ValidationFailed.on_field("photos", N_("A photo may be at most 10 MB"))
    return [a.id for a in attachments.store_photos(session, actor=actor, files=photos)]


def rectify(
    session: Session,
    *,
    actor: Actor,
    hazard_id: int,
    data: RectifyIn,
    photos: list[tuple[bytes, str | None]] | None = None,
    now: datetime | None = None,
) -> Hazard:
    """整改完成: reported by an inspector or the department handling the hazard's case, with photos."""
    now = now or utcnow()
    h = get(session, hazard_id=hazard_id)
    if not may_see(session, actor, h):
        raise PermissionDenied(N_("Only inspectors or the department handling its case may report a hazard rectified"))
    before = h.state
    h.state = next_state(before, HazardAction.RECTIFY)
    ids = store_photos(session, actor=actor, photos=photos or [])
    h.rectified_at = now
    add_log(session, h=h, action=HazardAction.RECTIFY, before=before, actor=actor, at=now, note=data.note,
            attachment_ids=ids)  # fmt: skip
    session.flush()
    audit.record(
        session, actor=actor, action="safety.inspections.hazard_rectify", target_type="safety_hazard",
        target_id=h.id, detail={"photos": len(ids)},
    )  # fmt: skip
    return h


def _case_step(session: Session, actor: Actor, case_id: int, action: Action, comment: str, at: datetime) -> bool:
    try:
        with session.begin_nested():
            transitions.apply(
                session, actor=actor, case_id=case_id, now=at, data=ActionIn(action=action, comment=comment[:2000]),
                context={"cause": "safety.inspections.reinspect"},
            )  # fmt: skip
        return True
    except CountyError:
        return False


def _finish_case(session: Session, actor: Actor, h: Hazard, note: str, at: datetime) -> str:
    """Close the hazard's case as far as its state allows; what happened, in words for the log."""
    if h.case_id is None:
        return ""
    case = cases.get(session, case_id=h.case_id)
    words = f"复查通过，隐患已销号。{note}".strip()
    if not case.is_open:
        return ""
    if case.state == State.REPORTED and _case_step(session, SYSTEM, case.id, Action.SELF_CLOSE, words, at):
        return "case_closed"
    if case.state == State.CHECKING:
        _case_step(session, actor, case.id, Action.CHECK_PASS, words, at)
        case = cases.get(session, case_id=h.case_id)
    if case.state == State.CHECKED and _case_step(session, SYSTEM, case.id, Action.CLOSE, words, at):
        return "case_closed"
    _case_step(session, SYSTEM, case.id, Action.COMMENT, words, at)
    return "case_noted"


def reinspect(
    session: Session,
    *,
    actor: Actor,
    hazard_id: int,
    data: ReinspectIn,
    photos: list[tuple[bytes, str | None]] | None = None,
    now: datetime | None = None,
) -> Hazard:
    """复查: passed → closed (and its case closed where possible); failed → open with a new deadline (the
    given days, else the level's days from data) counted from the re-inspection's day."""
    now = now or utcnow()
    if not actor.can(INSPECT):
        raise PermissionDenied(N_("Only inspectors re-inspect hazards"))
    h = get(session, hazard_id=hazard_id)
    before = h.state
    action = HazardAction.PASS if data.passed else HazardAction.FAIL
    h.state = next_state(before, action)
    ids = store_photos(session, actor=actor, photos=photos or [])
    h.reinspections += 1
    outcome = ""
    if data.passed:
        h.closed_at = now
        outcome = _finish_case(session, actor, h, data.note, now)
    else:
        days = data.days or checklists.default_days(h.level)
        h.deadline_on = county_day(now) + timedelta(days=days)
        h.rectified_at = None
        if h.case_id is not None:
            words = f"复查未通过，重新限期 {days} 天整改。{data.note}".strip()
            _case_step(session, SYSTEM, h.case_id, Action.COMMENT, words, now)
    add_log(session, h=h, action=action, before=before, actor=actor, at=now, note=data.note, attachment_ids=ids)
    session.flush()
    audit.record(
        session, actor=actor, action=f"safety.inspections.hazard_{action.value}", target_type="safety_hazard",
        target_id=h.id, detail={"deadline": h.deadline_on.isoformat(), "case": outcome or None},
    )  # fmt: skip
    return h


def sweep_overdue(session: Session, *, today: date | None = None, now: datetime | None = None) -> list[int]:
    """Note each hazard past its deadline and not closed, once per deadline; the ids noted."""
    today = today or county_today()
    now = now or utcnow()
    stmt = select(Hazard).where(Hazard.state != HazardState.CLOSED, Hazard.deadline_on < today).order_by(Hazard.id)
    noted = []
    for h in session.scalars(stmt.limit(5000)):
        if h.overdue_noted_on == h.deadline_on:
            continue
        h.overdue_noted_on = h.deadline_on
        add_log(session, h=h, action=HazardAction.OVERDUE, before=h.state, actor=None, at=now,
                note=f"整改期限 {h.deadline_on.isoformat()} 已过")  # fmt: skip
        noted.append(h.id)
    if noted:
        session.flush()
        audit.record(
            session, actor=SYSTEM, action="safety.inspections.overdue", target_type="safety_hazard",
            detail={"hazards": noted[:200], "count": len(noted)},
        )  # fmt: skip
    return noted


# --- lists and figures -----------------------------------------------------------------------------


def query(
    *,
    state: HazardState | None = None,
    overdue: bool = False,
    level: HazardLevel | None = None,
    township_code: str | None = None,
    place_id: int | None = None,
    today: date | None = None,
) -> Select[Hazard]:
    stmt = select(Hazard)
    if state is not None:
        stmt = stmt.where(Hazard.state == state)
    if overdue:
        stmt = stmt.where(Hazard.state != HazardState.CLOSED, Hazard.deadline_on < (today or county_today()))
    if level is not None:
        stmt = stmt.where(Hazard.level == level)
    if township_code:
        stmt = stmt.where(Hazard.township_code == township_code)
    if place_id is not None:
        stmt = stmt.where(Hazard.place_id == place_id)
    return stmt


def place_names(session: Session, place_ids: list[int]) -> dict[int, str]:
    ids = sorted(set(place_ids))
    if not ids:
        return {}
    return {int(k): str(v) for k, v in session.execute(select(Place.id, Place.name).where(Place.id.in_(ids)))}
