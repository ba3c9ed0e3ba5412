"""``/portal/scenic``: crowding at each scenic spot now, for anyone (no sign-in, phone first, light):
在园人数, share of capacity with the level in words and colour, today's visitors, the time of the newest
count in the county's time zone. Spots and figures only: no person, no manager, no contact."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core import i18n
from countyos.village.service import tourism, tourism_public
from countyos.web.deps import Auth, ReadSession, public
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)
Public = Annotated[Auth | None, Depends(public)]
LARGE_COOKIE = "countyos_large"  # the portal's 适老 text size, the reader's choice


@router.get("/portal/scenic")
def scenic(request: Request, session: ReadSession, a: Public) -> Response:
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    rows = tourism_public.crowding_now(session, locale=locale)
    thresholds = [lv["percent"] for lv in tourism.crowding_config()["levels"]]
    large = request.cookies.get(LARGE_COOKIE) == "1" or request.query_params.get("large") == "1"
    return templates(request).render(
        request,
        "village/tourism/scenic_public.html",
        {"rows": rows, "large": large, "tab": "home", "unread": 0, "thresholds": thresholds},
        headers={"Cache-Control": "no-store"},
    )
