"""What a resident follows: the county, a township or a village, for every kind of notice or some.

A subscription is one row per (resident, area); following an area again changes its kinds. Residents
get a message for each notice published in a followed area or an area within it
(``service.notices.subscribers``). Every change is audited; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.geo.models import Division
from countyos.geo.service import divisions
from countyos.org.service import audit
from countyos.portal.models import NoticeKind, Subscription

SELF = "portal.self"
MAX_SUBSCRIPTIONS = 20


def _me(actor: Actor) -> int:
    if actor.id is None or not actor.can(SELF):
        raise PermissionDenied(N_("Only a signed-in resident follows areas"))
    return actor.id


def of_user(session: Session, *, user_id: int) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription).where(Subscription.user_id == user_id).order_by(Subscription.division_code)
        )
    )


def area(session: Session, *, code: str) -> Division:
    """A division of the county, refused as a field error when there is none."""
    county = divisions.the_county(session)
    try:
        found = divisions.get_by_code(session, code=code)
    except NotFound:
        found = None
    if found is None or county is None or not found.code.startswith(county.code):
        message = N_("There is no division with code %(code)s")
        raise ValidationFailed(
            message, errors=[{"field": "division_code", "message": gettext(message, code=code)}], code=code
        )
    return found


def follow(session: Session, *, actor: Actor, division_code: str, kinds: Iterable[NoticeKind] = ()) -> Subscription:
    """Follow an area (again: with these kinds now); no kinds means every kind."""
    user_id = _me(actor)
    division = area(session, code=division_code)
    wanted = sorted({NoticeKind(k).value for k in kinds})
    sub = session.scalars(
        select(Subscription).where(Subscription.user_id == user_id, Subscription.division_code == division.code)
    ).first()
    if sub is None:
        if len(of_user(session, user_id=user_id)) >= MAX_SUBSCRIPTIONS:
            message = N_("You can follow at most %(n)s areas")
            raise ValidationFailed(
                message,
                errors=[{"field": "division_code", "message": gettext(message, n=MAX_SUBSCRIPTIONS)}],
                n=MAX_SUBSCRIPTIONS,
            )
        sub = Subscription(user_id=user_id, division_code=division.code, kinds=wanted, created_at=utcnow())
        session.add(sub)
    else:
        sub.kinds = wanted
    session.flush()
    audit_change(session, actor, "portal.subscription.follow", sub, {"division_code": division.code, "kinds": wanted})
    return sub


def unfollow(session: Session, *, actor: Actor, division_code: str) -> None:
    user_id = _me(actor)
    sub = session.scalars(
        select(Subscription).where(Subscription.user_id == user_id, Subscription.division_code == division_code[:12])
    ).first()
    if sub is None:
        raise NotFound(N_("You do not follow this area"))
    audit_change(session, actor, "portal.subscription.unfollow", sub, {"division_code": sub.division_code})
    session.delete(sub)
    session.flush()


def audit_change(session: Session, actor: Actor, action: str, sub: Subscription, detail: dict[str, object]) -> None:
    audit.record(
        session, actor=actor, action=action, target_type="portal_subscription", target_id=sub.id, detail=detail
    )
