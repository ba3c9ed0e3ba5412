"""The same action on several cases (batch): each case goes through ``transitions.apply`` on its own —
checked by the ONE transition table and the caller's roles on that case, audited, and, when refused,
undone alone in its savepoint while the others go on. The answer says, per case, what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from countyos.cases import lifecycle
from countyos.cases.schemas import BatchIn
from countyos.cases.service import cases, transitions
from countyos.core.actor import Actor
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_


@dataclass
class Outcome:
    """One case's result; ``message`` is an English message id with ``params`` (translated when shown)."""

    case_id: int
    ok: bool
    number: str | None = None
    state: str | None = None
    code: str | None = None
    message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _reason(exc: CountyError, case_state: str | None) -> tuple[str, dict[str, Any]]:
    """Why a case was refused, in words a person reads (never an action or state code)."""
    if isinstance(exc, transitions.StaleCase):
        return N_("It was changed by someone else meanwhile; reload the list"), {}
    if isinstance(exc, transitions.ActionForbidden):
        return N_("Your roles may not take this action on this case"), {}
    if isinstance(exc, transitions.TransitionNotAllowed):
        return N_("Not possible in its current state"), {}
    if isinstance(exc, NotFound):
        return N_("Not found among the cases you may see"), {}
    if isinstance(exc, ValidationFailed):
        return exc.message_id, exc.params
    return exc.message_id, exc.params


def apply(session: Session, *, actor: Actor, body: BatchIn) -> list[Outcome]:
    """Apply ``body.action`` to each of ``body.case_ids`` in order; never raises for one case."""
    out: list[Outcome] = []
    for i, case_id in enumerate(body.case_ids):
        data = body.for_case(i)
        number = state = None
        try:
            with session.begin_nested():
                case = cases.get_visible(session, actor=actor, case_id=case_id)
                number, state = case.number, str(case.state)
                case = transitions.apply(session, actor=actor, case_id=case_id, data=data)
            out.append(Outcome(case_id, True, case.number, str(case.state)))
        except CountyError as exc:
            message, params = _reason(exc, state)
            out.append(Outcome(case_id, False, number, state, exc.code, message, params))
    return out


def state_label(state: str | None) -> str | None:
    return lifecycle.LABELS.get(state) if state else None
