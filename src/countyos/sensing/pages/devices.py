"""Pages: device list and map with state colours, device detail with charts, alarm console, rules."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import func, select
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.sensing import flows
from countyos.sensing.models import Alarm, AlarmObservation, AlarmState, Datastream, Latest, Rule, Thing
from countyos.sensing.pages import conditions
from countyos.sensing.service import alarms, devices, rule_builder, rules
from countyos.sensing.service.labels import DEVICE_CLASS_LABELS, alarm_title
from countyos.sensing.service.times import from_us
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)

HEALTH_LABELS = {"online": N_("Online"), "offline": N_("Offline"), "unknown": N_("Unknown")}
STATE_LABELS = {"active": N_("Alarm active"), "acknowledged": N_("Acknowledged"), "cleared": N_("Cleared")}
SEVERITY_LABELS = {"critical": N_("Critical"), "major": N_("Major"), "minor": N_("Minor"), "warning": N_("Warning")}


def _status(session: Any, thing_ids: list[int]) -> dict[int, dict[str, float]]:
    """Battery and signal of each device from its latest readings (what its charts show), so the
    figure on the page never lags behind the chart; the copy on the device row is the fallback."""
    out: dict[int, dict[str, float]] = {}
    if not thing_ids:
        return out
    rows = session.execute(
        select(Datastream.thing_id, Datastream.metric, Latest.result)
        .join(Latest, Latest.datastream_id == Datastream.id)
        .where(Datastream.thing_id.in_(thing_ids), Datastream.metric.in_(["battery", "signal"]))
    )
    for thing_id, metric, value in rows:
        if value is not None:
            out.setdefault(thing_id, {})[metric] = value
    return out


@router.get("/sensing")
def device_list(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.read"))]
) -> Response:
    things = list(session.scalars(select(Thing).order_by(Thing.device_class, Thing.name)))
    open_alarms = {
        tid: n
        for tid, n in session.execute(
            select(Alarm.thing_id, func.count()).where(Alarm.state != AlarmState.CLEARED).group_by(Alarm.thing_id)
        )
    }
    return templates(request).render(
        request,
        "sensing/devices.html",
        {
            "things": things,
            "open_alarms": open_alarms,
            "counts": devices.counts_by_health(session),
            "status": _status(session, [t.id for t in things]),
            "classes": devices.retention_classes(session),
            "health_labels": HEALTH_LABELS,
            "class_labels": DEVICE_CLASS_LABELS,
        },
    )


@router.get("/sensing/devices/{thing_id}")
def device_detail(
    thing_id: int, request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.read"))]
) -> Response:
    thing = devices.get_thing(session, thing_id=thing_id)
    streams = devices.datastreams_of(session, thing_id=thing.id)
    latest = {
        la.datastream_id: la
        for la in session.scalars(select(Latest).where(Latest.datastream_id.in_([d.id for d in streams])))
    }
    recent = list(
        session.scalars(select(Alarm).where(Alarm.thing_id == thing.id).order_by(Alarm.last_raised_at.desc()).limit(20))
    )
    return templates(request).render(
        request,
        "sensing/device.html",
        {
            "thing": thing,
            "streams": streams,
            "latest": latest,
            "status": _status(session, [thing.id]),
            "at_us": from_us,
            "alarms": recent,
            "health_labels": HEALTH_LABELS,
            "state_labels": STATE_LABELS,
            "severity_labels": SEVERITY_LABELS,
            "class_labels": DEVICE_CLASS_LABELS,
            "tokens": devices.tokens_of(session, thing_id=thing.id) if a.actor.can("sensing.write") else [],
        },
    )


@router.get("/sensing/alarms")
def alarm_console(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.read"))], state: str = "open"
) -> Response:
    states = ["active", "acknowledged"] if state == "open" else ([state] if state in STATE_LABELS else None)
    rows = alarms.list_alarms(session, states=states)
    things = {t.id: t for t in session.scalars(select(Thing).where(Thing.id.in_({r.thing_id for r in rows})))}
    raised_by: dict[int, list[tuple[int, datetime, float | None]]] = {}
    for o in session.scalars(
        select(AlarmObservation)
        .where(AlarmObservation.alarm_id.in_([r.id for r in rows]))
        .order_by(AlarmObservation.phenomenon_us)
    ):
        raised_by.setdefault(o.alarm_id, []).append((o.observation_id, from_us(o.phenomenon_us), o.result))
    return templates(request).render(
        request,
        "sensing/alarms.html",
        {
            "rows": rows,
            "things": things,
            "raised_by": raised_by,
            "state": state,
            "state_labels": STATE_LABELS,
            "severity_labels": SEVERITY_LABELS,
            "alarm_title": alarm_title,
        },
    )


@router.post("/sensing/alarms/{alarm_id}/{action}")
def alarm_action(
    alarm_id: int,
    action: str,
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("alarm.ack"))],
    note: Annotated[str, Form()] = "",
) -> Response:
    alarm = alarms.get(session, alarm_id=alarm_id)
    try:
        if action == "clear":
            flows.clear(session, alarm=alarm, actor=a.actor, note=note or None)
        elif action == "acknowledge":
            alarms.apply(session, alarm=alarm, action="acknowledge", actor=a.actor, note=note or None)
        else:
            return redirect("/sensing/alarms", translate(request, "Unknown action"), "error")
    except CountyError as exc:
        return redirect("/sensing/alarms", translate(request, exc.message_id, **exc.params), "error")
    return redirect("/sensing/alarms", translate(request, "Alarm updated"))


@router.get("/sensing/rules")
def rule_list(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.read"))]) -> Response:
    from countyos.sensing.models import ObservedProperty

    found = rules.list_rules(session)
    streams = {
        ds_id: (name, unit)
        for ds_id, name, unit in session.execute(
            select(Datastream.id, Datastream.name, Datastream.unit_symbol).where(
                Datastream.id.in_({r.datastream_id for r in found if r.datastream_id})
            )
        )
    }
    props = {
        p.id: p.name
        for p in session.scalars(
            select(ObservedProperty).where(
                ObservedProperty.id.in_({r.observed_property_id for r in found if r.observed_property_id})
            )
        )
    }
    return templates(request).render(
        request,
        "sensing/rules.html",
        {
            "rules": found,
            "streams": streams,
            "properties": props,
            "describe": conditions.describe,
            "severity_labels": SEVERITY_LABELS,
            "class_labels": DEVICE_CLASS_LABELS,
        },
    )


FIELD_LABELS = {
    "kind": N_("Watch for"),
    "op": N_("Comparison"),
    "value": N_("Threshold"),
    "clear": N_("Clears when back at"),
    "minutes": N_("For at least (minutes)"),
    "per": N_("Period"),
    "intervals": N_("Reporting intervals"),
    # fields of the whole rule (rules.check)
    "name": N_("Name"),
    "severity": N_("Severity"),
    "target": N_("Applies to"),
    "dedupe_seconds": N_("Dedupe window (seconds)"),
    "condition": N_("Condition"),
}
EXAMPLE = {"type": "duration", "seconds": 600, "of": {"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8}}


def _form_context(
    session: Any,
    rule: Rule | None,
    data: dict[str, Any] | None = None,
    errors: Any = None,
    form: rule_builder.RuleForm | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    from countyos.cases.service import categories
    from countyos.sensing.models import ObservedProperty

    data = data or (
        {k: getattr(rule, k) for k in rules.RULE_FIELDS}
        if rule
        else {"severity": "major", "dedupe_seconds": 3600, "enabled": True, "condition": EXAMPLE}
    )
    if form is None:
        form = rule_builder.form_from_condition(data.get("condition"))
        mode = mode or ("form" if form is not None else "json")
    return {
        "rule": rule,
        "data": data,
        "mode": mode or "form",
        "form": (form or rule_builder.RuleForm()).as_dict(),
        "kinds": rule_builder.KINDS,
        "comparisons": rule_builder.COMPARISONS,
        "periods": rule_builder.PER,
        "condition_text": data["condition"]
        if isinstance(data.get("condition"), str)
        else json.dumps(data.get("condition"), ensure_ascii=False, indent=2),
        "errors": errors or [],
        "severity_labels": SEVERITY_LABELS,
        "properties": list(session.scalars(select(ObservedProperty).order_by(ObservedProperty.name))),
        "streams": list(
            session.execute(
                select(Datastream.id, Datastream.name, Thing.name, Datastream.unit_symbol)
                .join(Thing, Thing.id == Datastream.thing_id)
                .order_by(Thing.name, Datastream.name)
            )
        ),
        "device_classes": sorted({c for c in session.scalars(select(Thing.device_class)) if c}),
        "class_labels": DEVICE_CLASS_LABELS,
        "categories": [(c.service_code, c.name) for c in categories.list_categories(session, reportable=True)],
    }


@router.get("/sensing/rules/new")
def rule_new(request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.rules"))]) -> Response:
    return templates(request).render(request, "sensing/rule_form.html", _form_context(session, None))


@router.get("/sensing/rules/{rule_id}")
def rule_edit(
    rule_id: int, request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("sensing.rules"))]
) -> Response:
    return templates(request).render(
        request, "sensing/rule_form.html", _form_context(session, rules.get(session, rule_id=rule_id))
    )


def _opt_int(v: str) -> int | None:
    return int(v) if v.strip().isdigit() else None


@router.post("/sensing/rules/save")
def rule_save(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("sensing.rules"))],
    name: Annotated[str, Form()],
    severity: Annotated[str, Form()],
    condition: Annotated[str, Form()] = "",
    rule_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    datastream_id: Annotated[str, Form()] = "",
    observed_property_id: Annotated[str, Form()] = "",
    device_class: Annotated[str, Form()] = "",
    case_category_code: Annotated[str, Form()] = "",
    dedupe_seconds: Annotated[str, Form()] = "3600",
    enabled: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "json",
    c_kind: Annotated[str, Form()] = "threshold",
    c_op: Annotated[str, Form()] = ">",
    c_value: Annotated[str, Form()] = "",
    c_clear: Annotated[str, Form()] = "",
    c_minutes: Annotated[str, Form()] = "",
    c_per: Annotated[str, Form()] = "3600",
    c_intervals: Annotated[str, Form()] = "3",
) -> Response:
    """Save a rule written with the condition builder (``mode=form``) or as JSON (``mode=json``)."""
    data: dict[str, Any] = {
        "name": name,
        "severity": severity,
        "description": description,
        "enabled": bool(enabled),
        "datastream_id": _opt_int(datastream_id),
        "observed_property_id": _opt_int(observed_property_id),
        "device_class": device_class.strip() or None,
        "case_category_code": case_category_code.strip() or None,
        "dedupe_seconds": _opt_int(dedupe_seconds) or 0,
    }
    rid = _opt_int(rule_id)
    form = rule_builder.RuleForm(c_kind, c_op, c_value, c_clear, c_minutes, c_per, c_intervals)
    mode = "form" if mode == "form" else "json"

    def again(errors: list[dict[str, str]]) -> Response:
        rule = rules.get(session, rule_id=rid) if rid else None
        ctx = _form_context(session, rule, data, errors, form, mode)
        return templates(request).render(request, "sensing/rule_form.html", ctx, status_code=422)

    if mode == "form":
        try:
            data["condition"] = rule_builder.condition_from_form(form)
        except rule_builder.FormProblem as exc:
            data["condition"] = condition
            return again(
                [{"field": translate(request, FIELD_LABELS[exc.field]), "message": translate(request, exc.message)}]
            )
    else:
        try:
            data["condition"] = json.loads(condition)
        except json.JSONDecodeError as exc:
            data["condition"] = condition
            return again([{"field": "condition", "message": f"JSON: {exc.msg} (line {exc.lineno})"}])
    try:
        saved = rules.save(session, actor=a.actor, data=data, rule_id=rid)
    except CountyError as exc:
        session.rollback()
        found = getattr(exc, "errors", None) or [{"field": "", "message": exc.message}]
        return again(
            [
                {
                    "field": translate(request, FIELD_LABELS[e["field"]]) if e["field"] in FIELD_LABELS else e["field"],
                    "message": translate(request, e["message"]),
                }
                for e in found
            ]
        )
    return redirect(f"/sensing/rules/{saved.id}", translate(request, "Rule saved"))


audit.name_codes(
    actions={
        "sensing.alarm.raise": N_("Alarm raised"),
        "sensing.alarm.acknowledge": N_("Alarm acknowledged"),
        "sensing.alarm.clear": N_("Alarm cleared"),
        "sensing.device.register": N_("Device registered"),
        "sensing.device_token_failed": N_("Device token refused"),
        "sensing.retention.update": N_("Retention class changed"),
        "sensing.rule.save": N_("Alarm rule saved"),
        "sensing.token.issue": N_("Device token issued"),
        "sensing.token.revoke": N_("Device token revoked"),
        "sensing.sta.create": N_("SensorThings entity created"),
        "sensing.sta.update": N_("SensorThings entity changed"),
        "sensing.sta.delete": N_("SensorThings entity deleted"),
        "auth.basic_failed": N_("SensorThings sign-in refused"),
    },
    targets={
        "alarm": N_("Alarm"),
        "rule": N_("Alarm rule"),
        "thing": N_("Device"),
        "retention_class": N_("Retention class"),
    },
)
