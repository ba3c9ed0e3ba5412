"""A resident's personal data (个人信息保护法 第四十四至四十七条): all of it in one place, as a file to
take away, and deleted on request — except what the law says must be kept, which is said, with why.

What is deleted or made anonymous on request:
- the account's name, phone number and password (the account is closed, its sessions end);
- the real-name record's details, the sign-in codes, subscriptions and messages;
- the name, phone, e-mail and device of every problem the resident reported (the case stays, with no
  one's contact, as a record of the county's work);
- coming bookings are cancelled and the notes written on bookings cleared (the past ones stay as the
  place's record, on the closed account).

What is kept, and why (``KEPT``): applications (政务服务 records are archives), the consents given and
withdrawn (they prove the processing was lawful), the audit log (网络安全法 第二十一条: at least six
months), photos attached to reports (evidence of the problem, no longer linked to the person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from countyos.cases.service import reporters
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.org.service import audit, auth, users
from countyos.portal.models import Message, OneTimeCode, Subscription
from countyos.portal.service import accounts, bookings, follows
from countyos.services.service import applications

DELETED_NAME = "已注销"  # the name a deleted account keeps in the records that point at it


@dataclass(frozen=True)
class Kept:
    what: str
    why: str


KEPT: tuple[Kept, ...] = (
    Kept(
        N_("Your applications for government services"),
        N_("Records of government services are archives the departments must keep (档案法, 政务服务 records)."),
    ),
    Kept(
        N_("The consents you gave and withdrew"),
        N_("They show that your personal information was processed lawfully (个人信息保护法 第十四条)."),
    ),
    Kept(
        N_("The audit log of what was done with your account"),
        N_("Network logs must be kept for at least six months (网络安全法 第二十一条)."),
    ),
    Kept(
        N_("Photos and descriptions of the problems you reported"),
        N_("They are the record of the county's work on those problems; your name and phone are removed from them."),
    ),
)


def subscriptions_of(session: Session, *, user_id: int) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(Subscription.user_id == user_id).order_by(Subscription.id)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def gather(session: Session, *, user_id: int) -> dict[str, Any]:
    """Everything CountyOS holds about the resident, as plain data (shown on the page, exported as JSON)."""
    user = users.get(session, user_id=user_id)
    resident = accounts.resident_of(session, user_id=user_id)
    phone = users.cipher().decrypt(user.phone_enc) if user.phone_enc else None
    reports = reporters.reports_of(session, user_id=user_id)
    apps = applications.of_applicant(session, user_id=user_id)
    subs = subscriptions_of(session, user_id=user_id)
    booked = bookings.of_person(session, user_id=user_id, limit=100)
    places = bookings.names_of(session, [b.bookable_id for b in booked])
    message_count = session.scalar(select(func.count()).select_from(Message).where(Message.user_id == user_id)) or 0
    return {
        "account": {
            "name": user.display_name,
            "phone": phone,
            "user_name": user.username,
            "password_set": bool(user.password_hash),
            "language": user.locale,
            "signed_up_at": _iso(resident.signed_up_at),
            "last_sign_in_at": _iso(user.last_login_at),
        },
        "real_name": {
            "level": str(resident.level),
            "verified_at": _iso(resident.verified_at),
            "document": resident.verified_document,
            "document_ends_with": resident.verified_tail,
            "place": resident.verified_place,
        },
        "consents": [
            {
                "purpose": str(c.purpose),
                "version": c.version,
                "given_at": _iso(c.granted_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in accounts.consents(session, user_id=user_id)
        ],
        "reports": [
            {
                "case": case.number,
                "state": str(case.state),
                "reported_at": _iso(rep.created_at),
                "name_given": rep.name,
                "page": f"/r/{rep.public_token}",
            }
            for case, rep in reports
        ],
        "applications": [
            {"number": app.number, "matter": name, "state": app.state, "submitted_at": _iso(app.submitted_at)}
            for app, name in apps
        ],
        "bookings": [
            {
                "place": places[b.bookable_id].name if b.bookable_id in places else "",
                "starts_at": _iso(b.starts_at),
                "state": str(b.state),
                "note": b.note,
            }
            for b in booked
        ],
        "subscriptions": [{"area": s.division_code, "kinds": list(s.kinds)} for s in subs],
        "following": len(follows.followed_by(session, user_id=user_id)),
        "messages": message_count,
    }


@dataclass(frozen=True)
class Deletion:
    at: datetime
    reports_cleared: int
    subscriptions: int
    messages: int
    codes: int
    kept_applications: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def delete_account(session: Session, *, actor: Actor, user_id: int) -> Deletion:
    """Delete the resident's personal data as the module docstring says; returns what was done."""
    user = users.get(session, user_id=user_id)
    resident = accounts.resident_of(session, user_id=user_id, create=True)
    now = utcnow()
    phone_index = user.phone_index
    cleared = reporters.forget_person(session, actor=actor, user_id=user_id)
    bookings.forget_person(session, actor=actor, user_id=user_id)
    subs = _count(session.execute(delete(Subscription).where(Subscription.user_id == user_id)))
    subs += follows.forget_person(session, user_id=user_id)
    msgs = _count(session.execute(delete(Message).where(Message.user_id == user_id)))
    codes = 0
    if phone_index:
        codes = _count(session.execute(delete(OneTimeCode).where(OneTimeCode.phone_index == phone_index)))
    kept = len(applications.of_applicant(session, user_id=user_id))
    for consent in accounts.consents(session, user_id=user_id):
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
    resident.deleted_at = now
    resident.verified_tail = None
    resident.verified_place = None
    users.forget(session, actor=actor, user=user, name=DELETED_NAME)
    auth.end_all_sessions(session, user_id=user_id)
    audit.record(
        session,
        actor=actor,
        action="portal.account_deleted",
        target_type="user",
        target_id=user_id,
        detail={"reports_cleared": cleared, "subscriptions": subs, "messages": msgs, "applications_kept": kept},
    )
    return Deletion(
        at=now, reports_cleared=cleared, subscriptions=subs, messages=msgs, codes=codes, kept_applications=kept
    )
