"""The public map of reports (``/portal/cases``): open cases and those closed lately on a light SVG
outline of the county or of one township, with a list below; a case's public page with "me too"
(follow, for a signed-in resident) and how many follow it. No personal data anywhere; sensitive
categories are drawn inside their grid only (``cases.service.publicmap``)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from countyos.cases.service import publicmap
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound
from countyos.geo.service import outline
from countyos.portal.pages.common import render
from countyos.portal.service import follows
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
Public = Annotated[Auth | None, Depends(public)]
Me = Annotated[Auth, Depends(require("portal.self"))]
Number = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
TOWN_RE = r"^\d{9}$"


@router.get("/portal/cases")
def case_map(
    request: Request,
    session: ReadSession,
    a: Public,
    closed: Annotated[int, Query(ge=0, le=1)] = 0,
    town: Annotated[str, Query(max_length=12)] = "",
    category: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    town = town if re.match(TOWN_RE, town or "") else ""
    try:
        frame = outline.outline(session, code=town or None)
    except NotFound:
        town, frame = "", outline.outline(session)
    rows, total = publicmap.on_map(
        session, now=utcnow(), closed=bool(closed), township_code=town or None, category_id=category or None
    )
    dots = []
    for r in rows:
        xy = frame.project(r.lon, r.lat) if r.lon is not None and r.lat is not None else None
        if xy is not None:
            dots.append((r, xy))
    county = frame if not town else outline.outline(session)
    return render(
        request,
        "portal/cases/map.html",
        {
            "frame": frame,
            "towns": [(ar.code, ar.name) for ar in county.areas],
            "town": town,
            "closed": bool(closed),
            "category": category,
            "rows": rows,
            "total": total,
            "dots": dots,
            "counts": follows.counts(session, case_ids=[r.id for r in rows]),
            "closed_days": publicmap.CLOSED_DAYS,
        },
        a=a,
        tab="home",
    )


@router.get("/portal/cases/{number}")
def case_page(request: Request, session: ReadSession, a: Public, number: Number) -> Response:
    case = publicmap.public_case(session, number=number)
    mine = a is not None and a.actor.can("portal.self") and follows.follows(session, user_id=a.user.id, case_id=case.id)
    return render(
        request,
        "portal/cases/case.html",
        {
            "case": case,
            "count": follows.counts(session, case_ids=[case.id]).get(case.id, 0),
            "following": mine,
            "resident": a is not None and a.actor.can("portal.self"),
        },
        a=a,
        tab="home",
    )


@router.post("/portal/cases/{number}/follow")
def follow(request: Request, session: WriteSession, a: Me, number: Number) -> Response:
    try:
        follows.follow(session, actor=a.actor, user_id=a.user.id, number=number)
    except CountyError as exc:
        if isinstance(exc, NotFound):
            raise
        session.rollback()
        return redirect(f"/portal/cases/{number}", flash=exc.message, kind="error")
    return redirect(
        f"/portal/cases/{number}", flash=translate(request, "You follow this report; you will be told when it closes")
    )


@router.post("/portal/cases/{number}/unfollow")
def unfollow(request: Request, session: WriteSession, a: Me, number: Number) -> Response:
    follows.unfollow(session, actor=a.actor, user_id=a.user.id, number=number)
    return redirect(f"/portal/cases/{number}", flash=translate(request, "You no longer follow this report"))
