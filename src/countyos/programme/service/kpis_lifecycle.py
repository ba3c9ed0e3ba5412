"""The ONE transition table of an assessment (``models.kpis.AssessmentState``), shared by the kpis part
(approve) and the payments part (lock, return, amend):

    computed ──approve──▶ approved ──lock──▶ locked ──amend (reason)──▶ locked
        ▲                    │
        └──return (reason)───┘

Recomputing (``kpis_assess.assess``) is not a transition: a computed assessment is recomputed freely, an
approved or locked one only with a reason, which is written as an amendment.
"""

from __future__ import annotations

from countyos.core.actor import Actor
from countyos.core.errors import ActionForbidden, TransitionNotAllowed
from countyos.core.i18n import N_
from countyos.programme import permissions as P
from countyos.programme.models.kpis import AssessmentState

S = AssessmentState

APPROVE, LOCK, RETURN, AMEND = "approve", "lock", "return", "amend"

TRANSITIONS: dict[tuple[AssessmentState, str], AssessmentState] = {
    (S.COMPUTED, APPROVE): S.APPROVED,
    (S.APPROVED, LOCK): S.LOCKED,
    (S.APPROVED, RETURN): S.COMPUTED,
    (S.LOCKED, AMEND): S.LOCKED,
}
NEEDS_REASON = frozenset({RETURN, AMEND})
PERMISSION: dict[str, str] = {APPROVE: P.ASSESS, LOCK: P.FINANCE, RETURN: P.FINANCE, AMEND: P.FINANCE}

ACTION_LABELS: dict[str, str] = {
    APPROVE: N_("Approve the assessment"),
    LOCK: N_("Lock the payment table"),
    RETURN: N_("Return the assessment for recomputing"),
    AMEND: N_("Amend the locked assessment"),
}
STATE_LABELS: dict[str, str] = {
    S.COMPUTED: N_("Computed (assessment)"),
    S.APPROVED: N_("Approved (assessment)"),
    S.LOCKED: N_("Locked (assessment)"),
}


def allowed(state: AssessmentState, actor: Actor | None = None) -> list[str]:
    """The actions the table allows from ``state`` (and, given an actor, that the actor may take)."""
    return [a for (s, a) in TRANSITIONS if s == state and (actor is None or actor.can(PERMISSION[a]))]


def target(state: AssessmentState, action: str, actor: Actor) -> AssessmentState:
    """The state ``action`` leads to from ``state``; refused when the table or the actor's permission says no."""
    to = TRANSITIONS.get((state, action))
    if to is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not allowed when the assessment is %(state)s"),
            allowed=allowed(state),
            current_state=str(state),
            action=ACTION_LABELS.get(action, action),
            state=STATE_LABELS[state],
        )
    if not actor.can(PERMISSION[action]):
        raise ActionForbidden(
            N_("You may not take this step: %(action)s"),
            allowed=allowed(state, actor),
            current_state=str(state),
            action=ACTION_LABELS[action],
        )
    return to
