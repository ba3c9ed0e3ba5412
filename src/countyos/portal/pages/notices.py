"""Public notice pages (no sign-in): the list by area and kind, 村务公开 per village, a notice, its files.

- ``/portal/notices``: published notices, the newest first. ``area=<code>`` keeps the notices of that
  area, of the areas within it and of the areas containing it (a villager sees the township's and the
  county's too); ``kind=<kind>`` one kind. The area is picked county → township → village.
- ``/portal/notices?affairs=1&area=<village code>``: 村务公开 of that village only (finances, decisions,
  subsidy lists); with a township's code, of its villages.
- ``/portal/notices/{token}``: one notice; a withdrawn one answers 404 and says when, by whom and why.
- ``/portal/notices/{token}/files/{file token}``: a file of a published notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response

from countyos.core.errors import NotFound
from countyos.core.paging import PageParams
from countyos.geo.models import Division
from countyos.geo.service import divisions
from countyos.portal.models import VILLAGE_AFFAIRS, NoticeKind, NoticeState
from countyos.portal.pages.common import render
from countyos.portal.service import notice_files
from countyos.portal.service import notices as svc
from countyos.web.deps import Auth, ReadSession, public
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
PAGE_SIZE = 20
MAX_PAGE = 500
_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")
Public = Annotated[Auth | None, Depends(public)]


@dataclass(frozen=True)
class Picker:
    """Where the reader is in county → township → village, and what can be picked below it."""

    trail: list[Division]  # from the county down to the picked area
    below: list[Division]

    @property
    def code(self) -> str:
        return self.trail[-1].code if self.trail else ""


def picker(session: Session, code: str) -> Picker:
    """The county's trail down to CODE (ignored when it is not a division of the county) and its
    children; a village has none."""
    county = divisions.the_county(session)
    if county is None:
        return Picker([], [])
    trail = [county]
    if _CODE.match(code or "") and code.startswith(county.code):
        for n in (9, 12):
            if len(code) >= n:
                try:
                    trail.append(divisions.get_by_code(session, code=code[:n]))
                except NotFound:
                    break
    below = divisions.children(session, parent_code=trail[-1].code) if len(trail[-1].code) < 12 else []
    return Picker(trail, below)


def labels() -> dict[str, Any]:
    return {
        "kind_names": svc.KIND_NAMES,
        "notice_kinds": svc.NOTICE_KINDS,
        "affairs_kinds": svc.AFFAIRS_KINDS,
        "affairs": VILLAGE_AFFAIRS,
    }


@router.get("/portal/notices")
def notice_list(
    request: Request,
    session: ReadSession,
    a: Public,
    area: str = "",
    kind: str = "",
    affairs: str = "",
    page: int = 1,
) -> Response:
    place = picker(session, area[:12])
    chosen = NoticeKind(kind) if kind in set(NoticeKind) else None
    page = min(max(page, 1), MAX_PAGE)
    params = PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    is_affairs = affairs == "1"
    if is_affairs:
        kinds = [chosen] if chosen in VILLAGE_AFFAIRS else None
        rows, total = (
            svc.village_affairs(session, village=place.code, kinds=kinds, page=params)
            if len(place.code) > 6
            else ([], 0)
        )
    else:
        rows, total = svc.published(
            session, area=place.code if len(place.trail) > 1 else None, kinds=[chosen] if chosen else None, page=params
        )
    return render(
        request,
        "portal/notices/list.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "place": place,
            "kind": chosen.value if chosen else "",
            "is_affairs": is_affairs,
            "areas": svc.area_names(session, rows),
            **labels(),
        },
        a=a,
        tab="notices",
    )


@router.get("/portal/notices/{token}")
def notice_page(request: Request, token: str, session: ReadSession, a: Public) -> Response:
    notice = svc.public(session, token=token)
    withdrawn = notice.state is NoticeState.WITHDRAWN
    return render(
        request,
        "portal/notices/detail.html",
        {
            "n": notice,
            "withdrawn": withdrawn,
            "area": svc.area_names(session, [notice]).get(notice.division_code, notice.division_code),
            "department": svc.department_names(session, [notice.department_id]).get(notice.department_id or 0),
            **labels(),
        },
        a=a,
        tab="notices",
        status_code=404 if withdrawn else 200,
    )


@router.get("/portal/notices/{token}/files/{file_token}")
def notice_file(token: str, file_token: str, session: ReadSession, a: Public) -> Response:
    att = svc.public_attachment(session, token=token, file_token=file_token)
    path = notice_files.path_of(att)
    if not path.is_file():
        raise NotFound("There is no such file")
    inline = att.content_type.startswith("image/") or att.content_type == "application/pdf"
    disposition = "inline" if inline else "attachment"
    return FileResponse(
        path,
        media_type=att.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(att.filename)}",
            "Cache-Control": "no-cache",
        },
    )
