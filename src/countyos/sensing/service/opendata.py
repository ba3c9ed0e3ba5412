"""The sensing domain's records as the data catalogue publishes them live (``data/service/live.py``):
hourly means of each datastream (e.g. 空气质量小时数据) from the 1 h rollups — a station's readings, never
a device's credentials or raw messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.settings import get_settings
from countyos.sensing.models import Datastream, ObservedProperty, RollupHour, Thing

HOURLY_HEADERS = ("监测站点", "监测项目", "计量单位", "监测时段", "小时均值", "小时最小值", "小时最大值", "样本数")


def hourly(
    session: Session, *, since: datetime, property_names: tuple[str, ...] = (), limit: int
) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    """Hourly rollups since SINCE (of the observed properties named, or all), oldest first."""
    tz = ZoneInfo(get_settings().timezone)
    since_us = int(since.timestamp() * 1_000_000)
    stmt = (
        select(
            Thing.name,
            ObservedProperty.name,
            Datastream.unit_symbol,
            RollupHour.bucket_us,
            RollupHour.vsum,
            RollupHour.n,
            RollupHour.vmin,
            RollupHour.vmax,
        )
        .join(Datastream, Datastream.id == RollupHour.datastream_id)
        .join(Thing, Thing.id == Datastream.thing_id)
        .join(ObservedProperty, ObservedProperty.id == Datastream.observed_property_id)
        .where(RollupHour.bucket_us >= since_us)
        .order_by(RollupHour.bucket_us, Thing.name, ObservedProperty.name)
        .limit(limit)
    )
    if property_names:
        stmt = stmt.where(ObservedProperty.name.in_(property_names))

    def rows() -> Iterator[list[str]]:
        for thing, prop, unit, bucket, vsum, n, vmin, vmax in session.execute(stmt):
            at = datetime.fromtimestamp(bucket / 1_000_000, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")
            mean = "" if vsum is None or not n else f"{vsum / n:.3f}"
            low = "" if vmin is None else f"{vmin:.3f}"
            high = "" if vmax is None else f"{vmax:.3f}"
            yield [thing, prop, unit or "", at, mean, low, high, str(n)]

    return HOURLY_HEADERS, rows()
