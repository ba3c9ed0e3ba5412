"""What the projects part's pages share: money shown in yuan (two decimals, thousands separators) and
typed in yuan, the label dicts the templates show enum values through, and the choices of the forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import departments
from countyos.programme.schemas.projects import MAX_FEN
from countyos.programme.service import modules as module_specs
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.programme.service import projects_models
from countyos.sensing.service.labels import DEVICE_CLASS_LABELS


def yuan(fen: int | None) -> str:
    """Fen as yuan: ``1,234,567.80``."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_input(fen: int | None) -> str:
    """Fen as typed in a form: ``1234567.80``."""
    if fen is None:
        return ""
    whole, cents = divmod(int(fen), 100)
    return f"{whole}.{cents:02d}"


def fen_of(text: str, field: str) -> str:
    """The fen (as text, for the model) of an amount typed in yuan; a refusal beside FIELD."""
    t = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if not t:
        return ""
    try:
        d = Decimal(t)
    except InvalidOperation:
        raise ValidationFailed.on_field(field, N_("Enter an amount in yuan, at most two decimals")) from None
    if not d.is_finite() or d != d.quantize(Decimal("0.01")) or d < 0 or d * 100 > MAX_FEN:
        raise ValidationFailed.on_field(field, N_("Enter an amount in yuan, at most two decimals"))
    return str(int(d * 100))


def pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}" if whole else "—"


def labels() -> dict[str, Any]:
    return {
        "org_kind_names": svc.ORG_KIND_NAMES,
        "project_kind_names": svc.PROJECT_KIND_NAMES,
        "project_state_names": svc.PROJECT_STATE_NAMES,
        "project_action_names": svc.PROJECT_ACTION_NAMES,
        "contract_state_names": contracts.CONTRACT_STATE_NAMES,
        "contract_action_names": contracts.CONTRACT_ACTION_NAMES,
        "period_names": contracts.PERIOD_NAMES,
        "module_specs": module_specs.BY_CODE,
        "device_class_names": DEVICE_CLASS_LABELS,
        "model_label": projects_models.label,
        "yuan": yuan,
        "yuan_input": yuan_input,
        "pct": pct,
    }


def department_choices(session: Session) -> list[tuple[int, str]]:
    return sorted(((d.id, d.name) for d in departments.all_active(session)), key=lambda kv: kv[1])


def department_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in departments.all_active(session)}
