"""Scheduled work of the partners part: write the sandbox keys' counted calls every minute."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.programme.service import partners_quota


def flush_usage(db: Database) -> int:
    """Add what this process counted since the last flush to ``programme_partner_key_usage``."""
    pending = partners_quota.take_pending()
    if not pending:
        return 0
    try:
        with db.unit_of_work() as s:
            return partners_quota.add_usage(s, pending=pending)
    except Exception:
        partners_quota.give_back(pending)
        raise


JOBS: list[Job] = [Job("programme.partners.usage_flush", 60.0, flush_usage)]
