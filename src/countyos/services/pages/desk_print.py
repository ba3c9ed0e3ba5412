"""The desk's printables (A4, print stylesheet): ``/services/applications/{id}/receipt`` — the 受理通知书
once accepted, the 收件回执 before — and ``/services/applications/{id}/notice``, the 一次性告知书 of the
latest correction request. Only for people who may read the application (others get 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from countyos.core.clock import to_local
from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import departments
from countyos.services.models import IdType
from countyos.services.pages.desk import LABELS
from countyos.services.schemas import MAX_ID
from countyos.services.service import applications, desk
from countyos.web.deps import Auth, ReadSession, authenticated
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(authenticated)]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
NAV: list[Any] = []


def cn_date(value: datetime | None) -> str:
    """2026年12月3日, in county time."""
    if value is None:
        return ""
    d = to_local(value, get_settings().timezone)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(value: datetime | None) -> str:
    """2026年12月3日 17:30, in county time."""
    if value is None:
        return ""
    return cn_date(value) + to_local(value, get_settings().timezone).strftime(" %H:%M")


def _common(session: Any, a: Auth, application_id: int) -> dict[str, Any]:
    app = applications.get(session, actor=a.actor, application_id=application_id)
    version = applications.version_of(session, app)
    dep = departments.get(session, department_id=version.department_id) if version.department_id else None
    return {
        "app": app,
        "v": version,
        "department": dep,
        "county": get_settings().county_name,
        # a printed paper leaves the office: the ID number is always masked on it
        "id_number": applications.mask_id(applications.id_number(app)),
        "id_type_is_person": app.id_type != IdType.USCC,
        "cn_date": cn_date,
        "cn_datetime": cn_datetime,
        **LABELS,
    }


@router.get("/services/applications/{application_id}/receipt")
def receipt(request: Request, application_id: AppId, session: ReadSession, a: Reader) -> Response:
    """受理通知书 (accepted: 受理文书编号, 承诺时限 and due date) or 收件回执 (received, not yet decided)."""
    ctx = _common(session, a, application_id)
    ctx["r"] = desk.receipt(session, ctx["app"])
    return templates(request).render(request, "services/desk/receipt.html", ctx)


@router.get("/services/applications/{application_id}/notice")
def notice(request: Request, application_id: AppId, session: ReadSession, a: Reader) -> Response:
    """一次性告知书: every missing or incorrect material with what is asked of it, by when, where."""
    ctx = _common(session, a, application_id)
    n = desk.correction_notice(session, ctx["app"])
    if n is None:
        raise NotFound(N_("This application has had no correction notice"))
    ctx["n"] = n
    return templates(request).render(request, "services/desk/notice.html", ctx)
