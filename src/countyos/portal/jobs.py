"""Scheduled work of the residents' portal: the followers of a report that closed are told (once each);
bookings not come to are recorded as no-shows; sign-in codes are deleted a day after they were made
(the day is what the rate limits count)."""

from __future__ import annotations

from datetime import timedelta

from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.portal.service import bookings, codes, follows


def purge_codes(db: Database) -> int:
    with db.unit_of_work() as s:
        return codes.purge(s, before=utcnow() - timedelta(days=1, minutes=5))


def tell_followers(db: Database) -> int:
    with db.unit_of_work() as s:
        return follows.tell_closed(s)


def mark_no_shows(db: Database) -> int:
    """Bookings still open 30 minutes after their slot ended become no-shows (each resident told)."""
    with db.unit_of_work() as s:
        return bookings.sweep_no_shows(s)


JOBS = [
    Job("portal.tell_followers", 60, tell_followers),
    Job("portal.booking_no_shows", 300, mark_no_shows),
    Job("portal.purge_codes", 3600, purge_codes),
]
