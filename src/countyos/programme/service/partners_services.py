"""Partner services listed to the county, on one transition table.

    submitted ──approve──▶ approved ──suspend──▶ suspended ──approve──▶ approved
    submitted ──reject───▶ rejected ──edit (resubmitted)──▶ submitted
    submitted ──edit─────▶ submitted

The partner's developers submit a service and edit it while it is submitted or rejected (an edit of a
rejected one submits it again); the programme office approves, rejects (with a note) or suspends it.
Approved services are listed on the public catalogue.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.models.partners import PartnerService, ServiceState
from countyos.programme.models.projects import Organisation
from countyos.programme.schemas.partners import ReviewIn, ServiceIn
from countyos.programme.service import partners

MAX_SERVICES_PER_ORG = 50
MAX_LIST = 500

# (state, action) → the state after; who may take each action is the route's permission.
TRANSITIONS: dict[tuple[ServiceState, str], ServiceState] = {
    (ServiceState.SUBMITTED, "approve"): ServiceState.APPROVED,
    (ServiceState.SUBMITTED, "reject"): ServiceState.REJECTED,
    (ServiceState.SUBMITTED, "edit"): ServiceState.SUBMITTED,
    (ServiceState.REJECTED, "edit"): ServiceState.SUBMITTED,
    (ServiceState.APPROVED, "suspend"): ServiceState.SUSPENDED,
    (ServiceState.SUSPENDED, "approve"): ServiceState.APPROVED,
}
STAFF_ACTIONS = ("approve", "reject", "suspend")

STATE_LABELS = {
    ServiceState.SUBMITTED: N_("Service awaiting review"),
    ServiceState.APPROVED: N_("Service listed"),
    ServiceState.REJECTED: N_("Service not approved"),
    ServiceState.SUSPENDED: N_("Service suspended"),
}
ACTION_LABELS = {
    "approve": N_("Approve and list the service"),
    "reject": N_("Reject the service"),
    "suspend": N_("Suspend the service"),
    "edit": N_("Edit and resubmit the service"),
}


class ServiceTransitionNotAllowed(TransitionNotAllowed):
    pass


@cache
def category_table() -> list[dict[str, str]]:
    data: dict[str, Any] = json.loads((partners.DATA / "partners_categories.json").read_text(encoding="utf-8"))
    return list(data["categories"])


def category_words(locale: str) -> dict[str, str]:
    lang = "en" if locale == "en" else "zh"
    return {c["code"]: c[lang] for c in category_table()}


def allowed_actions(state: ServiceState, among: tuple[str, ...] | None = None) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == state and (among is None or a in among)]


def _check(svc: PartnerService, action: str) -> ServiceState:
    after = TRANSITIONS.get((svc.state, action))
    if after is None:
        raise ServiceTransitionNotAllowed(
            N_("A service that is “%(state)s” cannot take the action “%(action)s”"),
            allowed=allowed_actions(svc.state),
            current_state=svc.state.value,
            state=STATE_LABELS[svc.state],
            action=ACTION_LABELS.get(action, action),
        )
    return after


def _validate(data: ServiceIn) -> None:
    if data.category not in {c["code"] for c in category_table()}:
        raise ValidationFailed.on_field("category", N_("Choose a category of the list"))
    known = set(partners.scope_words("zh_CN"))
    if set(data.uses) - known:
        raise ValidationFailed.on_field("uses", N_("Choose the data and interfaces of the list"))


def _fill(svc: PartnerService, data: ServiceIn) -> None:
    svc.name, svc.summary, svc.description = data.name, data.summary, data.description.strip()
    svc.url, svc.category, svc.contact = data.url, data.category, data.contact.strip()
    svc.uses = sorted(set(data.uses))


def submit(session: Session, *, actor: Actor, org_id: int, data: ServiceIn) -> PartnerService:
    org = partners.get_partner(session, org_id=org_id)
    _validate(data)
    n = session.scalar(select(func.count()).select_from(PartnerService).where(PartnerService.org_id == org.id))
    if (n or 0) >= MAX_SERVICES_PER_ORG:
        raise Conflict(N_("A partner lists at most %(n)s services"), n=MAX_SERVICES_PER_ORG)
    svc = PartnerService(org_id=org.id, state=ServiceState.SUBMITTED, submitted_by_id=actor.id, submitted_at=utcnow())
    _fill(svc, data)
    session.add(svc)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.partners.service.submit",
        target_type="programme_partner_service",
        target_id=svc.id,
        detail={"org_id": org.id, "name": svc.name, "url": svc.url},
    )
    return svc


def get(session: Session, *, service_id: int, org_id: int | None = None) -> PartnerService:
    """A service; with ``org_id`` (a developer) only one of that organisation."""
    svc = session.get(PartnerService, service_id)
    if svc is None or (org_id is not None and svc.org_id != org_id):
        raise NotFound(N_("Partner service %(id)s does not exist"), id=service_id)
    return svc


def edit(session: Session, *, actor: Actor, service_id: int, org_id: int, data: ServiceIn) -> PartnerService:
    svc = get(session, service_id=service_id, org_id=org_id)
    before = svc.state
    after = _check(svc, "edit")
    _validate(data)
    _fill(svc, data)
    svc.state = after
    svc.submitted_by_id, svc.submitted_at = actor.id, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.partners.service.edit",
        target_type="programme_partner_service",
        target_id=svc.id,
        detail={"name": svc.name, "url": svc.url, "from": before.value, "to": after.value},
    )
    return svc


def review(session: Session, *, actor: Actor, service_id: int, data: ReviewIn) -> PartnerService:
    svc = get(session, service_id=service_id)
    before = svc.state
    after = _check(svc, data.action)
    note = data.note.strip()
    if data.action in ("reject", "suspend") and not note:
        raise ValidationFailed.on_field("note", N_("Say why: the partner reads the note"))
    svc.state, svc.review_note = after, note
    svc.reviewed_by_id, svc.reviewed_at = actor.id, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"programme.partners.service.{data.action}",
        target_type="programme_partner_service",
        target_id=svc.id,
        detail={"name": svc.name, "from": before.value, "to": after.value, "note": note},
    )
    return svc


def services(session: Session, *, org_id: int | None = None, state: ServiceState | None = None) -> list[PartnerService]:
    stmt = select(PartnerService).order_by(PartnerService.submitted_at.desc(), PartnerService.id.desc()).limit(MAX_LIST)
    if org_id is not None:
        stmt = stmt.where(PartnerService.org_id == org_id)
    if state is not None:
        stmt = stmt.where(PartnerService.state == state)
    return list(session.scalars(stmt))


def counts_by_state(session: Session) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(PartnerService.org_id, PartnerService.state, func.count()).group_by(
            PartnerService.org_id, PartnerService.state
        )
    ).all()
    out: dict[int, dict[str, int]] = {}
    for org_id, state, n in rows:
        out.setdefault(org_id, {})[ServiceState(state).value] = n
    return out


def catalogue(session: Session) -> list[tuple[PartnerService, str]]:
    """The approved services with their partner's name (the public catalogue)."""
    stmt = (
        select(PartnerService, Organisation.name)
        .join(Organisation, Organisation.id == PartnerService.org_id)
        .where(PartnerService.state == ServiceState.APPROVED)
        .order_by(PartnerService.category, PartnerService.name)
        .limit(MAX_LIST)
    )
    return [(svc, name) for svc, name in session.execute(stmt).all()]
