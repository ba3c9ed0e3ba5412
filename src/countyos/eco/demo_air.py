"""The demo county's air part: the sensing demo's air-station devices (three, with three weeks of
history, one with a haze episode every nine days) become a national, a provincial and a county
station; their hourly and daily indices are computed over the history, so the monitoring view is full
and the haze hours above AQI 100 have raised their alarms and opened their cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.eco.models.air import StationKind
from countyos.eco.schemas.air import StationIn
from countyos.eco.service import air, air_compute

HISTORY_DAYS = 21  # the sensing demo's history
KINDS = (StationKind.NATIONAL, StationKind.PROVINCIAL, StationKind.COUNTY)


def load(session: Session, ctx: Any) -> None:
    actor = Actor(id=None, name="demo")
    things = air.air_devices(session)
    if not things:
        return
    now = utcnow()
    totals = air_compute.Computed(0, 0, 0)
    for n, thing in enumerate(sorted(things, key=lambda t: t.device_key or ""), start=1):
        station = air.create(
            session,
            actor=actor,
            data=StationIn(
                code=f"AQ-{n:02d}",
                name=thing.name,
                thing_id=thing.id,
                kind=KINDS[(n - 1) % len(KINDS)],
                place=thing.name.removesuffix(f"{n:02d}"),
            ),
        )
        done = air_compute.compute_station(
            session, station=station, start=now - timedelta(days=HISTORY_DAYS), end=now, now=now
        )
        totals = air_compute.Computed(
            totals.hours + done.hours, totals.days + done.days, totals.exceedances + done.exceedances
        )
    ctx.notes.append(
        f"Ecology (air): {len(things)} stations, {totals.hours} hourly and {totals.days} daily AQI values "
        f"(HJ 633-2012), {totals.exceedances} exceedance alarms with their cases (/eco/monitor)."
    )
