"""Work lists of applications: a department's inbox (待办 / 已办) and the supervision list.

``/services/inbox`` (``services.application.handle``): 待办, the applications waiting at one of the
person's department's steps, the earliest due first with yellow and red marked; 已办, the steps the
department finished, the newest first. Filter by matter, search by 办件编号 or applicant name.
``/services/applications`` (``services.application.supervise``): every application, filtered by state,
department, 受理点 (township centre or window), matter, overdue only and submission period.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.services.lifecycle import State
from countyos.services.models import Matter, MatterVersion
from countyos.services.pages.common import SERVICES
from countyos.services.pages.work import LABELS, _dep_names
from countyos.services.schemas import MAX_ID
from countyos.services.service import applications, work
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)
Handler = Annotated[Auth, Depends(require(applications.HANDLE))]
Supervisor = Annotated[Auth, Depends(require(applications.SUPERVISE))]
PAGE = 50
MAX_OFFSET = 100_000

NAV = [
    NavItem(SERVICES, N_("Department to-do"), "/services/inbox", applications.HANDLE, order=125),
    NavItem(SERVICES, N_("Application supervision"), "/services/applications", applications.SUPERVISE, order=126),
]
TABS = (("todo", N_("To do")), ("done", N_("Handled")))


def _id(value: str) -> int | None:
    """An id from a query (an empty choice of a select is "")."""
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _matters(session: Session) -> list[tuple[int, str]]:
    """Every matter by its current name, for the filters."""
    rows = session.execute(
        select(Matter.id, MatterVersion.name)
        .join(MatterVersion, MatterVersion.id == Matter.current_version_id)
        .order_by(MatterVersion.name)
    )
    return [(r[0], r[1]) for r in rows]


def _names_of(session: Session, apps: list[Any]) -> dict[int, str]:
    """Application id → its matter's name under the version it was made with."""
    return {a.id: applications.version_of(session, a).name for a in apps}


@router.get("/services/inbox")
def inbox(
    request: Request,
    session: ReadSession,
    a: Handler,
    tab: Annotated[str, Query(max_length=8)] = "todo",
    matter_id: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=work.MAX_QUERY)] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """The department's 待办 and 已办."""
    now = utcnow()
    tab = tab if tab in dict(TABS) else "todo"
    page = PageParams(limit=PAGE, offset=offset)
    mid = _id(matter_id)
    todo, todo_total = work.todo(session, actor=a.actor, page=page if tab == "todo" else PageParams(1, 0),
                                 matter_id=mid, q=q)  # fmt: skip
    done, done_total = work.done(session, actor=a.actor, page=page if tab == "done" else PageParams(1, 0),
                                 matter_id=mid, q=q)  # fmt: skip
    apps = todo if tab == "todo" else [x[1] for x in done]
    query = {"tab": tab, "matter_id": matter_id, "q": q}
    return templates(request).render(
        request,
        "services/handling/inbox.html",
        {
            "tab": tab,
            "tabs": TABS,
            "todo": todo if tab == "todo" else [],
            "done": done if tab == "done" else [],
            "counts": {"todo": todo_total, "done": done_total},
            "total": todo_total if tab == "todo" else done_total,
            "limit": PAGE,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "matters": _matters(session),
            "matter_names": _names_of(session, apps),
            "levels": {x.id: _level(session, x, now) for x in apps},
            "department": _dep_names(session).get(a.actor.department_id or 0, ""),
            "people": _handlers(session, [s for s, _ in done] if tab == "done" else []),
            **LABELS,
        },
    )


def _level(session: Session, app: Any, now: Any) -> str | None:
    lv = work.level(session, app, now)
    return str(lv) if lv is not None else None


def _handlers(session: Session, steps: list[Any]) -> dict[int, str]:
    from countyos.org.service import users

    return {i: p.display_name for i, p in users.colleagues(session, user_ids=[s.handler_id for s in steps]).items()}


@router.get("/services/applications")
def supervision(
    request: Request,
    session: ReadSession,
    a: Supervisor,
    state: Annotated[str, Query(max_length=24)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    intake_department_id: Annotated[str, Query(max_length=10)] = "",
    matter_id: Annotated[str, Query(max_length=10)] = "",
    overdue: Annotated[str, Query(max_length=2)] = "",
    submitted_from: Annotated[str, Query(max_length=10)] = "",
    submitted_to: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=work.MAX_QUERY)] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """Every application with its state, department, 受理点 and due level."""
    now = utcnow()
    f = work.SupervisionFilter(
        state=State(state) if state in {str(s) for s in State} else None,
        department_id=_id(department_id),
        intake_department_id=_id(intake_department_id),
        matter_id=_id(matter_id),
        overdue=overdue == "1",
        submitted_from=_day(submitted_from),
        submitted_to=_day(submitted_to),
        q=q or None,
    )
    rows, total = work.supervision(session, actor=a.actor, f=f, page=PageParams(PAGE, offset), now=now)
    query = {"state": state, "department_id": department_id, "intake_department_id": intake_department_id,
             "matter_id": matter_id, "overdue": overdue, "submitted_from": submitted_from,
             "submitted_to": submitted_to, "q": q}  # fmt: skip
    deps = _dep_names(session)
    return templates(request).render(
        request,
        "services/handling/supervision.html",
        {
            "rows": rows,
            "total": total,
            "limit": PAGE,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "states": [str(s) for s in State],
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda t: t[1]),
            "matters": _matters(session),
            "matter_names": _names_of(session, rows),
            "levels": {x.id: _level(session, x, now) for x in rows},
            **LABELS,
        },
    )
