"""The data domain's part of the home page: the bureau's entries awaiting review, a department's entries
sent back to it, and its published resources gone stale against their update cycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.data.lifecycle import State
from countyos.data.models import Resource, ShareRequest
from countyos.data.service import catalogue, overview

DATA = N_("Data sharing and open data")  # the section, as the data pages' navigation group


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    out = []
    if actor.can(catalogue.REVIEW):
        n = session.scalar(
            select(func.count(Resource.id)).where(Resource.state.in_((State.IN_REVIEW, State.REVOKE_REVIEW)))
        )
        out.append(WorkQueue("data_review", DATA, N_("Catalogue entries to review"), "/data/resources?state=in_review",
                             n or 0, order=90))  # fmt: skip
    if actor.can(catalogue.MANAGE) and actor.department_id is not None:
        stale = overview.stale_ids(session, now=now, provider_id=actor.department_id)
        out.append(WorkQueue("data_stale", DATA, N_("Our resources past their update cycle"),
                             f"/data/resources?provider_id={actor.department_id}&stale=1", len(stale),
                             overdue=len(stale), order=91))  # fmt: skip
        pending = session.scalar(
            select(func.count(ShareRequest.id))
            .join(Resource, Resource.id == ShareRequest.resource_id)
            .where(Resource.provider_id == actor.department_id, ShareRequest.state == "pending")
        )
        out.append(WorkQueue("data_requests", DATA, N_("Requests for our data to decide"), "/data/sharing",
                             pending or 0, order=92))  # fmt: skip
    return out
