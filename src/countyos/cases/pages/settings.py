"""The workflow settings page of the case administrator: optional rules, switched as data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.cases.models import CaseSetting
from countyos.cases.pages.nostore import form_data, page_router
from countyos.cases.schemas import WorkflowSettingsIn
from countyos.cases.service import autocheck
from countyos.core.i18n import N_
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = page_router()


def _page(
    request: Request, session: ReadSession | WriteSession, *, error: str | None = None, status_code: int = 200
) -> Response:
    return templates(request).render(
        request,
        "cases/settings.html",
        {
            "auto_check": autocheck.is_enabled(session),
            "row": session.get(CaseSetting, autocheck.KEY),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/cases/settings")
def settings_page(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> Response:
    """Optional workflow rules (off by default): the automatic checking rule."""
    return _page(request, session)


@router.post("/cases/settings")
def save_settings(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    try:
        body = WorkflowSettingsIn.model_validate({"auto_check": form.get("auto_check") == "1"})
    except PydanticValidationError:
        return _page(request, session, error=translate(request, N_("Not valid")), status_code=422)
    autocheck.set_enabled(session, actor=a.actor, enabled=body.auto_check)
    message = (
        N_("Handled cases now go to the grid's inspector for checking")
        if body.auto_check
        else N_("Handled cases now wait for the manual step to send them for checking")
    )
    return redirect("/cases/settings", flash=translate(request, message))
