"""电子监察 pages: the warnings with filters and statistics by department and level (each number a link
to its records), one warning with its record, feedback and 督办 forms, and the rules' settings.

Supervisors (``services.application.supervise``) see every warning and edit the rules; a department's
handlers (``services.application.handle``) see their department's warnings and answer them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.workcal import calendar
from countyos.org.service import audit, departments
from countyos.services.models import Application, RuleKind, SupervisionRule, WarningLevel, WarningState
from countyos.services.pages.common import SERVICES
from countyos.services.schemas import MAX_ID, RulesIn, WarningActionIn
from countyos.services.service import supervision, supervision_rules
from countyos.services.service.supervision import WarningAction, WarningFilter
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import PostedForm
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Person = Annotated[Auth, Depends(authenticated)]
Supervisor = Annotated[Auth, Depends(require(supervision.SUPERVISE))]
PAGE = 50

NAV = [
    NavItem(SERVICES, N_("Electronic supervision"), "/services/supervision", supervision.SUPERVISE, order=140),
    NavItem(SERVICES, N_("Supervision rules"), "/services/supervision/rules", supervision.SUPERVISE, order=141),
    NavItem(
        SERVICES, N_("My department's warnings"), "/services/supervision?state=active", supervision.HANDLE, order=142
    ),
]
audit.name_codes(
    actions={
        "services.supervision.raise": N_("Supervision warning raised"),
        "services.supervision.upgrade": N_("Supervision warning raised to red"),
        "services.supervision.clear": N_("Supervision warning cleared"),
        "services.supervision.feedback": N_("Department answered a supervision warning"),
        "services.supervision.supervise": N_("Supervision order issued"),
        "services.supervision.rules": N_("Supervision rules changed"),
    },
    targets={
        "services_supervision_warning": N_("Supervision warning"),
        "services_supervision_rule": N_("Supervision rule"),
    },
)
LABELS: dict[str, Any] = {
    "state_labels": supervision.STATE_LABELS,
    "action_labels": supervision.ACTION_LABELS,
    "level_labels": supervision_rules.LEVEL_LABELS,
    "kind_labels": supervision_rules.KIND_LABELS,
    "kind_help": supervision_rules.KIND_HELP,
    "parameters": {str(k): v for k, v in supervision_rules.PARAMETERS.items()},
}
ACTIVE = "active"


def _choice(value: str, allowed: Any) -> str | None:
    return value if value in {str(x) for x in allowed} else None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start(d: date | None) -> datetime | None:
    return datetime.combine(d, time(0), tzinfo=calendar().tz) if d is not None else None


def _filter(state: str, level: str, department_id: str, kind: str, since: str, until: str) -> WarningFilter:
    st = _choice(state, WarningState)
    lv = _choice(level, WarningLevel)
    kd = _choice(kind, RuleKind)
    dep = int(department_id) if department_id.isdigit() and 0 < int(department_id) <= MAX_ID else None
    end = _day(until)
    return WarningFilter(
        state=WarningState(st) if st else None,
        active=state == ACTIVE,
        level=WarningLevel(lv) if lv else None,
        department_id=dep,
        kind=RuleKind(kd) if kd else None,
        since=_start(_day(since)),
        until=_start(end + timedelta(days=1)) if end else None,
    )


def _names(
    session: Session, dep_ids: set[int | None], app_ids: set[int | None]
) -> tuple[dict[int, str], dict[int, str]]:
    from countyos.org.models import Department

    deps = {d for d in dep_ids if d is not None}
    appl = {a for a in app_ids if a is not None}
    dn = (
        dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(deps))).all())
        if deps
        else {}
    )
    an = (
        dict(session.execute(select(Application.id, Application.number).where(Application.id.in_(appl))).all())
        if appl
        else {}
    )
    return dn, an


@router.get("/services/supervision")
def warnings_page(
    request: Request,
    session: ReadSession,
    a: Person,
    state: Annotated[str, Query(max_length=12)] = ACTIVE,
    level: Annotated[str, Query(max_length=8)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """The warnings (red first) under the filters, and their numbers by department and level."""
    f = _filter(state, level, department_id, kind, since, until)
    rows, total = supervision.listing(session, actor=a.actor, f=f, limit=PAGE, offset=offset)
    stats = supervision.statistics(session, actor=a.actor, f=f)
    rules = {r.id: r for r in supervision_rules.stored_rules(session)}
    deps, numbers = _names(
        session, {w.department_id for w in rows} | {r.department_id for r in stats}, {w.application_id for w in rows}
    )
    query = {
        "state": state,
        "level": level,
        "department_id": department_id,
        "kind": kind,
        "since": since,
        "until": until,
    }
    base = {k: v for k, v in query.items() if v and k not in ("level", "department_id")}

    def link(dep: int | None, lv: str | None) -> str:
        return "/services/supervision?" + urlencode(
            {**base, **({"department_id": dep} if dep else {}), **({"level": lv} if lv else {})}
        )

    return templates(request).render(
        request,
        "services/supervision/warnings.html",
        {
            "rows": rows,
            "total": total,
            "limit": PAGE,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "stats": stats,
            "totals": (sum(r.yellow for r in stats), sum(r.red for r in stats)),
            "link": link,
            "rules": rules,
            "deps": deps,
            "numbers": numbers,
            "reason": supervision.reason_text,
            "departments": sorted(((d.id, d.name) for d in departments.all_active(session)), key=lambda t: t[1]),
            "is_supervisor": supervision.is_supervisor(a.actor),
            **LABELS,
        },
    )


def _warning_page(
    request: Request, session: Session, a: Auth, warning_id: int, *, form: Refused | None = None, status: int = 200
) -> Response:
    w = supervision.get(session, actor=a.actor, warning_id=warning_id)
    deps, numbers = _names(session, {w.department_id}, {w.application_id})
    rule = session.get(SupervisionRule, w.rule_id)
    return templates(request).render(
        request,
        "services/supervision/warning.html",
        {
            "w": w,
            "rule": rule,
            "department": deps.get(w.department_id) if w.department_id else None,
            "application_number": numbers.get(w.application_id) if w.application_id else None,
            "history": supervision.history(session, warning_id=w.id),
            "reason": supervision.reason_text(w),
            "allowed": supervision.allowed_actions(a.actor, w),
            "form": form or Refused(),
            **LABELS,
        },
        status_code=status,
    )


@dataclass(frozen=True)
class Refused:
    """A form as typed, with each message beside its field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    status: int = 422


WarningId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/services/supervision/warnings/{warning_id}")
def warning_page(request: Request, warning_id: WarningId, session: ReadSession, a: Person) -> Response:
    return _warning_page(request, session, a, warning_id)


@router.post("/services/supervision/warnings/{warning_id}")
def warning_action(
    request: Request, warning_id: WarningId, session: WriteSession, a: Person, form: PostedForm
) -> Response:
    """Feedback or 督办 from the warning's page; on a refusal the form comes back as typed."""
    values = forms.typed(form, ("action", "note", "version"))
    act = _choice(values["action"], supervision.PERSON_ACTIONS)
    try:
        if act is None:
            raise ValidationFailed(N_("Choose an action"), errors=[{"field": "action", "message": "Not valid"}])
        body = forms.parse(WarningActionIn, {"note": values["note"], "version": values["version"]})
        supervision.act(session, actor=a.actor, warning_id=warning_id, action=WarningAction(act), data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = forms.field_errors(request, exc)
        refused = Refused(values, errors, act, exc.status if isinstance(exc, CountyError) else 422)
        return _warning_page(request, session, a, warning_id, form=refused, status=refused.status)
    return redirect(f"/services/supervision/warnings/{warning_id}", flash=translate(request, "Saved"))


# ── rules ────────────────────────────────────────────────────────────────────────────────────────────

RULE_FIELDS = ("code", "kind", "threshold", "days", "min_count", "level", "enabled")
MAX_FORM_RULES = 31


def _rule_values(r: SupervisionRule) -> dict[str, str]:
    def s(v: Any) -> str:
        if v is None:
            return ""
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    return {
        "code": r.code,
        "kind": str(r.kind),
        "threshold": s(r.threshold),
        "days": s(r.days),
        "min_count": s(r.min_count),
        "level": str(r.level),
        "enabled": "1" if r.enabled else "",
    }


def _rules_page(request: Request, session: Session, *, form: Refused | None = None, status: int = 200) -> Response:
    rows = form.values["rules"] if form else [_rule_values(r) for r in supervision_rules.all_rules(session)]
    return templates(request).render(
        request,
        "services/supervision/rules.html",
        {"rows": rows, "new": form.values["new"] if form else {}, "errors": form.errors if form else {}, **LABELS},
        status_code=status,
    )


@router.get("/services/supervision/rules")
def rules_page(request: Request, session: ReadSession, a: Supervisor) -> Response:
    return _rules_page(request, session)


@router.post("/services/supervision/rules")
def rules_save(request: Request, session: WriteSession, a: Supervisor, form: PostedForm) -> Response:
    """Every rule's row (``<field>.<i>``) and an optional new one (``new.<field>``), through the API's model."""
    count = min(int(c) if (c := str(form.get("count") or "")).isdigit() else 0, MAX_FORM_RULES)
    rows = [{k: (v if isinstance(v := form.get(f"{k}.{i}"), str) else "") for k in RULE_FIELDS} for i in range(count)]
    kinds = {r.code: str(r.kind) for r in supervision_rules.all_rules(session)}
    rows = [{**r, "kind": kinds[r["code"]]} for r in rows if r["code"] in kinds]  # a rule's kind never changes
    new = {k: (v if isinstance(v := form.get(f"new.{k}"), str) else "") for k in RULE_FIELDS if k != "code"}
    wanted = [_posted_rule(r) for r in rows]
    if new.get("kind"):
        wanted.append(_posted_rule(new))
    try:
        body = RulesIn.model_validate({"rules": wanted})
        supervision.update_rules(session, actor=a.actor, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        errors = _rule_errors(request, exc, len(rows))
        return _rules_page(request, session, form=Refused({"rules": rows, "new": new}, errors), status=422)
    return redirect("/services/supervision/rules", flash=translate(request, "Saved"))


def _posted_rule(values: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v.strip() for k, v in values.items() if k not in ("enabled",) and v.strip()}
    out["enabled"] = values.get("enabled") == "1"
    return out


def _rule_errors(request: Request, exc: Exception, count: int) -> dict[str, str]:
    """``<field>.<i>`` (or ``new.<field>``) → message, from the model's or the service's refusal."""
    from countyos.core import i18n
    from countyos.web.errors import FIELD_MESSAGES

    out: dict[str, str] = {}
    if isinstance(exc, PydanticValidationError):
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            for e in exc.errors():
                loc = [str(x) for x in e["loc"]]
                if len(loc) >= 3 and loc[0] == "rules" and loc[1].isdigit():
                    out.setdefault(
                        _rule_key(int(loc[1]), loc[2], count), i18n.gettext(FIELD_MESSAGES.get(e["type"], "Not valid"))
                    )
                else:
                    out.setdefault("", i18n.gettext(FIELD_MESSAGES.get(e["type"], "Not valid")))
        return out
    for name, message in forms.field_errors(request, exc).items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "rules" and parts[1].isdigit():
            out.setdefault(_rule_key(int(parts[1]), parts[2], count), message)
        else:
            out.setdefault("", message)
    return out


def _rule_key(i: int, name: str, count: int) -> str:
    return f"new.{name}" if i >= count else f"{name}.{i}"
