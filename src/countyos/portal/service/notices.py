"""Notices and 村务公开 (village affairs): drafts, publication to the subscribers of the area, withdrawal.

The lifecycle is ONE transition table::

    DRAFT 草稿 ─发布→ PUBLISHED 已发布 ─撤回 (with a reason)→ WITHDRAWN 已撤回

Only a draft is edited. A notice belongs to its publisher's department; the department's division
(or the whole county for a department without one) bounds the areas it publishes for. Publishing
delivers one message to every resident following the notice's area or an area containing it (a
subscription's code is a prefix of the notice's), for every kind or for the notice's kind. The public
reads published notices only; a withdrawn one says when it was withdrawn, by which department and why.
Every write is audited; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.paging import PageParams, fetch_page
from countyos.core.settings import get_settings
from countyos.geo.models import Division
from countyos.geo.service import divisions
from countyos.org.models import User
from countyos.org.service import audit, departments
from countyos.portal.models import (
    VILLAGE_AFFAIRS,
    MessageKind,
    Notice,
    NoticeAttachment,
    NoticeKind,
    NoticeState,
    Subscription,
)
from countyos.portal.schemas import ColumnMask
from countyos.portal.service import messages, notice_files, notice_tables

PUBLISH = "portal.notice.publish"
TABLE_KINDS = frozenset({NoticeKind.SUBSIDY, NoticeKind.FINANCE})  # kinds that may carry a list


class Action(StrEnum):
    PUBLISH = "publish"  # 发布
    WITHDRAW = "withdraw"  # 撤回 (a reason is required)


TRANSITIONS: dict[tuple[NoticeState, Action], NoticeState] = {
    (NoticeState.DRAFT, Action.PUBLISH): NoticeState.PUBLISHED,
    (NoticeState.PUBLISHED, Action.WITHDRAW): NoticeState.WITHDRAWN,
}
EDITABLE = frozenset({NoticeState.DRAFT})

STATE_NAMES = {
    NoticeState.DRAFT: N_("Draft"),
    NoticeState.PUBLISHED: N_("Published"),
    NoticeState.WITHDRAWN: N_("Withdrawn"),
}
ACTION_NAMES = {Action.PUBLISH: N_("Publish"), Action.WITHDRAW: N_("Withdraw")}
KIND_NAMES = {
    NoticeKind.WATER_POWER: N_("Water or power cut"),
    NoticeKind.ROADWORK: N_("Roadworks"),
    NoticeKind.FLOOD: N_("Flood warning"),
    NoticeKind.WEATHER: N_("Weather warning"),
    NoticeKind.HEALTH: N_("Health"),
    NoticeKind.GENERAL: N_("General notice"),
    NoticeKind.FINANCE: N_("Village finances"),
    NoticeKind.DECISION: N_("Village decisions"),
    NoticeKind.SUBSIDY: N_("Farm subsidy list"),
}
NOTICE_KINDS = [k for k in NoticeKind if k not in VILLAGE_AFFAIRS]
AFFAIRS_KINDS = [k for k in NoticeKind if k in VILLAGE_AFFAIRS]


def next_state(state: NoticeState, action: Action) -> NoticeState:
    """The state after ACTION, or a 409 naming what is possible now."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise errors.TransitionNotAllowed(
            N_("%(action)s is not possible while the notice is %(state)s."),
            allowed=[a.value for (s, a) in TRANSITIONS if s == state],
            current_state=state.value,
            action=ACTION_NAMES[action],
            state=STATE_NAMES[state],
        )
    return target


def actions_for(state: NoticeState) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == state]


# --- the publisher's area --------------------------------------------------------------------


def _field_error(field: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field, "message": gettext(message, **params)}], **params)


def publisher_area(session: Session, *, actor: Actor) -> Division:
    """The area the actor's department publishes for: its division, else the whole county."""
    if actor.department_id is None:
        raise _field_error("division_code", N_("Your account belongs to no department; ask for one to publish notices"))
    dep = departments.get(session, department_id=actor.department_id)
    if dep.division_code:
        return divisions.get_by_code(session, code=dep.division_code)
    return divisions.require_county(session)


def areas_for(session: Session, *, actor: Actor) -> list[Division]:
    """The divisions the actor may publish for: the department's area and everything within it."""
    if actor.department_id is None:
        return []
    top = publisher_area(session, actor=actor)
    rows = session.scalars(select(Division).where(Division.code.startswith(top.code)).order_by(Division.code))
    return list(rows)


def check_area(session: Session, *, actor: Actor, code: str) -> Division:
    top = publisher_area(session, actor=actor)
    if not code.startswith(top.code):
        raise _field_error(
            "division_code", N_("Your department publishes for %(area)s and the areas within it only"), area=top.name
        )
    try:
        return divisions.get_by_code(session, code=code)
    except NotFound as exc:
        raise _field_error("division_code", N_("There is no division with code %(code)s"), code=code) from exc


# --- drafts -------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    """A time from a form or a request: without a zone it is county time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value.astimezone(ZoneInfo("UTC"))


def _times(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime | None, datetime | None]:
    start, end = _utc(starts_at), _utc(ends_at)
    if start is not None and end is not None and end <= start:
        raise _field_error("ends_at", N_("The end must be after the start"))
    return start, end


def get(session: Session, *, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(N_("There is no such notice"))
    return notice


def get_by_token(session: Session, *, token: str) -> Notice:
    notice = session.scalars(select(Notice).where(Notice.token == token[:32])).first()
    if notice is None:
        raise NotFound(N_("There is no such notice"))
    return notice


def for_publisher(session: Session, *, actor: Actor, notice: Notice) -> Notice:
    """NOTICE, when the actor's department owns it (another department's notices are not found)."""
    if not actor.can(PUBLISH) or actor.department_id is None or notice.department_id != actor.department_id:
        raise NotFound(N_("There is no such notice"))
    return notice


def _editable(notice: Notice) -> None:
    if notice.state not in EDITABLE:
        raise errors.Conflict(N_("Only a draft can be changed"))


def create(
    session: Session,
    *,
    actor: Actor,
    kind: NoticeKind,
    division_code: str,
    title: str,
    body: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Notice:
    """A draft for an area within the actor's; audited."""
    check_area(session, actor=actor, code=division_code)
    start, end = _times(starts_at, ends_at)
    notice = Notice(
        kind=kind,
        division_code=division_code,
        department_id=actor.department_id,
        title=title,
        body=body,
        starts_at=start,
        ends_at=end,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.create",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"kind": kind.value, "division_code": division_code, "title": title},
    )
    return notice


def update(
    session: Session,
    *,
    actor: Actor,
    notice_id: int,
    kind: NoticeKind,
    division_code: str,
    title: str,
    body: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Notice:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    _editable(notice)
    check_area(session, actor=actor, code=division_code)
    notice.starts_at, notice.ends_at = _times(starts_at, ends_at)
    notice.kind, notice.division_code, notice.title, notice.body = kind, division_code, title, body
    if kind not in TABLE_KINDS:
        notice.table = None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.update",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"kind": kind.value, "division_code": division_code, "title": title},
    )
    return notice


def attach(session: Session, *, actor: Actor, notice_id: int, data: bytes, filename: str) -> NoticeAttachment:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    _editable(notice)
    att = notice_files.add(notice, data=data, filename=filename)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.attach",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"file": att.filename, "sha256": att.sha256, "size": att.size, "content_type": att.content_type},
    )
    return att


def detach(session: Session, *, actor: Actor, notice_id: int, attachment_id: int) -> None:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    _editable(notice)
    att = next((a for a in notice.attachments if a.id == attachment_id), None)
    if att is None:
        raise NotFound(N_("There is no such file"))
    notice.attachments.remove(att)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.detach",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"file": att.filename, "sha256": att.sha256},
    )


def _set_table(session: Session, actor: Actor, notice: Notice, table: dict[str, Any], how: str) -> Notice:
    _editable(notice)
    if notice.kind not in TABLE_KINDS:
        raise _field_error(notice_tables.TABLE_FIELD, N_("Only a finance report or a subsidy list carries a table"))
    notice.table = table
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.table",
        target_type="portal_notice",
        target_id=notice.id,
        detail={
            "how": how,
            "rows": len(table["rows"]),
            "columns": [{"label": c["label"], "mask": c["mask"]} for c in table["columns"]],
        },
    )
    return notice


def set_table_from_file(
    session: Session,
    *,
    actor: Actor,
    notice_id: int,
    data: bytes,
    filename: str = "",
    marks: Iterable[ColumnMask | None] = (),
) -> Notice:
    """Read a CSV or XLSX list and keep it masked (the upload itself is not kept)."""
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    _editable(notice)
    labels, rows = notice_tables.read(data, filename)
    return _set_table(session, actor, notice, notice_tables.masked(labels, rows, list(marks)), "upload")


def set_table(
    session: Session, *, actor: Actor, notice_id: int, columns: list[tuple[str, ColumnMask]], rows: list[list[Any]]
) -> Notice:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    return _set_table(session, actor, notice, notice_tables.from_api(columns, rows), "api")


def remark_table(session: Session, *, actor: Actor, notice_id: int, marks: list[ColumnMask]) -> Notice:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    if not notice.table:
        raise NotFound(N_("The notice has no table"))
    return _set_table(session, actor, notice, notice_tables.remark(notice.table, marks), "marks")


# --- publish, withdraw -------------------------------------------------------------------------


def subscribers(session: Session, *, notice: Notice) -> list[int]:
    """The active residents following the notice's area or an area containing it, for its kind."""
    code = notice.division_code
    prefixes = [code[:n] for n in (6, 9, 12) if n <= len(code)]
    rows = session.execute(
        select(Subscription.user_id, Subscription.kinds)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.division_code.in_(prefixes), User.is_active.is_(True))
    ).all()
    return sorted({uid for uid, kinds in rows if not kinds or notice.kind.value in kinds})


def link_of(notice: Notice) -> str:
    return f"/portal/notices/{notice.token}"


@dataclass(frozen=True)
class Published:
    notice: Notice
    messages: int


def publish(session: Session, *, actor: Actor, notice_id: int) -> Published:
    """Publish a draft (the area checked again) and tell its subscribers; audited."""
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    area = check_area(session, actor=actor, code=notice.division_code)
    notice.state = next_state(notice.state, Action.PUBLISH)
    notice.published_at, notice.published_by_id = utcnow(), actor.id
    session.flush()
    summary = " ".join(notice.body.split())
    sent = messages.deliver(
        session,
        user_ids=subscribers(session, notice=notice),
        kind=MessageKind.NOTICE,
        key=f"notice:{notice.id}",
        title=notice.title,
        body=f"{area.name} · {summary[:120]}{'…' if len(summary) > 120 else ''}",
        link=link_of(notice),
        extra={"notice": notice.token, "kind": notice.kind.value, "division_code": notice.division_code},
    )
    audit.record(
        session,
        actor=actor,
        action="portal.notice.publish",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"division_code": notice.division_code, "kind": notice.kind.value, "messages": sent},
    )
    return Published(notice, sent)


def withdraw(session: Session, *, actor: Actor, notice_id: int, reason: str) -> Notice:
    notice = for_publisher(session, actor=actor, notice=get(session, notice_id=notice_id))
    reason = reason.strip()
    if len(reason) < 2:
        raise _field_error("reason", N_("Say why the notice is withdrawn"))
    notice.state = next_state(notice.state, Action.WITHDRAW)
    notice.withdrawn_reason = reason[:500]
    notice.withdrawn_by_id, notice.withdrawn_at = actor.id, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.notice.withdraw",
        target_type="portal_notice",
        target_id=notice.id,
        detail={"reason": notice.withdrawn_reason},
    )
    return notice


# --- reading ------------------------------------------------------------------------------------


def of_department(
    session: Session, *, actor: Actor, state: NoticeState | None, page: PageParams
) -> tuple[list[Notice], int]:
    """The notices of the actor's department, the latest change first."""
    if actor.department_id is None:
        return [], 0
    stmt = select(Notice).where(Notice.department_id == actor.department_id)
    if state is not None:
        stmt = stmt.where(Notice.state == state)
    return fetch_page(session, stmt.order_by(Notice.updated_at.desc(), Notice.id.desc()), page)


def _published(area: str | None, kinds: Iterable[NoticeKind] | None) -> Select[Any]:
    stmt = select(Notice).where(Notice.state == NoticeState.PUBLISHED)
    if area:
        # the area's own notices, those of the areas within it, and those of the areas containing it
        containing = [area[:n] for n in (6, 9) if n < len(area)]
        stmt = stmt.where(or_(Notice.division_code.startswith(area), Notice.division_code.in_(containing)))
    if kinds is not None:
        stmt = stmt.where(Notice.kind.in_(list(kinds)))
    return stmt


def published(
    session: Session, *, area: str | None = None, kinds: Iterable[NoticeKind] | None = None, page: PageParams
) -> tuple[list[Notice], int]:
    """Published notices, the newest first: of AREA (and within it and the areas containing it), of KINDS."""
    stmt = _published(area, kinds).options(selectinload(Notice.attachments))
    return fetch_page(session, stmt.order_by(Notice.published_at.desc(), Notice.id.desc()), page)


def village_affairs(
    session: Session, *, village: str, kinds: Iterable[NoticeKind] | None, page: PageParams
) -> tuple[list[Notice], int]:
    """村务公开 of one village (or of the villages of a township): its own entries only."""
    wanted = [k for k in (kinds or AFFAIRS_KINDS) if k in VILLAGE_AFFAIRS]
    stmt = select(Notice).where(
        Notice.state == NoticeState.PUBLISHED, Notice.division_code.startswith(village), Notice.kind.in_(wanted)
    )
    return fetch_page(session, stmt.order_by(Notice.published_at.desc(), Notice.id.desc()), page)


def public(session: Session, *, token: str) -> Notice:
    """A notice the public may read: published, or withdrawn (shown as withdrawn, without its body);
    a draft is not found."""
    notice = get_by_token(session, token=token)
    if notice.state is NoticeState.DRAFT:
        raise NotFound(N_("There is no such notice"))
    return notice


def public_attachment(session: Session, *, token: str, file_token: str) -> NoticeAttachment:
    """A file of a published notice, by the notice's and the file's tokens; nothing of a draft or a
    withdrawn notice."""
    notice = get_by_token(session, token=token)
    att = next((a for a in notice.attachments if a.token == file_token[:32]), None)
    if notice.state is not NoticeState.PUBLISHED or att is None:
        raise NotFound(N_("There is no such file"))
    return att


def department_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return {i: departments.get(session, department_id=i).name for i in wanted}


def area_names(session: Session, notices: Iterable[Notice]) -> dict[str, str]:
    return divisions.names_by_code(session, {n.division_code for n in notices})
