"""Pages for the data behind the cases: the routing table and the 12345 import."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from starlette.responses import Response

from countyos.cases import api, flows
from countyos.cases.pages import labels
from countyos.cases.pages.nostore import page_router
from countyos.cases.service import categories, routing
from countyos.core.errors import CountyError
from countyos.org.service import audit, departments
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = page_router()


def _opt_int(v: str | None) -> int | None:
    return int(v) if v and v.strip().isdigit() else None


@router.get("/cases/routing")
def routing_page(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> Response:
    deps = {d.id: d.name for d in departments.all_active(session)}
    cats = categories.list_categories(session)
    return templates(request).render(
        request,
        "cases/routing.html",
        {
            "rules": routing.list_rules(session),
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda kv: kv[1]),
            "cats": {c.id: c for c in cats},
            "categories": cats,
            "overrides": routing.override_report(session),
        },
    )


@router.post("/cases/routing")
def routing_save(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.routing"))],
    department_id: Annotated[int, Form()],
    category_id: Annotated[str, Form()] = "",
    township_code: Annotated[str, Form(max_length=9)] = "",
    grid_code: Annotated[str, Form(max_length=15)] = "",
    co_department_ids: Annotated[list[int] | None, Form()] = None,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        routing.save_rule(
            session,
            actor=a.actor,
            department_id=department_id,
            category_id=_opt_int(category_id),
            township_code=township_code.strip() or None,
            grid_code=grid_code.strip() or None,
            co_department_ids=co_department_ids or [],
            note=note or None,
        )
    except CountyError as exc:
        session.rollback()
        return redirect("/cases/routing", flash=exc.message, kind="error")
    return redirect("/cases/routing", flash=translate(request, "Saved"))


@router.post("/cases/routing/{rule_id}/delete")
def routing_delete(
    request: Request, rule_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> Response:
    routing.delete_rule(session, actor=a.actor, rule_id=rule_id)
    return redirect("/cases/routing", flash=translate(request, "Deleted"))


@router.get("/cases/hotline")
def hotline_page(request: Request, a: Annotated[Auth, Depends(require("case.hotline"))]) -> Response:
    return templates(request).render(request, "cases/hotline.html", {"report": None})


@router.post("/cases/hotline")
def hotline_import(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.hotline"))],
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Import 12345 work orders from Excel and show the per-row report."""
    try:
        rows = api.read_work_order_sheet(file.file.read(20_000_000))
    except CountyError as exc:
        return templates(request).render(
            request, "cases/hotline.html", {"report": None, "error": exc.message}, status_code=exc.status
        )
    report = flows.work_order_rows(session, actor=a.actor, rows=rows)
    audit.record(
        session,
        actor=a.actor,
        action="case.hotline.import",
        detail={"rows": len(report), "created": sum(r["status"] == "created" for r in report)},
    )
    return templates(request).render(request, "cases/hotline.html", {"report": report})


@router.get("/cases/categories")
def categories_page(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.configure"))], kind: str = ""
) -> Response:
    from countyos.cases.models import CategoryKind

    k = CategoryKind(kind) if kind in set(CategoryKind) else None
    return templates(request).render(
        request,
        "cases/categories.html",
        {
            "rows": categories.list_categories(session, kind=k),
            "kind": kind,
            "kinds": list(CategoryKind),
            "defaults": categories.limits_of(session, category_id=None),
            **labels.ALL,
        },
    )


@router.get("/cases/categories/{category_id:int}")
def category_page(
    request: Request, category_id: int, session: ReadSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> Response:
    from countyos.cases.models import Priority, Step
    from countyos.core.workcal import TimeUnit

    cat = categories.get(session, category_id=category_id)
    effective = {
        (str(step), area): categories.limit_for(session, category=cat, area_class=area, step=step)
        for step in Step
        for area in categories.AREA_CLASSES
    }
    return templates(request).render(
        request,
        "cases/category.html",
        {
            "c": cat,
            "own": categories.limits_of(session, category_id=cat.id),
            "effective": effective,
            "steps": [str(s) for s in Step],
            "areas": categories.AREA_CLASSES,
            "units": [str(u) for u in TimeUnit],
            "priorities": [str(p) for p in Priority],
            **labels.ALL,
        },
    )


@router.post("/cases/categories/{category_id:int}")
def category_save(
    request: Request,
    category_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
    register_condition: Annotated[str, Form(max_length=2000)] = "",
    close_condition: Annotated[str, Form(max_length=2000)] = "",
    default_priority: Annotated[str, Form()] = "normal",
    public: Annotated[str, Form()] = "",
    feedback_photo_required: Annotated[str, Form()] = "",
    check_photo_required: Annotated[str, Form()] = "",
) -> Response:
    try:
        categories.update(
            session,
            actor=a.actor,
            category_id=category_id,
            changes={
                "register_condition": register_condition.strip() or None,
                "close_condition": close_condition.strip() or None,
                "default_priority": default_priority,
                "public": public == "1",
                "feedback_photo_required": feedback_photo_required == "1",
                "check_photo_required": check_photo_required == "1",
            },
        )
    except (CountyError, ValueError) as exc:
        session.rollback()
        return redirect(f"/cases/categories/{category_id}", flash=str(getattr(exc, "message", exc)), kind="error")
    return redirect(f"/cases/categories/{category_id}", flash=translate(request, "Saved"))


@router.post("/cases/categories/{category_id:int}/limits")
def category_limit(
    request: Request,
    category_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
    step: Annotated[str, Form()],
    area_class: Annotated[str, Form()],
    amount: Annotated[float, Form()],
    unit: Annotated[str, Form()],
) -> Response:
    from countyos.cases.models import Step
    from countyos.core.workcal import TimeUnit

    try:
        categories.set_limit(
            session,
            actor=a.actor,
            category_id=category_id,
            area_class=area_class,
            step=Step(step),
            amount=amount,
            unit=TimeUnit(unit),
        )
    except (CountyError, ValueError) as exc:
        session.rollback()
        return redirect(f"/cases/categories/{category_id}", flash=str(getattr(exc, "message", exc)), kind="error")
    return redirect(f"/cases/categories/{category_id}", flash=translate(request, "Saved"))
