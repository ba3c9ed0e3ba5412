"""The demo county's residents' portal: 噪声扰民 reports are shown by grid only on the public map; the
demo resident 张秀英 (account ``resident``) has her real name
verified at the county centre's window, the privacy rules agreed to, follows two public reports (one
since closed, so a message tells her) and finds everything under /portal/me; plus the notices and
村务公开 (``demo_notices``), the public service directory (``demo_facilities``) and what can be booked
(``demo_bookings``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.service import categories, publicmap
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.org.service import users
from countyos.portal import demo_bookings, demo_facilities, demo_notices
from countyos.portal.models import CaseFollow, Consent, ConsentPurpose, MessageKind, RealNameLevel, Resident
from countyos.portal.service import accounts, follows, messages
from countyos.services.models import IdType

DEMO = Actor(id=None, name="demo")


# Reports of these categories name a neighbour more often than a place: the public map shows them by grid.
SENSITIVE = ("噪声扰民",)


def load(session: Session, ctx: DemoContext) -> None:
    for cat in categories.list_categories(session):
        if cat.name in SENSITIVE and not cat.sensitive:
            categories.update(session, actor=DEMO, category_id=cat.id, changes={"sensitive": True})
    uid = ctx.user_ids.get("resident")
    if uid is not None:
        _resident(session, ctx, uid)
    demo_notices.load(session, ctx)
    demo_facilities.load(session, ctx)
    demo_bookings.load(session, ctx)
    if uid is not None:
        _follows(session, uid)
        phone = users.cipher().decrypt(users.get(session, user_id=uid).phone_enc or "")
        ctx.notes.append(
            f"Residents' portal: {ctx.public_url}/portal — the demo resident signs in at /portal/signin with "
            f"the phone {phone}; the sign-in code is printed on this console (development SMS adapter)"
        )


def _resident(session: Session, ctx: DemoContext, uid: int) -> None:
    now = utcnow()
    user = users.get(session, user_id=uid)
    signed_up = now - timedelta(days=200)
    session.add(Resident(user_id=uid, level=RealNameLevel.UNVERIFIED, signed_up_at=signed_up))
    session.add(
        Consent(user_id=uid, purpose=ConsentPurpose.PRIVACY, version=accounts.PRIVACY_VERSION, granted_at=signed_up)
    )
    session.add(
        Consent(user_id=uid, purpose=ConsentPurpose.LOCATION, version=accounts.PRIVACY_VERSION, granted_at=signed_up)
    )
    session.flush()
    window = ctx.user_ids.get("window")
    clerk = Actor(id=window, name="window", permissions=frozenset({"portal.resident.verify"}))
    accounts.verify_real_name(
        session,
        actor=clerk,
        user_id=uid,
        name=user.display_name,
        document=IdType.PASSPORT,  # no valid demo 身份证号 is needed for a passport
        number="EJ3311230",
        place="县政务服务中心 综合窗口",
    )
    messages.deliver(
        session,
        user_ids=[uid],
        kind=MessageKind.ACCOUNT,
        key="welcome",
        title=accounts.WELCOME[0],
        body=accounts.WELCOME[1],
        link="/portal/me",
        extra={"translate": True},
    )


def _follows(session: Session, uid: int) -> None:
    """She follows the newest open public report and one closed in the last month (told of it)."""
    now = utcnow()
    open_rows, _ = publicmap.on_map(session, now=now, limit=1)
    closed_rows, _ = publicmap.on_map(session, now=now, closed=True, limit=1)
    for row in [*open_rows, *closed_rows]:
        if session.scalar(select(CaseFollow.id).where(CaseFollow.case_id == row.id, CaseFollow.user_id == uid)):
            continue
        session.add(CaseFollow(case_id=row.id, user_id=uid, created_at=row.reported_at + timedelta(hours=3)))
    session.flush()
    follows.tell_closed(session)
