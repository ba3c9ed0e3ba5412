"""Residents following a public case ("me too", 我也关注): counted on the public map and told in their
messages when the case closes. The public sees how many follow, never who."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from countyos.cases.service import publicmap
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.portal.models import CaseFollow, MessageKind
from countyos.portal.service import messages

MAX_FOLLOWS = 200  # cases one resident may follow at once


def counts(session: Session, *, case_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(CaseFollow.case_id, func.count()).where(CaseFollow.case_id.in_(ids)).group_by(CaseFollow.case_id)
    )
    return {cid: n for cid, n in rows}


def follows(session: Session, *, user_id: int, case_id: int) -> bool:
    return (
        session.scalar(select(CaseFollow.id).where(CaseFollow.user_id == user_id, CaseFollow.case_id == case_id))
        is not None
    )


def followed_by(session: Session, *, user_id: int) -> list[CaseFollow]:
    return list(
        session.scalars(select(CaseFollow).where(CaseFollow.user_id == user_id).order_by(CaseFollow.created_at.desc()))
    )


def follow(session: Session, *, actor: Actor, user_id: int, number: str) -> publicmap.PublicCase:
    """Follow a published, open case (following twice changes nothing)."""
    case = publicmap.public_case(session, number=number)
    if not case.is_open:
        raise Conflict("This report is already closed")
    if follows(session, user_id=user_id, case_id=case.id):
        return case
    held = session.scalar(select(func.count()).select_from(CaseFollow).where(CaseFollow.user_id == user_id)) or 0
    if held >= MAX_FOLLOWS:
        raise ValidationFailed("You follow %(n)s reports already; stop following some first", n=MAX_FOLLOWS)
    session.add(CaseFollow(case_id=case.id, user_id=user_id, created_at=utcnow()))
    session.flush()
    audit.record(session, actor=actor, action="portal.case_follow", target_type="case", target_id=case.number)
    return case


def unfollow(session: Session, *, actor: Actor, user_id: int, number: str) -> None:
    case = publicmap.public_case(session, number=number)
    result = session.execute(delete(CaseFollow).where(CaseFollow.user_id == user_id, CaseFollow.case_id == case.id))
    if getattr(result, "rowcount", 0):
        audit.record(session, actor=actor, action="portal.case_unfollow", target_type="case", target_id=case.number)


def tell_closed(session: Session, *, limit: int = 500) -> int:
    """Tell the followers of cases that closed since they followed (once each). Returns messages sent."""
    pending = list(
        session.execute(
            select(CaseFollow.id, CaseFollow.case_id, CaseFollow.user_id)
            .where(CaseFollow.told_closed_at.is_(None))
            .order_by(CaseFollow.id)
            .limit(limit * 10)
        )
    )
    closed = publicmap.closed_since(session, case_ids=[cid for _, cid, _ in pending])
    sent = 0
    done: list[int] = []
    for fid, cid, uid in pending:
        if cid not in closed:
            continue
        case_number = closed[cid][0]
        sent += messages.deliver(
            session,
            user_ids=[uid],
            kind=MessageKind.CASE,
            key=f"case-closed:{cid}",
            title=N_("A report you follow is closed"),
            body=N_("The problem you followed has been dealt with and the report is closed. Open it to see how."),
            link=f"/portal/cases/{case_number}",
            extra={"translate": True, "case": case_number},
        )
        done.append(fid)
        if len(done) >= limit:
            break
    if done:
        session.execute(
            update(CaseFollow).where(CaseFollow.id.in_(done)).values(told_closed_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
    return sent


def forget_person(session: Session, *, user_id: int) -> int:
    result = session.execute(delete(CaseFollow).where(CaseFollow.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
