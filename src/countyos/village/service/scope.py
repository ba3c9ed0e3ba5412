"""Who may act for which 经营主体: a producer or a buyer acts only for the entities they are a member of;
the 农业农村局 (``village.agri.manage``) for any. Every part asks here, so the rule is kept once."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PermissionDenied
from countyos.core.i18n import N_
from countyos.village.models.producers import Entity, EntityMember
from countyos.village.permissions import AGRI_MANAGE, AGRI_READ


def entity_ids_of(session: Session, actor: Actor) -> list[int]:
    """The entities this person is a member of (empty for someone acting for none)."""
    if actor.id is None:
        return []
    return list(session.scalars(select(EntityMember.entity_id).where(EntityMember.user_id == actor.id)))


def sees_all(actor: Actor) -> bool:
    """The bureau and the leaders see every entity's records."""
    return actor.can(AGRI_READ) or actor.can(AGRI_MANAGE)


def entity_for(session: Session, actor: Actor, entity_id: int, *, write: bool = False) -> Entity:
    """The entity if this person may see it (``write``: act for it); NotFound otherwise, so that a
    stranger learns nothing of which entities exist."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(N_("No such producer or buyer"))
    if write and actor.can(AGRI_MANAGE):
        return entity
    if not write and sees_all(actor):
        return entity
    if entity_id in entity_ids_of(session, actor):
        return entity
    raise NotFound(N_("No such producer or buyer"))


def require_member(session: Session, actor: Actor, entity_id: int) -> None:
    """Refuse (403) someone who does not act for this entity."""
    if entity_id not in entity_ids_of(session, actor) and not actor.can(AGRI_MANAGE):
        raise PermissionDenied(N_("You do not act for this producer or buyer"))


def entity_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Entity id → name (organisations' and people's entities alike; pages that are public mask people)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(session.execute(select(Entity.id, Entity.name).where(Entity.id.in_(wanted))).all())
