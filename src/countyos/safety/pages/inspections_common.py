"""What the hidden-danger inspection pages share: who may open them, the label dicts every template
gets, and small readers of query parameters."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Request

from countyos.core.clock import county_today
from countyos.core.i18n import N_, use_locale
from countyos.safety.models.inspections import (
    HazardLevel,
    HazardState,
    InspectionResult,
    Outcome,
    RiskGrade,
)
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.service import inspections as svc
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.web.deps import Auth, authenticated, require

Inspector = Annotated[Auth, Depends(require(INSPECT))]
Keeper = Annotated[Auth, Depends(require(INSPECT_MANAGE))]
Anyone = Annotated[Auth, Depends(authenticated)]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LIST_LIMIT = 50
OUTCOME_NAMES = {Outcome.PASS: N_("Pass"), Outcome.FAIL: N_("Fail"), Outcome.NA: N_("Not applicable")}
RESULT_NAMES = {InspectionResult.CLEAN: N_("No hazards found"), InspectionResult.HAZARDS: N_("Hazards found")}


def common(request: Request) -> dict[str, Any]:
    with use_locale(request.state.locale):
        kinds = [(code, svc.kind_label(code)) for code in svc.kinds()]
        cats = {code: checklists.category_label(code) for code in checklists.categories()}
    return {
        "kinds": kinds,
        "kind_names": dict(kinds),
        "category_names": cats,
        "grades": list(RiskGrade),
        "grade_names": svc.GRADE_NAMES,
        "levels": list(HazardLevel),
        "level_names": hazards.LEVEL_NAMES,
        "states": list(HazardState),
        "state_names": hazards.STATE_NAMES,
        "action_names": hazards.ACTION_NAMES,
        "outcomes": list(Outcome),
        "outcome_names": OUTCOME_NAMES,
        "result_names": RESULT_NAMES,
        "today": county_today(),
    }


def enum_of(kind: Any, value: str | None) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def qs(**values: Any) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "", False)})
