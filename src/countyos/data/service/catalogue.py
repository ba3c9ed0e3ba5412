"""The resource catalogue: create, edit, review and list 政务信息资源 (every write audited).

Who may do what: a provider department's staff (``data.catalogue.manage``) edit their own department's
entries; the data administrator (``data.catalogue.review``) edits any and is the only reviewer
(``lifecycle.TRANSITIONS``). Edits are allowed while the entry is being drafted; the caller passes the
version it read, and a stale one is refused (two people editing at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.i18n import N_, gettext
from countyos.data import lifecycle
from countyos.data.lifecycle import Action, Role, State
from countyos.data.models import InfoItem, Resource
from countyos.data.schemas import ActionIn, ResourceIn
from countyos.org.service import audit

MANAGE = "data.catalogue.manage"
REVIEW = "data.catalogue.review"
MAX_PAGE = 200


def roles_of(actor: Actor, resource: Resource | None = None, *, provider_id: int | None = None) -> frozenset[Role]:
    """The lifecycle roles ACTOR holds on RESOURCE (or on an entry of PROVIDER_ID)."""
    roles: set[Role] = set()
    if actor.can(REVIEW):
        roles.add(Role.ADMIN)
    dept = resource.provider_id if resource is not None else provider_id
    if actor.can(MANAGE) and dept is not None and actor.department_id == dept:
        roles.add(Role.PROVIDER)
    return frozenset(roles)


def _require_editor(actor: Actor, provider_id: int) -> None:
    if not roles_of(actor, provider_id=provider_id):
        raise errors.PermissionDenied(
            N_("Only the provider department's data staff or the data administrator edit this entry.")
        )


def get(session: Session, resource_id: int) -> Resource:
    res = session.get(Resource, resource_id, options=[selectinload(Resource.items)])
    if res is None:
        raise errors.NotFound(N_("No such data resource."))
    return res


def by_name(session: Session, name: str) -> Resource | None:
    return session.scalar(select(Resource).where(Resource.name == name).options(selectinload(Resource.items)))


COPIED = (
    "name",
    "code",
    "title",
    "summary",
    "class_1",
    "class_2",
    "class_3",
    "class_4",
    "provider_id",
    "format",
    "share_type",
    "share_condition",
    "share_method",
    "open_type",
    "open_condition",
    "update_cycle",
    "source_system",
    "grade",
    "sensitivity",
    "licence",
)


def _apply(res: Resource, data: ResourceIn) -> None:
    for field in COPIED:
        setattr(res, field, getattr(data, field))
    res.keywords = list(dict.fromkeys(data.keywords))
    res.themes = list(dict.fromkeys(data.themes))
    res.rules = [r.model_dump(mode="json") for r in data.rules]
    res.items = [InfoItem(position=n, **item.model_dump()) for n, item in enumerate(data.items, start=1)]
    res.updated_at = utcnow()


def _unique(session: Session, data: ResourceIn, *, other_than: int | None = None) -> None:
    clash = session.scalar(
        select(Resource.id).where(
            or_(Resource.name == data.name, Resource.code == data.code), Resource.id != (other_than or 0)
        )
    )
    if clash is not None:
        raise errors.Conflict(N_("Another resource already has this name or code."))


def create(session: Session, *, actor: Actor, data: ResourceIn) -> Resource:
    _require_editor(actor, data.provider_id)
    _unique(session, data)
    res = Resource(state=State.DRAFT)
    _apply(res, data)
    session.add(res)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="data.resource.create",
        target_type="data_resource",
        target_id=res.id,
        detail={"code": res.code, "title": res.title},
    )
    return res


def update(session: Session, *, actor: Actor, resource_id: int, data: ResourceIn, version: int) -> Resource:
    res = get(session, resource_id)
    _require_editor(actor, res.provider_id)
    _require_editor(actor, data.provider_id)
    if res.version != version:
        raise errors.Conflict(N_("Someone else changed this entry since you opened it; open it again."))
    if res.state not in lifecycle.EDITABLE:
        raise errors.Conflict(N_("Only an entry being drafted can be edited; ask to revoke or draft it again first."))
    if res.current_load_id is not None:
        loaded = {i.name: i.type for i in res.items}
        if {i.name: i.type for i in data.items} != loaded:
            raise errors.Conflict(N_("The information items of loaded data are fixed; load a new file to change them."))
    _unique(session, data, other_than=res.id)
    res.items = []  # the old items go before the new ones come (their names are unique per resource)
    session.flush()
    _apply(res, data)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="data.resource.update",
        target_type="data_resource",
        target_id=res.id,
        detail={"code": res.code},
    )
    return res


def act(session: Session, *, actor: Actor, resource_id: int, data: ActionIn) -> Resource:
    res = get(session, resource_id)
    if res.version != data.version:
        raise errors.Conflict(N_("Someone else changed this entry since you opened it; open it again."))
    roles = roles_of(actor, res)
    if not roles:
        raise errors.PermissionDenied(
            N_("Only the provider department's data staff or the data administrator act on this entry.")
        )
    if data.action in lifecycle.NEEDS_REASON and not data.reason:
        raise errors.ValidationFailed(
            N_("A reason is required."),
            errors=[{"field": "reason", "message": gettext("A reason is required.")}],
        )
    before = res.state
    if data.action == Action.SUBMIT and not res.items:
        raise errors.Conflict(N_("Describe at least one information item (or load a file) before submitting."))
    res.state = lifecycle.next_state(res.state, data.action, roles)
    if data.action in lifecycle.NEEDS_REASON:
        res.review_note = data.reason
    if res.state == State.PUBLISHED and before == State.IN_REVIEW:
        res.published_on = utcnow().date()
        res.review_note = ""
    res.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"data.resource.{data.action.value}",
        target_type="data_resource",
        target_id=res.id,
        detail={"from": before.value, "to": res.state.value, "reason": data.reason},
    )
    return res


def listing(
    session: Session,
    *,
    actor: Actor,
    state: State | None = None,
    provider_id: int | None = None,
    q: str = "",
    only_ids: Sequence[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Resource], int]:
    """Entries the actor may see: all published ones, plus every entry of the actor's department (a
    provider) or every entry (the administrator)."""
    cond: list[Any] = []
    if not actor.can(REVIEW):
        mine = Resource.provider_id == actor.department_id if actor.can(MANAGE) and actor.department_id else None
        cond.append(
            or_(Resource.state == State.PUBLISHED, mine) if mine is not None else Resource.state == State.PUBLISHED
        )
    if state is not None:
        cond.append(Resource.state == state)
    if provider_id is not None:
        cond.append(Resource.provider_id == provider_id)
    if only_ids is not None:
        cond.append(Resource.id.in_(list(only_ids)[:10_000]))
    if q:
        like = f"%{q[:100]}%"
        cond.append(or_(Resource.title.like(like), Resource.code.like(like), Resource.summary.like(like)))
    total = session.scalar(select(func.count(Resource.id)).where(*cond)) or 0
    rows = session.scalars(
        select(Resource)
        .where(*cond)
        .order_by(Resource.code)
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
        .options(selectinload(Resource.items))
    ).all()
    return rows, total


def visible(actor: Actor, res: Resource) -> bool:
    return res.state == State.PUBLISHED or bool(roles_of(actor, res))
