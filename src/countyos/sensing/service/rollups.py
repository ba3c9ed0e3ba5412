"""Rollups per datastream at 1 minute, 1 hour and 1 day: count, min, max, sum (→ average), last.

Ingest aggregates each batch with numpy (no per-row Python work) and merges the buckets into the
rollup tables with one ``INSERT … ON CONFLICT DO UPDATE`` per level, so a rollup is always the exact
aggregate of the observations stored so far, whatever order they arrive in. Days are local days of
the county's time zone (Asia/Shanghai has no daylight saving; its offset is fixed).

Charts over any range read the coarsest level that still gives enough points (:func:`series`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.settings import get_settings
from countyos.sensing.models import Observation, ObservationExtra
from countyos.sensing.service.times import DAY_US, HOUR_US, MINUTE_US, US

LEVELS = ("minute", "hour", "day")
TABLE = {"minute": "sensing_rollup_minute", "hour": "sensing_rollup_hour", "day": "sensing_rollup_day"}
WIDTH = {"minute": MINUTE_US, "hour": HOUR_US, "day": DAY_US}

# (datastream_id, bucket_us, n, vmin, vmax, vsum, vlast, last_us)
RollupRow = tuple[int, int, int, float, float, float, float, int]


@lru_cache(maxsize=4)
def _offset_us(tz: str) -> int:
    off = utcnow().astimezone(ZoneInfo(tz)).utcoffset()
    return int(off.total_seconds()) * US if off else 0


def day_offset_us() -> int:
    """µs to add to UTC so that day buckets start at local midnight."""
    return _offset_us(get_settings().timezone)


def bucket_start(t_us: int, level: str) -> int:
    if level == "day":
        off = day_offset_us()
        return (t_us + off) // DAY_US * DAY_US - off
    return t_us - t_us % WIDTH[level]


def aggregate(
    ds_ids: NDArray[np.int64], times: NDArray[np.int64], values: NDArray[np.float64]
) -> dict[str, list[RollupRow]]:
    """Rollup rows of one batch for each level; the arrays need not be sorted."""
    out: dict[str, list[RollupRow]] = {}
    if len(times) == 0:
        return out
    order = np.lexsort((times, ds_ids))
    ds = ds_ids[order]
    t = times[order]
    v = values[order]
    off = day_offset_us()
    for level in LEVELS:
        width = WIDTH[level]
        bucket = (t + off) // width * width - off if level == "day" else t - t % width
        change = np.empty(len(t), dtype=bool)
        change[0] = True
        change[1:] = (ds[1:] != ds[:-1]) | (bucket[1:] != bucket[:-1])
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], len(t)) - 1
        n = np.diff(np.append(starts, len(t)))
        vmin = np.minimum.reduceat(v, starts)
        vmax = np.maximum.reduceat(v, starts)
        vsum = np.add.reduceat(v, starts)
        out[level] = list(
            zip(
                ds[starts].tolist(),
                bucket[starts].tolist(),
                n.tolist(),
                vmin.tolist(),
                vmax.tolist(),
                vsum.tolist(),
                v[ends].tolist(),
                t[ends].tolist(),
                strict=True,
            )
        )
    return out


def _upsert_sql(dialect: str, table: str) -> str:
    least, greatest = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")
    ph = ", ".join(["?"] * 8) if dialect == "sqlite" else ", ".join(["%s"] * 8)
    return (
        f"INSERT INTO {table} (datastream_id, bucket_us, n, vmin, vmax, vsum, vlast, last_us) VALUES ({ph}) "
        f"ON CONFLICT (datastream_id, bucket_us) DO UPDATE SET "
        f"n = {table}.n + excluded.n, "
        f"vmin = {least}({table}.vmin, excluded.vmin), "
        f"vmax = {greatest}({table}.vmax, excluded.vmax), "
        f"vsum = {table}.vsum + excluded.vsum, "
        f"vlast = CASE WHEN excluded.last_us >= {table}.last_us THEN excluded.vlast ELSE {table}.vlast END, "
        f"last_us = {greatest}({table}.last_us, excluded.last_us)"
    )


def merge(session: Session, rows: dict[str, list[RollupRow]]) -> None:
    """Add a batch's aggregates into the rollup tables."""
    conn = session.connection()
    dialect = conn.dialect.name
    for level, level_rows in rows.items():
        if level_rows:
            conn.exec_driver_sql(_upsert_sql(dialect, TABLE[level]), level_rows)


def rebuild(session: Session, *, datastream_id: int, start_us: int, end_us: int) -> None:
    """Recompute the rollups of one datastream over [start, end) from the raw observations (after a
    concurrent duplicate, or a deletion). Whole buckets at the edges are included."""
    for level in LEVELS:
        table = TABLE[level]
        lo = bucket_start(start_us, level)
        hi = bucket_start(end_us, level) + WIDTH[level]
        session.execute(
            text(f"DELETE FROM {table} WHERE datastream_id = :ds AND bucket_us >= :lo AND bucket_us < :hi"),
            {"ds": datastream_id, "lo": lo, "hi": hi},
        )
        rows = session.execute(
            text(
                "SELECT phenomenon_us, result FROM sensing_observation WHERE datastream_id = :ds "
                "AND phenomenon_us >= :lo AND phenomenon_us < :hi AND result IS NOT NULL"
            ),
            {"ds": datastream_id, "lo": lo, "hi": hi},
        ).all()
        if not rows:
            continue
        t = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        v = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        agg = aggregate(np.full(len(rows), datastream_id, dtype=np.int64), t, v)
        merge(session, {level: agg[level]})


@dataclass(frozen=True)
class Point:
    bucket_us: int
    n: int
    vmin: float | None
    vmax: float | None
    avg: float | None
    last: float | None


def choose_level(start_us: int, end_us: int, max_points: int = 2000) -> str:
    span = max(end_us - start_us, 1)
    for level in LEVELS:
        if span // WIDTH[level] <= max_points:
            return level
    return "day"


def series(
    session: Session, *, datastream_id: int, start_us: int, end_us: int, level: str | None = None
) -> tuple[str, list[Point]]:
    """Buckets of one datastream in [start, end) from the rollups (never the raw table)."""
    level = level or choose_level(start_us, end_us)
    if level not in TABLE:
        raise ValueError(level)
    rows = session.execute(
        text(
            f"SELECT bucket_us, n, vmin, vmax, vsum, vlast FROM {TABLE[level]} "
            "WHERE datastream_id = :ds AND bucket_us >= :lo AND bucket_us < :hi ORDER BY bucket_us"
        ),
        {"ds": datastream_id, "lo": bucket_start(start_us, level), "hi": end_us},
    ).all()
    return level, [
        Point(b, n, vmin, vmax, (vsum / n) if n and vsum is not None else None, vlast)
        for b, n, vmin, vmax, vsum, vlast in rows
    ]


# --- MultiDatastreams: the same rollups per component (position in the result array) ---------------

MULTI_TABLE = {level: f"sensing_rollup_multi_{level}" for level in LEVELS}
_COMPONENTS = 1024  # components of one MultiDatastream are numbered below this (a key packs both)


def _multi_upsert_sql(dialect: str, table: str) -> str:
    """The datastream upsert with (multi_datastream_id, component) as the key."""
    sql = _upsert_sql(dialect, table)
    extra = "?" if dialect == "sqlite" else "%s"
    return (
        sql.replace("(datastream_id, bucket_us, n,", "(multi_datastream_id, component, bucket_us, n,", 1)
        .replace("VALUES (", f"VALUES ({extra}, ", 1)
        .replace("ON CONFLICT (datastream_id, bucket_us)", "ON CONFLICT (multi_datastream_id, component, bucket_us)")
    )


def merge_multi(session: Session, *, multi_datastream_id: int, times: list[int], results: list[list[Any]]) -> None:
    """Add MultiDatastream observations (each result a list, one value per component) to the rollups;
    components that are not finite numbers (text, booleans, null) are left out."""
    keys, ts, vs = [], [], []
    for t, result in zip(times, results, strict=True):
        for c, v in enumerate(result[:_COMPONENTS]):
            if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
                keys.append(multi_datastream_id * _COMPONENTS + c)
                ts.append(t)
                vs.append(float(v))
    if not keys:
        return
    agg = aggregate(np.asarray(keys, dtype=np.int64), np.asarray(ts, dtype=np.int64), np.asarray(vs))
    conn = session.connection()
    for level, rows in agg.items():
        conn.exec_driver_sql(
            _multi_upsert_sql(conn.dialect.name, MULTI_TABLE[level]),
            [(k // _COMPONENTS, k % _COMPONENTS, *rest) for k, *rest in rows],
        )


def rebuild_multi(session: Session, *, multi_datastream_id: int, start_us: int, end_us: int) -> None:
    """Recompute a MultiDatastream's rollups over [start, end) from its observations (after deletes)."""
    lo_all = bucket_start(start_us, "day")
    hi_all = bucket_start(end_us, "day") + DAY_US
    for level in LEVELS:
        session.execute(
            text(
                f"DELETE FROM {MULTI_TABLE[level]} "
                "WHERE multi_datastream_id = :m AND bucket_us >= :lo AND bucket_us < :hi"
            ),
            {"m": multi_datastream_id, "lo": lo_all, "hi": hi_all},
        )
    rows = session.execute(
        select(Observation.phenomenon_us, ObservationExtra.result_json)
        .join(ObservationExtra, ObservationExtra.observation_id == Observation.id)
        .where(
            Observation.multi_datastream_id == multi_datastream_id,
            Observation.phenomenon_us >= lo_all,
            Observation.phenomenon_us < hi_all,
        )
    ).all()
    merge_multi(
        session,
        multi_datastream_id=multi_datastream_id,
        times=[r[0] for r in rows],
        results=[r[1] if isinstance(r[1], list) else [] for r in rows],
    )


def series_multi(
    session: Session, *, multi_datastream_id: int, component: int, start_us: int, end_us: int, level: str | None = None
) -> tuple[str, list[Point]]:
    """Buckets of one component of a MultiDatastream in [start, end) from its rollups."""
    level = level or choose_level(start_us, end_us)
    if level not in MULTI_TABLE:
        raise ValueError(level)
    rows = session.execute(
        text(
            f"SELECT bucket_us, n, vmin, vmax, vsum, vlast FROM {MULTI_TABLE[level]} WHERE multi_datastream_id = :m "
            "AND component = :c AND bucket_us >= :lo AND bucket_us < :hi ORDER BY bucket_us"
        ),
        {"m": multi_datastream_id, "c": component, "lo": bucket_start(start_us, level), "hi": end_us},
    ).all()
    return level, [
        Point(b, n, vmin, vmax, (vsum / n) if n and vsum is not None else None, vlast)
        for b, n, vmin, vmax, vsum, vlast in rows
    ]
