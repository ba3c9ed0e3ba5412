"""Words shared by the kpis part's pages: units, scoring rules, states."""

from __future__ import annotations

from typing import Any

from countyos.core.i18n import N_, gettext
from countyos.programme.models.projects import ContractState
from countyos.programme.service import kpis_catalogue as catalogue

RULE_LABELS: dict[str, str] = {
    "linear": N_("Linear between the target and the zero point"),
    "steps": N_("Points by steps"),
    "target": N_("Full points when the target is met"),
}
CONTRACT_STATE_LABELS: dict[str, str] = {
    ContractState.DRAFT: N_("Draft (contract)"),
    ContractState.ACTIVE: N_("In force (contract)"),
    ContractState.ENDED: N_("Ended (contract)"),
}


def unit_of(code: str) -> str:
    entry = catalogue.BY_CODE.get(code)
    return entry.unit if entry is not None else ""


def figure(value: float | None, unit: str) -> str:
    """A KPI's value as shown: 「96.5%」 or 「12」; 「—」 without data."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:g}%"
    return f"{value:g}"


def rule_words(rule: dict[str, Any], unit: str) -> str:
    """The scoring rule in the reader's language."""
    kind = rule.get("kind", "linear")
    if kind == "steps":
        steps = "; ".join(
            gettext("%(value)s → %(points)s points", value=figure(float(v), unit), points=f"{float(p):g}")
            for v, p in rule.get("steps", [])
        )
        return f"{gettext(RULE_LABELS['steps'])}: {steps}"
    if kind == "linear" and rule.get("zero_at") is not None:
        return gettext("Linear, no points at %(zero)s", zero=figure(float(rule["zero_at"]), unit))
    return gettext(RULE_LABELS.get(kind, kind))
