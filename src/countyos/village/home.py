"""The village domain's part of the home page: a producer's open tasks (from alarms on their bases) and
orders waiting for them, and a buyer's deliveries waiting for 入市查验 — each opening its list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.village.models.market import Order, OrderState
from countyos.village.permissions import BUY, PRODUCE
from countyos.village.service import producers_tasks, scope

SECTION = N_("Agriculture")


def _orders(session: Any, *, column: Any, ids: list[int], state: OrderState) -> int:
    stmt = select(func.count()).select_from(Order).where(column.in_(ids), Order.state == state)
    return int(session.scalar(stmt) or 0)


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    if not (actor.can(PRODUCE) or actor.can(BUY)):
        return []
    ids = scope.entity_ids_of(session, actor)
    if not ids:
        return []
    out: list[WorkQueue] = []
    if actor.can(PRODUCE):
        tasks = producers_tasks.open_count(session, actor=actor)
        out.append(WorkQueue("village_tasks", SECTION, N_("Tasks on my bases"), "/village/my", tasks, order=610))
        placed = _orders(session, column=Order.seller_id, ids=ids, state=OrderState.PLACED)
        out.append(
            WorkQueue("village_orders_new", SECTION, N_("Orders to accept"), "/village/orders?state=placed", placed,
                      order=611)
        )  # fmt: skip
    if actor.can(BUY):
        arrived = _orders(session, column=Order.buyer_id, ids=ids, state=OrderState.DELIVERED)
        out.append(
            WorkQueue("village_orders_check", SECTION, N_("Deliveries to check on arrival"),
                      "/village/orders?state=delivered", arrived, order=612)
        )  # fmt: skip
    return out
