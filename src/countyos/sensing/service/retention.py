"""Retention as data: each datastream belongs to a retention class that says how many days of raw
observations, minute, hour and day rollups are kept. Pruning runs in the background in short
transactions (a few thousand rows each), so ingest never waits long behind it; on PostgreSQL whole
monthly partitions older than every class's raw period are dropped instead of deleted row by row.

Disk use per class is estimated from the raw row counts kept in ``sensing_latest`` and the measured
bytes per row of the observation table (``dbstat`` on SQLite, partition sizes on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, select, text
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.sensing.models import Datastream, MultiDatastream, Observation, ObservationExtra, RetentionClass
from countyos.sensing.service import devices
from countyos.sensing.service.rollups import MULTI_TABLE, TABLE
from countyos.sensing.service.times import DAY_US, now_us, to_us

BATCH = 5000
DEFAULT_CLASS = "standard"
PART_SCHEMA = "sensing_part"
FALLBACK_ROW_BYTES = 48.0  # a narrow row plus its two index entries, measured on SQLite


@dataclass
class PruneReport:
    raw: int = 0
    rollups: int = 0
    partitions_dropped: int = 0


def _class_streams(session: Session) -> dict[int, tuple[RetentionClass, list[int]]]:
    classes = {c.id: c for c in session.scalars(select(RetentionClass))}
    default = next((c for c in classes.values() if c.code == DEFAULT_CLASS), None)
    out: dict[int, tuple[RetentionClass, list[int]]] = {cid: (c, []) for cid, c in classes.items()}
    for ds_id, class_id in session.execute(select(Datastream.id, Datastream.retention_class_id)):
        c = classes.get(class_id) if class_id else default
        if c is not None:
            out[c.id][1].append(ds_id)
    return out


def prune_datastream(session: Session, *, datastream_id: int, before_us: int, limit: int = BATCH) -> int:
    """Delete up to ``limit`` raw observations of one datastream older than ``before_us``."""
    ids = (
        session.execute(
            text(
                "SELECT id FROM sensing_observation WHERE datastream_id = :ds AND phenomenon_us < :t "
                "ORDER BY phenomenon_us LIMIT :n"
            ),
            {"ds": datastream_id, "t": before_us, "n": limit},
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    lo, hi = min(ids), max(ids)
    deleted = session.execute(
        text(
            "DELETE FROM sensing_observation WHERE datastream_id = :ds AND phenomenon_us < :t "
            "AND id >= :lo AND id <= :hi"
        ),
        {"ds": datastream_id, "t": before_us, "lo": lo, "hi": hi},
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        text(
            "DELETE FROM sensing_observation_extra WHERE observation_id >= :lo AND observation_id <= :hi "
            "AND observation_id NOT IN (SELECT id FROM sensing_observation WHERE id >= :lo AND id <= :hi)"
        ),
        {"lo": lo, "hi": hi},
    )
    session.execute(
        text(
            "UPDATE sensing_latest SET raw_count = CASE WHEN raw_count > :n THEN raw_count - :n ELSE 0 END "
            "WHERE datastream_id = :ds"
        ),
        {"n": deleted, "ds": datastream_id},
    )
    session.execute(  # a device silent for longer than the raw period: its latest raw row is gone
        text(
            "UPDATE sensing_latest SET observation_id = 0 WHERE datastream_id = :ds AND phenomenon_us < :t "
            "AND NOT EXISTS (SELECT 1 FROM sensing_observation o WHERE o.id = sensing_latest.observation_id)"
        ),
        {"ds": datastream_id, "t": before_us},
    )
    return int(deleted)


def prune(db: Database, *, now: int | None = None, max_rows: int = 2_000_000) -> PruneReport:
    """Apply every class's periods; each batch is its own short transaction."""
    now = now or now_us()
    report = PruneReport()
    with db.unit_of_work() as s:  # a county that only uses the SensorThings API has the defaults too
        devices.ensure_retention_classes(s)
    if not db.is_sqlite:
        report.partitions_dropped = drop_old_partitions(db, now=now)
    with db.reading() as s:
        plan = [(c.raw_days, c.minute_days, c.hour_days, c.day_days, ids) for c, ids in _class_streams(s).values()]
    for raw_days, minute_days, hour_days, day_days, ids in plan:
        for ds in ids:
            while report.raw < max_rows:
                with db.unit_of_work() as s:
                    n = prune_datastream(s, datastream_id=ds, before_us=now - raw_days * DAY_US)
                report.raw += n
                if n < BATCH:
                    break
        with db.unit_of_work() as s:
            for level, days in (("minute", minute_days), ("hour", hour_days), ("day", day_days)):
                if days is None or not ids:
                    continue
                for ds in ids:
                    r = s.execute(
                        text(f"DELETE FROM {TABLE[level]} WHERE datastream_id = :ds AND bucket_us < :t"),
                        {"ds": ds, "t": now - days * DAY_US},
                    )
                    report.rollups += r.rowcount or 0  # type: ignore[attr-defined]
    _prune_multi(db, now=now, report=report)
    return report


def _prune_multi(db: Database, *, now: int, report: PruneReport) -> None:
    """MultiDatastreams follow their class (or the default one) like datastreams: raw observations
    in short batches, then the component rollups past each level's period."""
    with db.reading() as s:
        periods = {
            c.id: (c.code, c.raw_days, c.minute_days, c.hour_days, c.day_days)
            for c in s.scalars(select(RetentionClass))
        }
        default = next((p for p in periods.values() if p[0] == DEFAULT_CLASS), None)
        plan = [
            (mds, periods.get(class_id) if class_id else default)
            for mds, class_id in s.execute(select(MultiDatastream.id, MultiDatastream.retention_class_id))
        ]
    for mds, c in plan:
        if c is None:
            continue
        _, raw_days, minute_days, hour_days, day_days = c
        while True:
            with db.unit_of_work() as s:
                ids = list(
                    s.scalars(
                        select(Observation.id)
                        .where(
                            Observation.multi_datastream_id == mds,
                            Observation.phenomenon_us < now - raw_days * DAY_US,
                        )
                        .limit(BATCH)
                    )
                )
                if ids:
                    s.execute(delete(ObservationExtra).where(ObservationExtra.observation_id.in_(ids)))
                    s.execute(delete(Observation).where(Observation.id.in_(ids)))
            report.raw += len(ids)
            if len(ids) < BATCH:
                break
        with db.unit_of_work() as s:
            for level, days in (("minute", minute_days), ("hour", hour_days), ("day", day_days)):
                if days is not None:
                    r = s.execute(
                        text(f"DELETE FROM {MULTI_TABLE[level]} WHERE multi_datastream_id = :m AND bucket_us < :t"),
                        {"m": mds, "t": now - days * DAY_US},
                    )
                    report.rollups += r.rowcount or 0  # type: ignore[attr-defined]


# --- PostgreSQL partitions -------------------------------------------------------------------------


def _month(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    return f"sensing_observation_y{start.year}m{start.month:02d}"


def partitions(session: Session) -> list[tuple[str, int, int]]:
    """(name, from µs, to µs) of the monthly partitions (PostgreSQL)."""
    rows = session.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = 'sensing_observation'"
        )
    ).all()
    out = []
    for name, bound in rows:
        if "FROM" not in bound:
            continue  # the default partition
        nums = [
            int(x)
            for x in bound.replace("(", " ").replace(")", " ").replace("'", " ").split()
            if x.lstrip("-").isdigit()
        ]
        out.append((name, nums[0], nums[1]))
    return sorted(out, key=lambda r: r[1])


def ensure_partitions(session: Session, *, start_us: int, end_us: int) -> list[str]:
    """Monthly partitions covering [start, end) (PostgreSQL; no-op on SQLite). Rows of those months
    that went to the default partition are moved into the new one."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    have = {name for name, _, _ in partitions(session)}
    made = []
    start = datetime.fromtimestamp(start_us / 1e6, UTC)
    y, m = start.year, start.month
    while to_us(_month(y, m)) < end_us:
        lo, hi = _month(y, m), _month(y, m + 1)
        name = partition_name(lo)
        if name not in have:
            a, b = to_us(lo), to_us(hi)
            full = f"{PART_SCHEMA}.{name}"
            session.execute(text(f"CREATE TABLE {full} (LIKE sensing_observation INCLUDING DEFAULTS)"))
            session.execute(
                text(
                    f"WITH moved AS (DELETE FROM {PART_SCHEMA}.sensing_observation_default "
                    f"WHERE phenomenon_us >= {a} AND phenomenon_us < {b} RETURNING *) "
                    f"INSERT INTO {full} SELECT * FROM moved"
                )
            )
            session.execute(
                text(f"ALTER TABLE sensing_observation ATTACH PARTITION {full} FOR VALUES FROM ({a}) TO ({b})")
            )
            made.append(name)
        y, m = lo.year, lo.month + 1
    return made


def drop_old_partitions(db: Database, *, now: int) -> int:
    """Drop monthly partitions whose whole month is older than every class's raw period."""
    with db.reading() as s:
        longest = max((c.raw_days for c in s.scalars(select(RetentionClass))), default=None)
        if longest is None:
            return 0
        cutoff = now - longest * DAY_US
        old = [(name, lo, hi) for name, lo, hi in partitions(s) if hi <= cutoff]
    dropped = 0
    for name, lo, hi in old:
        with db.unit_of_work() as s:
            s.execute(
                text(
                    "UPDATE sensing_latest SET raw_count = GREATEST(raw_count - c.n, 0) FROM ("
                    f"SELECT datastream_id, COUNT(*) AS n FROM {PART_SCHEMA}.{name} GROUP BY datastream_id) c "
                    "WHERE sensing_latest.datastream_id = c.datastream_id"
                )
            )
            s.execute(
                text("UPDATE sensing_latest SET observation_id = 0 WHERE phenomenon_us >= :lo AND phenomenon_us < :hi"),
                {"lo": lo, "hi": hi},
            )
            s.execute(text(f"ALTER TABLE sensing_observation DETACH PARTITION {PART_SCHEMA}.{name}"))
            s.execute(text(f"DROP TABLE {PART_SCHEMA}.{name}"))
        dropped += 1
        assert hi <= cutoff
    return dropped


def keep_partitions_ahead(db: Database, *, months: int = 3) -> list[str]:
    if db.is_sqlite:
        return []
    now = utcnow()
    start = _month(now.year, now.month)
    with db.unit_of_work() as s:
        return ensure_partitions(s, start_us=to_us(start), end_us=to_us(_month(now.year, now.month + months)))


# --- disk use --------------------------------------------------------------------------------------


def bytes_per_row(session: Session) -> float:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        size, rows = session.execute(
            text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0), COALESCE(SUM(GREATEST(c.reltuples, 0)), 0) "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE p.relname = 'sensing_observation'"
            )
        ).one()
    else:
        try:
            size = session.execute(
                text(
                    "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ('sensing_observation', "
                    "'uq_sensing_observation_stream_time', 'uq_sensing_observation_multi_time')"
                )
            ).scalar()
        except Exception:  # dbstat is a compile-time option of SQLite
            return FALLBACK_ROW_BYTES
        rows = session.execute(text("SELECT COALESCE(MAX(id), 0) FROM sensing_observation")).scalar()
        rows = min(rows or 0, session.execute(text("SELECT COUNT(*) FROM sensing_observation")).scalar() or 0)
    if not rows or not size:
        return FALLBACK_ROW_BYTES
    return float(size) / float(rows)


def refresh_stats(session: Session) -> dict[str, dict[str, int]]:
    """Rows and estimated bytes per class (raw and rollups), stored on the class rows."""
    per_row = bytes_per_row(session)
    out: dict[str, dict[str, int]] = {}
    for c, ids in _class_streams(session).values():
        if ids:
            raw = (
                session.execute(
                    text(
                        "SELECT COALESCE(SUM(raw_count), 0) FROM sensing_latest WHERE datastream_id IN :ids"
                    ).bindparams(_expanding()),
                    {"ids": ids},
                ).scalar()
                or 0
            )
            roll = 0
            for lv in TABLE:
                roll += int(
                    session.execute(
                        text(f"SELECT COUNT(*) FROM {TABLE[lv]} WHERE datastream_id IN :ids").bindparams(_expanding()),
                        {"ids": ids},
                    ).scalar()
                    or 0
                )
        else:
            raw = roll = 0
        stats = {
            "datastreams": len(ids),
            "raw_rows": int(raw),
            "raw_bytes": round(int(raw) * per_row),
            "rollup_rows": int(roll),
            "rollup_bytes": round(int(roll) * 64),
        }
        c.stats = stats
        c.stats_at = utcnow()
        out[c.code] = stats
    session.flush()
    return out


def _expanding() -> BindParameter[Any]:
    return bindparam("ids", expanding=True)
