"""The application page's action forms: which fields each action shows, the API model's body from what
was typed, and each refusal's message beside its field (``pages/work.py`` renders and posts them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import ValidationError as PydanticValidationError

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.services import schemas
from countyos.services.lifecycle import Action
from countyos.web import forms
from countyos.web.errors import FIELD_MESSAGES
from countyos.web.templating import translate

# The fields each action's form shows (besides the version); the note is on every form.
RESULT_FIELDS = ("decision", "result_name", "result_number", "valid_from", "valid_until")
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.PASS: ("opinion",),  # the last step's adds RESULT_FIELDS
    Action.RETURN: ("opinion",),
    Action.STEP_OTHER: ("opinion",),
    Action.START_SPECIAL: ("kind", "reason", "expected_days"),
    Action.END_SPECIAL: ("special_result",),
    Action.DELIVER: ("delivery", "tracking_number"),  # not "method": a form's own property
    Action.REJECT: ("reason",),
    Action.ACCEPT_IMMEDIATE: RESULT_FIELDS,
    Action.RESUBMIT: ("materials",),
}
FORM_NAMES = ("opinion", "kind", "reason", "expected_days", "special_result", "delivery", "tracking_number", "note",
              *RESULT_FIELDS)  # fmt: skip
MAX_EXPECTED_DAYS = 365
ACTION_NAMES = frozenset(str(a) for a in schemas.ACTION_MODELS)
EXPECTED = N_("Expected to take %(n)s days")


@dataclass
class ActionForm:
    """An action form sent back: which action, what was typed, the message of each wrong field."""

    action: str
    values: dict[str, str]
    materials: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def _county_time(day: str, *, end: bool) -> datetime:
    """A date typed in the form as the start (or the end) of that county day."""
    d = date.fromisoformat(day)
    return datetime.combine(d, time.max if end else time.min, tzinfo=ZoneInfo(get_settings().timezone))


def body_of(
    request: Request, action: Action, values: dict[str, str], materials: list[str], *, concludes: bool
) -> dict[str, Any]:
    """The API model's body from the typed form (empty fields left out, so the model's rules apply).
    The expected length of a special procedure goes into the timeline note, in the writer's language."""
    v = {k: s.strip() for k, s in values.items() if s.strip()}
    body: dict[str, Any] = {"version": v.get("version"), "note": v.get("note")}
    if action in (Action.PASS, Action.RETURN, Action.STEP_OTHER):
        body["opinion"] = v.get("opinion")
    if action is Action.START_SPECIAL:
        body.update(kind=v.get("kind"), reason=v.get("reason"))
        if v.get("expected_days"):
            days = v["expected_days"]
            if not days.isdigit() or not 1 <= int(days) <= MAX_EXPECTED_DAYS:
                raise _field("expected_days", N_("Give a whole number of days from 1 to 365"))
            expected = translate(request, EXPECTED, n=int(days))
            body["note"] = f"{expected}; {v['note']}" if v.get("note") else expected
    if action is Action.END_SPECIAL:
        body["result"] = v.get("special_result")
    if action is Action.DELIVER:
        body.update(method=v.get("delivery"), tracking_number=v.get("tracking_number"))
    if action is Action.REJECT:
        body["reason"] = v.get("reason")
    if action is Action.ACCEPT_IMMEDIATE or (action is Action.PASS and concludes):
        result: dict[str, Any] = {k: v.get(k) for k in ("decision", "result_name", "result_number")}
        for key, end in (("valid_from", False), ("valid_until", True)):
            if v.get(key):
                try:
                    result[key] = _county_time(v[key], end=end)
                except ValueError:
                    raise _field(key, N_("Not a date")) from None
        body["result"] = {k: x for k, x in result.items() if x is not None}
    if action is Action.RESUBMIT:
        body["materials"] = [{"material_id": m, "form": "original", "count": 1} for m in materials[:100]]
    return {k: x for k, x in body.items() if x is not None}


def _field(name: str, message: str) -> ValidationFailed:
    """A refusal of one field; its message id is translated when shown (``forms.field_errors``)."""
    return ValidationFailed(N_("Please correct the marked fields"), errors=[{"field": name, "message": message}])


def _field_of(loc: tuple[Any, ...], action: Action) -> str:
    """The form field of a model's error location (the result's fields sit at the top of the form)."""
    if not loc:
        return ""
    if loc[0] == "method":
        return "delivery"
    if loc[0] == "result" and action is Action.END_SPECIAL:
        return "special_result"
    if loc[0] == "result" and len(loc) > 1:
        return str(loc[1])
    if loc[0] == "result":
        return "decision"
    return str(loc[0])


# Messages of the models' own checks (a pydantic value error carries English text), by action and field.
MODEL_RULES: dict[str, tuple[str, str]] = {
    Action.DELIVER: ("tracking_number", N_("Express delivery needs the tracking number")),
    Action.PASS: ("valid_until", N_("The validity ends before it starts")),
    Action.ACCEPT_IMMEDIATE: ("valid_until", N_("The validity ends before it starts")),
}


def errors_of(request: Request, exc: Exception, action: Action) -> dict[str, str]:
    if not isinstance(exc, PydanticValidationError):
        found = forms.field_errors(request, exc)
        return {_field_of(tuple(k.split(".")), action) if k else "": m for k, m in found.items()}
    out: dict[str, str] = {}
    for e in exc.errors():
        key = _field_of(tuple(e["loc"]), action)
        message = FIELD_MESSAGES.get(e["type"], N_("Not valid"))
        if e["type"] == "value_error" and action in MODEL_RULES and key in ("", "decision"):
            key, message = MODEL_RULES[action]
        out.setdefault(key, translate(request, message))
    return out
