"""Scheduled work of the data domain: ``run_connectors`` runs every connector that is due, each in its own
transaction (one department's failing system never holds back another's); ``index_loads`` makes the
search indexes of committed loads that have none yet (a big file loaded with ``countyos data load``
whose process ended before making them)."""

from __future__ import annotations

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.data.service import catalogue, connectors, loads

ACTOR = Actor(id=None, name="scheduler", permissions=frozenset({catalogue.MANAGE, catalogue.REVIEW}))


def run_connectors(db: Database) -> int:
    with db.reading() as s:
        due = connectors.due(s, now=utcnow())
    for cid in due:
        with db.unit_of_work() as s:
            connectors.run(s, actor=ACTOR, connector_id=cid)
    return len(due)


def index_loads(db: Database) -> int:
    with db.reading() as s:
        waiting = loads.unindexed(s)
    for load_id in waiting:
        with db.unit_of_work() as s:
            loads.make_indexes(s, actor=ACTOR, load_id=load_id)
    return len(waiting)


JOBS = [Job("data.run_connectors", 60, run_connectors), Job("data.index_loads", 30, index_loads)]
