"""Grid workers' mobile pages: report (works offline, syncs with idempotency keys) and tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import or_, select
from starlette.responses import Response

from countyos.cases import lifecycle
from countyos.cases.models import Case
from countyos.cases.pages import evidence
from countyos.cases.pages.nostore import page_router
from countyos.cases.service import attachments, categories, location, notify, timers
from countyos.core.clock import utcnow
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, public, require
from countyos.web.templating import templates

router = page_router()
KIND_LABELS = notify.KIND_LABELS
STATIC_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js"


@router.get("/m/report")
def mobile_report(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.report"))]
) -> Response:
    cats = categories.list_categories(session, reportable=True)
    return templates(request).render(request, "cases/mobile_report.html", {"categories": cats})


@router.get("/m/sw.js")
def service_worker(_: Annotated[Any, Depends(public)]) -> Response:
    """The service worker, served under /m/ so that its scope covers the mobile pages."""
    body = (STATIC_JS / "cases-sw.js").read_text(encoding="utf-8")
    return Response(
        body,
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/m/"},
    )


@router.get("/m/tasks")
def tasks(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.inspect"))]) -> Response:
    """Verification and check tasks given to me, or open on my grids."""
    return tasks_page(request, session, a)


def tasks_page(request: Request, session: Any, a: Auth, form: Any = None, status_code: int = 200) -> Response:
    """The inspector's tasks, each with its photos before the work and after it; FORM is a task's form
    sent back with what was typed and the message of each wrong field (``console.ActionForm``)."""
    assert a.actor.id is not None
    grids = location.grids_of_worker(session, user_id=a.actor.id)
    conds = [Case.assignee_id == a.actor.id]
    if grids:
        conds.append(Case.grid_code.in_(grids) & Case.assignee_id.is_(None))
    rows = list(
        session.scalars(
            select(Case)
            .where(Case.is_open.is_(True), Case.state.in_(("verifying", "checking")), or_(*conds))
            .order_by(Case.step_deadline)
            .limit(200)
        )
    )
    now = utcnow()
    return templates(request).render(
        request,
        "cases/mobile_tasks.html",
        {
            "rows": rows,
            "labels": lifecycle.LABELS,
            "levels": {c.id: str(timers.level(c, now)) for c in rows},
            "evidence_of": {c.id: attachments.before_after(session, case_id=c.id) for c in rows},
            "photo_needed": {c.id: c.category.check_photo_required and c.state == "checking" for c in rows},
            "form": form,
            **evidence.context(),
        },
        status_code=status_code,
    )


@router.get("/cases/notifications")
def notifications_page(request: Request, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    """My in-app messages: assignments, deadline warnings, supervision, status changes."""
    from countyos.cases.service import notify

    return templates(request).render(
        request,
        "cases/notifications.html",
        {"rows": notify.inbox(session, user_id=a.user.id, limit=200), "kind_labels": KIND_LABELS},
    )


@router.post("/cases/notifications/read")
def notifications_read(request: Request, session: WriteSession, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    from countyos.cases.service import notify
    from countyos.web.templating import redirect

    notify.mark_read(session, user_id=a.user.id)
    return redirect("/cases/notifications")
