"""The programme domain's part of the home page: assessments waiting for the programme office's approval and
approved payment tables waiting for the finance role's lock, each opening its filtered list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.permissions import ASSESS, FINANCE

WAITING = {
    AssessmentState.COMPUTED: (ASSESS, N_("Assessments to approve"), "programme.to_approve"),
    AssessmentState.APPROVED: (FINANCE, N_("Payment tables to lock"), "programme.to_lock"),
}


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    wanted = [state for state, (perm, _, _) in WAITING.items() if actor.can(perm)]
    if not wanted:
        return []
    counts = dict(
        session.execute(
            select(Assessment.state, func.count()).where(Assessment.state.in_(wanted)).group_by(Assessment.state)
        ).all()
    )
    out = []
    for i, state in enumerate(wanted):
        _, label, key = WAITING[state]
        url = f"/programme/assessments?state={state}"
        out.append(WorkQueue(key, N_("Programme"), label, url, int(counts.get(state, 0)), order=900 + i))
    return out
