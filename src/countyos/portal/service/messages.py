"""A resident's messages (消息): delivered at most once per ``dedupe_key``, read, counted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.paging import PageParams
from countyos.portal.models import Message, MessageKind


def deliver(
    session: Session,
    *,
    user_ids: Iterable[int],
    kind: MessageKind,
    key: str,
    title: str,
    body: str = "",
    link: str | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """One message per person, keyed ``{key}:{user_id}``: a second delivery of the same key adds nothing.

    Returns how many were new. ``title`` and ``body`` are stored as given (the words of the notice or
    the record), so they read the same in every interface language.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    keys = {uid: f"{key}:{uid}"[:120] for uid in ids}
    have = set(session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(list(keys.values())))))
    new = [uid for uid in ids if keys[uid] not in have]
    session.add_all(
        Message(
            dedupe_key=keys[uid],
            user_id=uid,
            kind=kind,
            title=title[:200],
            body=body,
            link=link,
            extra=extra or {},
            created_at=utcnow(),
        )
        for uid in new
    )
    session.flush()
    return len(new)


def unread_count(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Message).where(Message.user_id == user_id, Message.read_at.is_(None))
        )
        or 0
    )


def list_for(session: Session, *, user_id: int, page: PageParams) -> tuple[list[Message], int]:
    base = select(Message).where(Message.user_id == user_id)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Message.created_at.desc(), Message.id.desc()).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


def mark_read(session: Session, *, user_id: int, message_ids: Iterable[int] | None = None) -> int:
    """Mark the person's messages read (all of them when no ids are given); another's are untouched."""
    stmt = update(Message).where(Message.user_id == user_id, Message.read_at.is_(None))
    if message_ids is not None:
        stmt = stmt.where(Message.id.in_(list(message_ids)))
    result = session.execute(stmt.values(read_at=utcnow()), execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)
