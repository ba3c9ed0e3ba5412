"""What every portal page shares: the 适老 text size, the resident's unread count, the section tab."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from countyos.core.i18n import N_
from countyos.org.service import audit
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


# The audit log names every write of the portal (bookings name theirs in ``service/bookings.py``).
audit.name_codes(
    actions={
        "auth.code_refused": N_("Sign-in code refused"),
        "portal.code_sent": N_("Sign-in code sent by text message"),
        "portal.sign_up": N_("Resident account opened"),
        "portal.profile": N_("Resident's name changed"),
        "portal.password": N_("Resident's password set"),
        "portal.consent": N_("Consent given or withdrawn"),
        "portal.real_name": N_("Real name verified at a window"),
        "portal.data_export": N_("Personal data downloaded"),
        "portal.account_deleted": N_("Personal data deleted at the resident's request"),
        "user.forget": N_("Account's personal details erased"),
        "case.reports_linked": N_("Earlier reports linked to the resident's account"),
        "case.reporter_forgotten": N_("Reporter's contact details removed"),
        "portal.case_follow": N_("Report followed"),
        "portal.case_unfollow": N_("Report no longer followed"),
        "portal.notice.create": N_("Notice written"),
        "portal.notice.update": N_("Notice changed"),
        "portal.notice.attach": N_("File attached to a notice"),
        "portal.notice.detach": N_("File removed from a notice"),
        "portal.notice.table": N_("List of a notice saved (masked)"),
        "portal.notice.publish": N_("Notice published"),
        "portal.notice.withdraw": N_("Notice withdrawn"),
        "portal.subscription.follow": N_("Area followed"),
        "portal.subscription.unfollow": N_("Area no longer followed"),
        "portal.facility.create": N_("Facility added"),
        "portal.facility.update": N_("Facility changed"),
        "portal.facility.close": N_("Facility closed"),
        "portal.facility.reopen": N_("Facility reopened"),
        "portal.facility.import": N_("Facilities imported from a file"),
        "portal.facility.sync": N_("Facilities synchronised from a data resource"),
    },
    targets={
        "phone": N_("Phone number"),
        "portal_notice": N_("Notice"),
        "portal_subscription": N_("Followed area"),
        "portal_facility": N_("Facility"),
    },
)
