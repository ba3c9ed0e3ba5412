"""``/portal/roads``: road notices in force and public parking lots' free spaces now, for anyone (no sign-in,
phone first, light): what, where, when, the detour, the time of the last change in the county's time zone,
on the county's SVG outline and as a list. No person, no internal note."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core import i18n
from countyos.safety.pages.traffic_common import county_map, labels
from countyos.safety.service import traffic_incidents, traffic_parking
from countyos.web.deps import Auth, ReadSession, public
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)
Public = Annotated[Auth | None, Depends(public)]
LARGE_COOKIE = "countyos_large"  # the portal's 适老 text size, the reader's choice


@router.get("/portal/roads")
def roads(request: Request, session: ReadSession, a: Public) -> Response:
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    notices = traffic_incidents.public_notices(session, locale=locale)
    lots = traffic_parking.public_lots(session, locale=locale)
    large = request.cookies.get(LARGE_COOKIE) == "1" or request.query_params.get("large") == "1"
    return templates(request).render(
        request,
        "safety/traffic/roads_public.html",
        {
            **labels(),
            "notices": notices,
            "lots": lots,
            "map": county_map(session, lots=lots, incidents=notices),
            "large": large,
            "tab": "home",
            "unread": 0,
        },
        headers={"Cache-Control": "no-store"},
    )
