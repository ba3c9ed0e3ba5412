"""Open a case from an alarm: the form (category, with the rule's category chosen) and its action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from countyos.cases.models import CategoryKind
from countyos.cases.service import categories
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.sensing import flows
from countyos.sensing.models import AlarmState, Rule, Thing
from countyos.sensing.pages.devices import SEVERITY_LABELS, STATE_LABELS
from countyos.sensing.service import alarms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    CategoryKind.COMPONENT: N_("Components"),
    CategoryKind.MATTER: N_("Matters"),
    CategoryKind.HOTLINE: N_("12345 categories"),
    CategoryKind.LOCAL: N_("Local categories"),
}


def _form(
    request: Request,
    session: Any,
    alarm_id: int,
    *,
    chosen: int | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    alarm = alarms.get(session, alarm_id=alarm_id)
    rule = session.get(Rule, alarm.rule_id) if alarm.rule_id else None
    if chosen is None and rule is not None and rule.case_category_code:
        cat = categories.get_by_service_code(session, code=rule.case_category_code)
        chosen = cat.id if cat else None
    groups: dict[str, list[Any]] = {}
    for c in categories.list_categories(session, reportable=True):
        groups.setdefault(KIND_LABELS.get(CategoryKind(c.kind), N_("Local categories")), []).append(c)
    return templates(request).render(
        request,
        "sensing/alarm_case.html",
        {
            "alarm": alarm,
            "thing": session.get(Thing, alarm.thing_id),
            "groups": groups,
            "chosen": chosen,
            "errors": errors or {},
            "message": message,
            "state_labels": STATE_LABELS,
            "severity_labels": SEVERITY_LABELS,
            "possible": alarm.case_id is None and alarm.state != AlarmState.CLEARED,
        },
        status_code=status_code,
    )


@router.get("/sensing/alarms/{alarm_id:int}/case")
def open_case_form(
    request: Request, alarm_id: int, session: ReadSession, a: Annotated[Auth, Depends(require("alarm.ack"))]
) -> Response:
    """The form that opens a case from this alarm (the rule's category chosen when it names one)."""
    return _form(request, session, alarm_id)


@router.post("/sensing/alarms/{alarm_id:int}/case")
def open_case(
    request: Request,
    alarm_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("alarm.ack"))],
    category_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Open a case from an open alarm without one, linked both ways and audited."""
    chosen = int(category_id) if category_id.isdigit() else None
    try:
        if chosen is None:
            raise ValidationFailed(
                "Choose the category of the case", errors=[{"field": "category_id", "message": N_("Required")}]
            )
        alarm = flows.open_case_from_alarm(session, actor=a.actor, alarm_id=alarm_id, category_id=chosen)
    except CountyError as exc:
        session.rollback()
        errors = {
            str(e["field"]): translate(request, str(e.get("message") or N_("Not valid")))
            for e in getattr(exc, "errors", None) or []
            if e.get("field")
        }
        return _form(
            request,
            session,
            alarm_id,
            chosen=chosen,
            errors=errors,
            message=translate(request, exc.message_id, **exc.params),
            status_code=exc.status,
        )
    return redirect(
        f"/cases/{alarm.case_id}",
        translate(request, "Case %(number)s opened from the alarm", number=alarm.case_number or ""),
    )


# Words the alarm pages look up in small dicts (marked here so that they are extracted).
TEMPLATE_LABELS = (N_("Raised again"), N_("Case opened from the alarm"), N_("Changed"))
