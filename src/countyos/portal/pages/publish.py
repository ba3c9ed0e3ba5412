"""Staff pages for publishing notices and 村务公开 (``portal.notice.publish``): the department's notices,
a draft's form (with files and, for a subsidy list or a finance report, a table read from CSV/XLSX and
masked when saved), the column marks, publish and withdraw."""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import FileResponse, Response

from countyos.core.clock import to_local
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.core.settings import get_settings
from countyos.org.service import users
from countyos.portal.models import Notice, NoticeState
from countyos.portal.pages.common import PORTAL, render
from countyos.portal.pages.notices import labels
from countyos.portal.schemas import ColumnMarksIn, ColumnMask, NoticeIn, WithdrawIn
from countyos.portal.service import notice_files, notice_tables
from countyos.portal.service import notices as svc
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
Publisher = Annotated[Auth, Depends(require(svc.PUBLISH))]
NAV: list[NavItem] = [NavItem(PORTAL, N_("Publish notices"), "/portal/publish", svc.PUBLISH, order=300)]
FIELDS = ("kind", "division_code", "title", "body", "starts_at", "ends_at")
PAGE_SIZE = 50


def _local_input(value: Any) -> str:
    """A stored UTC time as a ``datetime-local`` field's value in county time."""
    return to_local(value, get_settings().timezone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _values_of(notice: Notice) -> dict[str, str]:
    return {
        "kind": notice.kind.value,
        "division_code": notice.division_code,
        "title": notice.title,
        "body": notice.body,
        "starts_at": _local_input(notice.starts_at),
        "ends_at": _local_input(notice.ends_at),
    }


def _uploads(form: Any, name: str) -> list[UploadFile]:
    """The files sent in field NAME (an empty file field sends one without a name: left out)."""
    return [
        cast(UploadFile, f) for f in form.getlist(name) if isinstance(f, StarletteUpload) and (f.filename or f.size)
    ]


@router.get("/portal/publish")
def publish_list(request: Request, session: ReadSession, a: Publisher, state: str = "", page: int = 1) -> Response:
    chosen = NoticeState(state) if state in set(NoticeState) else None
    page = min(max(page, 1), 1000)
    rows, total = svc.of_department(
        session, actor=a.actor, state=chosen, page=PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    people = users.colleagues(
        session, user_ids=[u for n in rows for u in (n.created_by_id, n.published_by_id, n.withdrawn_by_id)]
    )
    return render(
        request,
        "portal/publish/list.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "state": state,
            "states": svc.STATE_NAMES,
            "people": {i: c.display_name for i, c in people.items()},
            "areas": svc.area_names(session, rows),
            **labels(),
        },
        a=a,
        tab="notices",
    )


def _form_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    notice: Notice | None,
    form: Refused | None = None,
    which: str = "",
    status: int = 200,
) -> Response:
    areas = svc.areas_for(session, actor=a.actor)
    people = users.colleagues(
        session,
        user_ids=[notice.created_by_id, notice.published_by_id, notice.withdrawn_by_id] if notice else [],
    )
    blank = Refused(_values_of(notice), {}, None, 200) if notice else Refused.empty()
    notice_form = form if form is not None and which == "notice" else blank
    side = form if form is not None and which != "notice" else Refused.empty()
    return render(
        request,
        "portal/publish/form.html",
        {
            "n": notice,
            "form": notice_form,
            "side": side,
            "which": which,
            "areas": areas,
            "table_kinds": svc.TABLE_KINDS,
            "states": svc.STATE_NAMES,
            "mask_names": notice_tables.MASK_NAMES,
            "masks": list(ColumnMask),
            "people": {i: c.display_name for i, c in people.items()},
            "area_name": svc.area_names(session, [notice]).get(notice.division_code, "") if notice else "",
            "actions": [x.value for x in svc.actions_for(notice.state)] if notice else [],
            "editable": notice is None or notice.state in svc.EDITABLE,
            "max_files": notice_files.MAX_FILES,
            "max_rows": notice_tables.MAX_ROWS,
            **labels(),
        },
        a=a,
        tab="notices",
        status_code=status,
    )


@router.get("/portal/publish/new")
def new_page(request: Request, session: ReadSession, a: Publisher) -> Response:
    return _form_page(request, session, a, notice=None)


def _save(request: Request, session: Session, a: Auth, form: Any, notice_id: int | None) -> Response:
    """The draft from the form, its new files and its table, all or nothing; on a refusal the form
    again with what was typed (files are chosen again)."""
    values = forms.typed(form, FIELDS)
    try:
        body = forms.parse(NoticeIn, values)
        if notice_id is None:
            notice = svc.create(session, actor=a.actor, **body.model_dump())
        else:
            notice = svc.update(session, actor=a.actor, notice_id=notice_id, **body.model_dump())
        for f in _uploads(form, notice_files.FIELD):
            data = forms.read_upload(f, notice_files.MAX_BYTES)
            svc.attach(session, actor=a.actor, notice_id=notice.id, data=data, filename=f.filename or "")
        for f in _uploads(form, notice_tables.TABLE_FIELD)[:1]:
            data = forms.read_upload(f, notice_tables.MAX_FILE_BYTES)
            svc.set_table_from_file(session, actor=a.actor, notice_id=notice.id, data=data, filename=f.filename or "")
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="notice")
        current = svc.get(session, notice_id=notice_id) if notice_id is not None else None
        return _form_page(request, session, a, notice=current, form=refused, which="notice", status=refused.status)
    return redirect(f"/portal/publish/{notice.id}", flash=translate(request, "Saved"))


@router.post("/portal/publish/new")
def create_draft(request: Request, session: WriteSession, a: Publisher, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


def _mine(session: Session, a: Auth, notice_id: int) -> Notice:
    return svc.for_publisher(session, actor=a.actor, notice=svc.get(session, notice_id=notice_id))


@router.get("/portal/publish/{notice_id:int}")
def edit_page(request: Request, notice_id: int, session: ReadSession, a: Publisher) -> Response:
    return _form_page(request, session, a, notice=_mine(session, a, notice_id))


@router.post("/portal/publish/{notice_id:int}")
def update_draft(request: Request, notice_id: int, session: WriteSession, a: Publisher, form: PostedForm) -> Response:
    _mine(session, a, notice_id)
    return _save(request, session, a, form, notice_id)


@router.post("/portal/publish/{notice_id:int}/table")
def table_marks(request: Request, notice_id: int, session: WriteSession, a: Publisher, form: PostedForm) -> Response:
    notice = _mine(session, a, notice_id)
    count = len((notice.table or {}).get("columns") or [])
    values = forms.typed(form, [f"mark_{i}" for i in range(count)])
    try:
        body = forms.parse(ColumnMarksIn, {"marks": [values[f"mark_{i}"] for i in range(count)]}, empty_is_none=False)
        svc.remark_table(session, actor=a.actor, notice_id=notice_id, marks=body.marks)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="table")
        return _form_page(
            request, session, a, notice=_mine(session, a, notice_id), form=refused, which="table", status=refused.status
        )
    return redirect(f"/portal/publish/{notice_id}", flash=translate(request, "Saved"))


@router.post("/portal/publish/{notice_id:int}/files/{attachment_id:int}/delete")
def delete_file(request: Request, notice_id: int, attachment_id: int, session: WriteSession, a: Publisher) -> Response:
    svc.detach(session, actor=a.actor, notice_id=notice_id, attachment_id=attachment_id)
    return redirect(f"/portal/publish/{notice_id}", flash=translate(request, "Deleted"))


@router.get("/portal/publish/{notice_id:int}/files/{attachment_id:int}")
def staff_file(notice_id: int, attachment_id: int, session: ReadSession, a: Publisher) -> Response:
    """A file of one's department's notice, before it is published too."""
    notice = _mine(session, a, notice_id)
    att = next((f for f in notice.attachments if f.id == attachment_id), None)
    if att is None or not notice_files.path_of(att).is_file():
        raise NotFound(N_("There is no such file"))
    return FileResponse(
        notice_files.path_of(att),
        media_type=att.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(att.filename)}",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/portal/publish/{notice_id:int}/publish")
def publish_notice(request: Request, notice_id: int, session: WriteSession, a: Publisher) -> Response:
    try:
        done = svc.publish(session, actor=a.actor, notice_id=notice_id)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, which="publish")
        return _form_page(
            request,
            session,
            a,
            notice=_mine(session, a, notice_id),
            form=refused,
            which="publish",
            status=refused.status,
        )
    flash = translate(request, "Published; %(n)s residents were told", n=done.messages)
    return redirect(f"/portal/publish/{notice_id}", flash=flash)


@router.post("/portal/publish/{notice_id:int}/withdraw")
def withdraw_notice(
    request: Request, notice_id: int, session: WriteSession, a: Publisher, form: PostedForm
) -> Response:
    values = forms.typed(form, ("reason",))
    try:
        body = forms.parse(WithdrawIn, values)
        svc.withdraw(session, actor=a.actor, notice_id=notice_id, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="withdraw")
        return _form_page(
            request,
            session,
            a,
            notice=_mine(session, a, notice_id),
            form=refused,
            which="withdraw",
            status=refused.status,
        )
    return redirect(f"/portal/publish/{notice_id}", flash=translate(request, "Withdrawn"))
