"""JSON API of the residents' portal under /api/v1/portal: notices and 村务公开.

Public reads (published notices only, filters, a bounded ``limit``); the publisher's writes (create a
draft with its table, publish, withdraw) need ``portal.notice.publish``. Errors are problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.core.paging import Paged, PageParams
from countyos.portal.models import VILLAGE_AFFAIRS, Notice, NoticeKind, NoticeState
from countyos.portal.schemas import (
    AttachmentOut,
    NoticeCreateIn,
    NoticeDraftOut,
    NoticeOut,
    NoticeTableOut,
    WithdrawIn,
)
from countyos.portal.service import notices as svc
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/portal", tags=["portal"])
Publisher = Annotated[Auth, Depends(require(svc.PUBLISH))]
MAX_LIMIT = 50


def notice_out(session: Session, notice: Notice) -> NoticeOut:
    link = svc.link_of(notice)
    table = notice.table or None
    return NoticeOut(
        token=notice.token,
        kind=notice.kind,
        village_affairs=notice.kind in VILLAGE_AFFAIRS,
        division_code=notice.division_code,
        area=svc.area_names(session, [notice]).get(notice.division_code, notice.division_code),
        department=svc.department_names(session, [notice.department_id]).get(notice.department_id or 0),
        title=notice.title,
        body=notice.body,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        published_at=notice.published_at,
        url=link,
        attachments=[
            AttachmentOut(filename=f.filename, content_type=f.content_type, size=f.size, url=f"{link}/files/{f.token}")
            for f in notice.attachments
        ],
        table=NoticeTableOut(
            columns=[str(c["label"]) for c in table["columns"]],
            rows=[[str(v) for v in r] for r in table["rows"]],
        )
        if table
        else None,
    )


def draft_out(notice: Notice, messages: int = 0) -> NoticeDraftOut:
    return NoticeDraftOut(
        token=notice.token,
        state=notice.state,
        kind=notice.kind,
        division_code=notice.division_code,
        title=notice.title,
        published_at=notice.published_at,
        withdrawn_reason=notice.withdrawn_reason,
        withdrawn_at=notice.withdrawn_at,
        messages=messages,
    )


@router.get("/notices", dependencies=[Depends(public)])
def list_notices(
    session: ReadSession,
    area: Annotated[str | None, Query(pattern=r"^\d{6}(\d{3}){0,2}$")] = None,
    kind: NoticeKind | None = None,
    affairs: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Paged[NoticeOut]:
    """Published notices, the newest first. ``area``: that area's, those within it and those of the
    areas containing it; ``affairs=true``: 村务公开 of the area and within it only."""
    page = PageParams(limit=limit, offset=offset)
    if affairs:
        kinds = [kind] if kind in VILLAGE_AFFAIRS else None
        rows, total = svc.village_affairs(session, village=area or "", kinds=kinds, page=page)
    else:
        rows, total = svc.published(session, area=area, kinds=[kind] if kind else None, page=page)
    return Paged(items=[notice_out(session, n) for n in rows], total=total, limit=limit, offset=offset)


@router.get("/notices/{token}", dependencies=[Depends(public)])
def get_notice(token: str, session: ReadSession) -> NoticeOut:
    notice = svc.get_by_token(session, token=token)
    if notice.state is not NoticeState.PUBLISHED:
        raise NotFound(N_("There is no such notice"))
    return notice_out(session, notice)


@router.post("/notices", status_code=201)
def create_notice(body: NoticeCreateIn, session: WriteSession, a: Publisher) -> NoticeDraftOut:
    """A draft; a table sent with it is masked before it is stored."""
    notice = svc.create(session, actor=a.actor, **body.model_dump(exclude={"table"}))
    if body.table is not None:
        svc.set_table(
            session,
            actor=a.actor,
            notice_id=notice.id,
            columns=[(c.label, c.mask) for c in body.table.columns],
            rows=[list(r) for r in body.table.rows],
        )
    return draft_out(notice)


def _mine(session: Session, a: Auth, token: str) -> Notice:
    return svc.for_publisher(session, actor=a.actor, notice=svc.get_by_token(session, token=token))


@router.post("/notices/{token}/publish")
def publish_notice(token: str, session: WriteSession, a: Publisher) -> NoticeDraftOut:
    done = svc.publish(session, actor=a.actor, notice_id=_mine(session, a, token).id)
    return draft_out(done.notice, done.messages)


@router.post("/notices/{token}/withdraw")
def withdraw_notice(token: str, body: WithdrawIn, session: WriteSession, a: Publisher) -> NoticeDraftOut:
    notice = svc.withdraw(session, actor=a.actor, notice_id=_mine(session, a, token).id, reason=body.reason)
    return draft_out(notice)
