"""The safety part of the demonstration county: 防汛 and 地质灾害 plans on the river and rain gauges, warehouses,
teams and shelters, a past flood event with its tasks, reports and review, key places with a year of
inspections, cameras with their events, roads and parking lots."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from countyos.safety import demo_cameras, demo_events, demo_inspections, demo_plans, demo_reports, demo_traffic


def load(session: Session, ctx: Any) -> None:
    for part in (demo_plans, demo_events, demo_reports, demo_inspections, demo_cameras, demo_traffic):
        part.load(session, ctx)
