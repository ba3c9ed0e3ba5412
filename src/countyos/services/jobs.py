"""Scheduled work of the services domain.

``sweep_supervision`` is the 电子监察 pass (``service/supervision.sweep``): it raises, upgrades and
clears warnings by the rules in ``services_supervision_rule``; the unique (family, subject) key makes
it safe on several workers. Its messages are rows of the notification outbox; external channels are
sent after commit by ``cases.deliver_notifications``. ``lapse_corrections`` withdraws (视为撤回)
applications whose corrections did not come within the lapse rule's working days. The state-change
webhooks are delivered after commit and retried (``service/webhooks.JOBS``).
"""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.services.service import supervision, webhooks


def sweep_supervision(db: Database) -> dict[str, int]:
    with db.unit_of_work() as session:
        return supervision.sweep(session)


def lapse_corrections(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return supervision.lapse(session)


JOBS = [
    Job("services.sweep_supervision", 300, sweep_supervision),
    Job("services.lapse_corrections", 3600, lapse_corrections),
    *webhooks.JOBS,
]
