"""Scheduled work of the sensing domain (run by ``countyos serve`` or ``countyos worker``)."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.sensing.service import retention


def prune(db: Database) -> object:
    return retention.prune(db)


def partitions(db: Database) -> object:
    return retention.keep_partitions_ahead(db)


def disk_stats(db: Database) -> object:
    with db.unit_of_work() as s:
        return retention.refresh_stats(s)


def health(db: Database) -> object:
    from countyos.sensing import flows

    with db.unit_of_work() as s:
        return flows.health_sweep(s)


JOBS = [
    Job("sensing.health", 30, health),
    Job("sensing.retention", 600, prune),
    Job("sensing.partitions", 6 * 3600, partitions),
    Job("sensing.disk_stats", 1800, disk_stats),
]


def mqtt_bridge(db: Database) -> object:
    """Keep the MQTT bridge running in the process that runs the jobs (``countyos worker``)."""
    from countyos.core.settings import get_settings
    from countyos.sensing import bridge

    settings = get_settings()
    if settings.mqtt_url:
        return bridge.ensure_running(db, settings.mqtt_url, public_url=settings.public_url).stats
    return None


JOBS.append(Job("sensing.mqtt_bridge", 10, mqtt_bridge))
