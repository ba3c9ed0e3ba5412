"""CountyOS's own records, published as live resources: each source is a function of the domain that owns
the records (its ``service/opendata.py``), which decides what may leave — aggregates, or records
without personal fields. A connector of kind ``countyos`` names a source here; each run loads what the
source returns now, so the resource follows the records on the connector's schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from countyos.cases.service import opendata as cases_open
from countyos.core.i18n import N_
from countyos.geo.service import opendata as geo_open
from countyos.sensing.service import opendata as sensing_open

MAX_ROWS = 1_000_000
Rows = tuple[tuple[str, ...], Iterator[list[str]]]
Source = Callable[[Session, datetime], Rows]

AIR = ("PM2.5", "PM10", "AQI", "pm25", "pm10", "aqi", "空气质量指数", "细颗粒物", "可吸入颗粒物")
SOURCES: dict[str, Source] = {
    "cases.monthly": lambda s, now: cases_open.monthly(s, since=now - timedelta(days=731)),
    "sensing.hourly": lambda s, now: sensing_open.hourly(s, since=now - timedelta(days=31), limit=MAX_ROWS),
    "sensing.air_hourly": lambda s, now: sensing_open.hourly(
        s,
        since=now - timedelta(days=31),
        limit=MAX_ROWS,
        property_names=AIR,
    ),
    "geo.components": lambda s, now: geo_open.components(s, limit=MAX_ROWS),
    "geo.grids": lambda s, now: geo_open.grids(s, limit=MAX_ROWS),
}

NAMES = {
    "cases.monthly": N_("Cases per month, category and township"),
    "sensing.hourly": N_("Hourly means of every monitoring station"),
    "sensing.air_hourly": N_("Hourly air quality"),
    "geo.components": N_("Management components and their positions"),
    "geo.grids": N_("Unit grids"),
}


def rows(session: Session, key: str, now: datetime) -> Rows:
    source = SOURCES.get(key)
    if source is None:
        raise KeyError(key)
    return source(session, now)
