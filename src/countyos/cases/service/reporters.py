"""A person's own reports, seen from their account: linking earlier reports by a proven phone
number, listing them, and forgetting the person's contact details when they delete their data."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from countyos.cases.models import Case, Reporter
from countyos.core.actor import Actor
from countyos.org.service import audit


def link_by_phone(session: Session, *, actor: Actor, user_id: int, phone_index: str) -> int:
    """Reports made with this phone number and no account become the account's (the caller has
    proven the phone is the person's, e.g. with a code sent to it). Returns how many."""
    if not phone_index:
        return 0
    ids = list(
        session.scalars(select(Reporter.id).where(Reporter.phone_index == phone_index, Reporter.user_id.is_(None)))
    )
    if not ids:
        return 0
    session.execute(
        update(Reporter).where(Reporter.id.in_(ids)).values(user_id=user_id),
        execution_options={"synchronize_session": False},
    )
    audit.record(
        session,
        actor=actor,
        action="case.reports_linked",
        target_type="user",
        target_id=user_id,
        detail={"reporters": len(ids)},
    )
    return len(ids)


def reports_of(session: Session, *, user_id: int, limit: int = 100) -> list[tuple[Case, Reporter]]:
    """The person's reports, newest first, each with the case it is now part of (after merges)."""
    rows = session.execute(
        select(Case, Reporter)
        .join(Reporter, Reporter.case_id == Case.id)
        .where(Reporter.user_id == user_id)
        .order_by(Reporter.created_at.desc(), Reporter.id.desc())
        .limit(limit)
    )
    return [(c, r) for c, r in rows]


def forget_person(session: Session, *, actor: Actor, user_id: int) -> int:
    """Remove the person's name, phone, e-mail, device and account ids from every report of theirs.
    The cases stay (they are records of the county's work); the reporter's page links keep working but
    show no contact. Returns how many reports were cleared."""
    ids = list(session.scalars(select(Reporter.id).where(Reporter.user_id == user_id)))
    session.execute(
        update(Reporter)
        .where(Reporter.id.in_(ids))
        .values(
            user_id=None, name=None, phone_enc=None, phone_index=None, email_enc=None, device_id=None, account_id=None
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Case).where(Case.reporter_user_id == user_id).values(reporter_user_id=None),
        execution_options={"synchronize_session": False},
    )
    audit.record(
        session,
        actor=actor,
        action="case.reporter_forgotten",
        target_type="user",
        target_id=user_id,
        detail={"reporters": len(ids)},
    )
    return len(ids)
