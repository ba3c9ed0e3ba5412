"""Pages for the data behind the cases: the routing table and the 12345 import."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.cases import api, flows
from countyos.cases.pages import labels
from countyos.cases.pages.nostore import page_router
from countyos.cases.schemas import CategoryPatch, LimitIn, RuleIn
from countyos.cases.service import categories, routing
from countyos.core.errors import CountyError
from countyos.org.service import audit, departments
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = page_router()


def _opt_int(v: str | None) -> int | None:
    return int(v) if v and v.strip().isdigit() else None


@router.get("/cases/routing")
def routing_page(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> Response:
    return _routing_page(request, session)


def _routing_page(request: Request, session: Session, *, form: Refused | None = None, status: int = 200) -> Response:
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
            "form": form or Refused.empty(),
        },
        status_code=status,
    )


ROUTING_FIELDS = ("category_id", "township_code", "grid_code", "department_id", "note")


@router.post("/cases/routing")
def routing_save(
    request: Request, session: WriteSession, a: Annotated[Auth, Depends(require("case.routing"))], form: PostedForm
) -> Response:
    """A routing rule from the form, parsed by the API's model; on an error the form comes back with
    what was typed and each message beside its field."""
    values = forms.typed(form, ROUTING_FIELDS)
    co = [v for v in form.getlist("co_department_ids") if isinstance(v, str) and v.strip()]
    try:
        body = forms.parse(RuleIn, {**values, "co_department_ids": co})
        routing.save_rule(session, actor=a.actor, **body.model_dump())
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "co_department_ids": co})
        return _routing_page(request, session, form=refused, status=refused.status)
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
    return _category_page(request, session, category_id)


def _category_page(
    request: Request, session: Session, category_id: int, *, form: Refused | None = None, status: int = 200
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
            "form": form or Refused.empty(),
            **labels.ALL,
        },
        status_code=status,
    )


CATEGORY_TEXT_FIELDS = ("register_condition", "close_condition", "default_priority")
CATEGORY_FLAGS = ("public", "feedback_photo_required", "check_photo_required", "sensitive")


@router.post("/cases/categories/{category_id:int}")
def category_save(
    request: Request,
    category_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
    form: PostedForm,
) -> Response:
    """A category's conditions, priority and photo rules, parsed by the API's model; on an error the
    form comes back with what was typed and each message beside its field."""
    values = forms.typed(form, CATEGORY_TEXT_FIELDS)
    flags = {name: form.get(name) == "1" for name in CATEGORY_FLAGS}
    try:
        body = CategoryPatch.model_validate(
            {
                "register_condition": values["register_condition"].strip() or None,
                "close_condition": values["close_condition"].strip() or None,
                "default_priority": values["default_priority"] or "normal",
                **flags,
            }
        )
        categories.update(session, actor=a.actor, category_id=category_id, changes=body.model_dump(exclude_unset=True))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, **{k: "1" if v else "" for k, v in flags.items()}}, "settings")
        return _category_page(request, session, category_id, form=refused, status=refused.status)
    return redirect(f"/cases/categories/{category_id}", flash=translate(request, "Saved"))


LIMIT_FIELDS = ("step", "area_class", "amount", "unit")


@router.post("/cases/categories/{category_id:int}/limits")
def category_limit(
    request: Request,
    category_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
    form: PostedForm,
) -> Response:
    """One time limit of a category (step × area class), parsed by the API's model."""
    from countyos.cases.models import Step

    values = forms.typed(form, LIMIT_FIELDS)
    try:
        body = forms.parse(LimitIn, values)
        categories.set_limit(
            session,
            actor=a.actor,
            category_id=category_id,
            area_class=body.area_class,
            step=Step(body.step),
            amount=body.amount,
            unit=body.unit,
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, "limit")
        return _category_page(request, session, category_id, form=refused, status=refused.status)
    return redirect(f"/cases/categories/{category_id}", flash=translate(request, "Saved"))
