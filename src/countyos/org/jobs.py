"""Scheduled work of the org domain."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.org.service import audit


def prune_audit(db: Database) -> int:
    with db.unit_of_work() as session:
        return audit.prune(session)


JOBS = [Job("org.audit_retention", 24 * 3600, prune_audit)]
