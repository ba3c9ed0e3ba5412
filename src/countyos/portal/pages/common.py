"""What every portal page shares: the 适老 text size, the resident's unread count, the section tab."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from countyos.core.i18n import N_
from countyos.web.deps import Auth
from countyos.web.templating import templates

PORTAL = N_("Residents' portal")
LARGE_COOKIE = "countyos_large"


def is_large(request: Request) -> bool:
    """Large text (适老): the reader's choice, kept in a cookie; ``?large=1`` also asks for it."""
    return request.cookies.get(LARGE_COOKIE) == "1" or request.query_params.get("large") == "1"


def unread_for(request: Request, a: Auth | None) -> int:
    """The signed-in resident's unread messages (0 for anyone else)."""
    if a is None or not a.actor.can("portal.self"):
        return 0
    from countyos.portal.service import messages
    from countyos.web.deps import get_db

    with get_db(request).reading() as s:
        return messages.unread_count(s, user_id=a.user.id)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    a: Auth | None,
    tab: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {"large": is_large(request), "tab": tab, "unread": unread_for(request, a), **context}
    return templates(request).render(request, name, ctx, status_code=status_code, headers=headers)
