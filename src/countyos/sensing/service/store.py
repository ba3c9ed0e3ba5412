"""The write path of observations: one function that every ingest channel ends in.

:func:`store` takes validated (datastream, time, value) triples and, in the caller's transaction,

1. drops repeats inside the batch and observations already stored (idempotent on datastream +
   phenomenon time: a device that retries never makes a duplicate);
2. inserts the new rows with one ``executemany`` (raw DBAPI; the ORM would cost 3.5× here);
3. merges the batch's aggregates into the rollups (numpy, no per-row Python);
4. moves each datastream's latest value forward and counts its raw rows.

Observations older than a datastream's latest value are checked against the table (one range query
per datastream); newer ones cannot exist yet, so the common case costs no read. If a concurrent
writer on PostgreSQL stored the same observation between that check and the insert, the insert skips
it (``ON CONFLICT DO NOTHING``), the skipped ids are found, and the rollups stay exact. A batch of
one observation is one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (no read first).

Shared rows last. The rollup buckets and the latest value of a datastream are rows that every writer
of that datastream updates; on PostgreSQL a writer holds their locks until it commits, so concurrent
batches queue on them for whatever their transactions still do after step 3. With
``defer_shared=True`` steps 3 and 4 are only noted on the session, and :func:`settle` applies every
batch noted in the transaction at once, as the last writes before the commit: one upsert per rollup
level and one of the latest values, in a fixed order (minute, hour, day, latest; each by datastream
and bucket), so two writers of the same datastreams never wait for each other in a cycle and the
locks are held only for the commit. A ``before_commit`` hook settles what a caller left, so nothing
noted is ever lost; a rollback forgets it with the rows.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from countyos.sensing.service import rollups
from countyos.sensing.service.times import now_us


@dataclass
class Stored:
    """What a batch did: ``ids[i]`` is the new observation id of input row i, or -1 when row i was
    already stored (a retry) or repeated inside the batch."""

    ids: NDArray[np.int64]
    datastream_ids: NDArray[np.int64]
    times: NDArray[np.int64]
    values: NDArray[np.float64]
    inserted: int = 0
    duplicates: int = 0
    touched: list[int] = field(default_factory=list)  # datastreams that got new rows

    def new_rows(self) -> list[tuple[int, int, int, float]]:
        """(observation id, datastream, time µs, value) of the rows inserted, in input order."""
        mask = self.ids >= 0
        return list(
            zip(
                self.ids[mask].tolist(),
                self.datastream_ids[mask].tolist(),
                self.times[mask].tolist(),
                self.values[mask].tolist(),
                strict=True,
            )
        )


def _ph(dialect: str, n: int) -> str:
    return ", ".join(["?" if dialect == "sqlite" else "%s"] * n)


def allocate_ids(session: Session, n: int) -> NDArray[np.int64]:
    """``n`` new observation ids from the sequence (PostgreSQL)."""
    conn = session.connection()
    ids = (
        conn.exec_driver_sql("SELECT nextval('sensing_observation_id_seq') FROM generate_series(1, %s)", (n,))
        .scalars()
        .all()
    )
    return np.sort(np.asarray(ids, dtype=np.int64))


def _existing(session: Session, ds: int, lo: int, hi: int) -> set[int]:
    rows = session.execute(
        text(
            "SELECT phenomenon_us FROM sensing_observation WHERE datastream_id = :ds "
            "AND phenomenon_us >= :lo AND phenomenon_us <= :hi"
        ),
        {"ds": ds, "lo": lo, "hi": hi},
    ).scalars()
    return set(rows)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building 10^4–10^5 row tuples triggers the cyclic GC over and over while nothing cyclic is
    made; pausing it for the batch halves the Python time of a large batch."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def store(
    session: Session,
    datastream_ids: NDArray[np.int64] | list[int],
    times: NDArray[np.int64] | list[int],
    values: NDArray[np.float64] | list[float],
    *,
    reported_us: int | None = None,
    foi_ids: list[int | None] | None = None,
    defer_shared: bool = False,
) -> Stored:
    """Store a batch; ``foi_ids[i]`` is row i's feature of interest (None: its datastream's default).
    With ``defer_shared`` the rollups and latest values wait for :func:`settle` (see above)."""
    ds = np.asarray(datastream_ids, dtype=np.int64)
    t = np.asarray(times, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    n = len(t)
    ids = np.full(n, -1, dtype=np.int64)
    out = Stored(ids, ds, t, v)
    if n == 0:
        return out
    conn = session.connection()
    dialect = conn.dialect.name
    reported_us = reported_us or now_us()
    with_foi = foi_ids is not None and any(f is not None for f in foi_ids)
    if n == 1:
        return _store_one(session, out, foi_ids[0] if with_foi and foi_ids else None, reported_us, defer_shared)

    # Sort by (datastream, time); within the batch the first of equal keys wins.
    order = np.lexsort((np.arange(n), t, ds))
    sds, st = ds[order], t[order]
    keep = np.ones(n, dtype=bool)
    keep[1:] = (sds[1:] != sds[:-1]) | (st[1:] != st[:-1])

    uniq = np.unique(sds)
    latest: dict[int, int] = dict(
        conn.exec_driver_sql(
            "SELECT datastream_id, phenomenon_us FROM sensing_latest "
            f"WHERE datastream_id IN ({_ph(dialect, len(uniq))})",
            tuple(uniq.tolist()),
        ).all()
    )
    if latest:
        lt = np.array([latest.get(d, -1) for d in uniq.tolist()], dtype=np.int64)
        row_latest = lt[np.searchsorted(uniq, sds)]
        maybe_old = keep & (st <= row_latest)
        if maybe_old.any():
            for d in np.unique(sds[maybe_old]).tolist():
                sel = maybe_old & (sds == d)
                have = _existing(session, d, int(st[sel].min()), int(st[sel].max()))
                if have:
                    idx = np.flatnonzero(sel)
                    dup = np.fromiter((x in have for x in st[idx].tolist()), dtype=bool, count=len(idx))
                    keep[idx[dup]] = False
    new_pos = order[keep]
    m = len(new_pos)
    out.duplicates = n - m
    if m == 0:
        return out
    nds, nt, nv = ds[new_pos], t[new_pos], v[new_pos]
    finite = np.isfinite(nv)
    results: list[float | None] = nv.tolist()
    if not finite.all():
        results = [x if ok else None for x, ok in zip(results, finite.tolist(), strict=True)]
    cols: list[list[Any]] = [nds.tolist(), nt.tolist(), results]
    names = "datastream_id, phenomenon_us, result"
    if with_foi:
        assert foi_ids is not None
        cols.append([foi_ids[i] for i in new_pos.tolist()])
        names += ", foi_id"
    if dialect == "sqlite":
        # Writers are exclusive and repeats were removed above, so a plain INSERT cannot conflict and
        # SQLite numbers the rows consecutively after the current maximum (no id column to send).
        conn.exec_driver_sql(
            f"INSERT INTO sensing_observation ({names}) VALUES ({_ph(dialect, len(cols))})",
            list(zip(*cols, strict=True)),
        )
        top = int(conn.exec_driver_sql("SELECT MAX(id) FROM sensing_observation").scalar() or 0)
        new_ids = np.arange(top - m + 1, top + 1, dtype=np.int64)
    else:
        new_ids = allocate_ids(session, m)
        cur = conn.exec_driver_sql(
            f"INSERT INTO sensing_observation (id, {names}) VALUES ({_ph(dialect, len(cols) + 1)}) "
            "ON CONFLICT DO NOTHING",
            list(zip(new_ids.tolist(), *cols, strict=True)),
        )
        if cur.rowcount is not None and 0 <= cur.rowcount < m:
            # A concurrent writer stored some of these first: keep only the rows that are ours.
            lo, hi = int(new_ids[0]), int(new_ids[-1])
            mine = set(
                session.execute(
                    text("SELECT id FROM sensing_observation WHERE id >= :lo AND id <= :hi"), {"lo": lo, "hi": hi}
                ).scalars()
            )
            ok = np.fromiter((i in mine for i in new_ids.tolist()), dtype=bool, count=m)
            new_pos, new_ids, nds, nt, nv, finite = (a[ok] for a in (new_pos, new_ids, nds, nt, nv, finite))
            m = len(new_pos)
            out.duplicates = n - m
    ids[new_pos] = new_ids
    out.inserted = m
    if m == 0:
        return out
    out.touched = np.unique(nds).tolist()
    _shared(session, nds, nt, nv, new_ids, reported_us, defer_shared)
    return out


def _store_one(session: Session, out: Stored, foi_id: int | None, reported_us: int, defer: bool) -> Stored:
    """One observation: the unique key decides whether it is new, in the INSERT itself."""
    conn = session.connection()
    ph = _ph(conn.dialect.name, 4)
    value = float(out.values[0])
    row = conn.exec_driver_sql(
        f"INSERT INTO sensing_observation (datastream_id, phenomenon_us, result, foi_id) VALUES ({ph}) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (int(out.datastream_ids[0]), int(out.times[0]), value if np.isfinite(value) else None, foi_id),
    ).first()
    if row is None:
        out.duplicates = 1
        return out
    out.ids[0] = int(row[0])
    out.inserted = 1
    out.touched = [int(out.datastream_ids[0])]
    _shared(session, out.datastream_ids, out.times, out.values, out.ids.copy(), reported_us, defer)
    return out


# --- the shared rows: rollups and latest values --------------------------------------------------

_PENDING = "sensing_pending_shared"
_Rows = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], int]


def _shared(
    session: Session,
    ds: NDArray[np.int64],
    t: NDArray[np.int64],
    v: NDArray[np.float64],
    ids: NDArray[np.int64],
    reported_us: int,
    defer: bool,
) -> None:
    if defer:
        session.info.setdefault(_PENDING, []).append((ds, t, v, ids, reported_us))
    else:
        _apply_shared(session, [(ds, t, v, ids, reported_us)])


def pending(session: Session) -> bool:
    """Whether batches of this transaction still wait for :func:`settle`."""
    return bool(session.info.get(_PENDING))


def settle(session: Session) -> None:
    """Apply the rollups and latest values of every batch stored with ``defer_shared`` in this
    transaction: one statement per rollup level and one for the latest values, whatever the number
    of batches. Call it as the last write of the transaction (the commit does it otherwise)."""
    batches: list[_Rows] | None = session.info.pop(_PENDING, None)
    if batches:
        _apply_shared(session, batches)


def _apply_shared(session: Session, batches: list[_Rows]) -> None:
    if len(batches) == 1:
        ds, t, v, ids, reported_us = batches[0]
    else:
        ds, t, v, ids = (np.concatenate([b[k] for b in batches]) for k in range(4))
        reported_us = max(b[4] for b in batches)
    finite = np.isfinite(v)
    rollups.merge(session, rollups.aggregate(ds[finite], t[finite], v[finite]))
    _move_latest(session, session.connection().dialect.name, ds, t, v, ids, reported_us)


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        settle(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def _move_latest(
    session: Session,
    dialect: str,
    ds: NDArray[np.int64],
    t: NDArray[np.int64],
    v: NDArray[np.float64],
    ids: NDArray[np.int64],
    reported_us: int,
) -> None:
    order = np.lexsort((t, ds))
    sds = ds[order]
    last = np.append(np.flatnonzero(sds[1:] != sds[:-1]), len(sds) - 1)
    counts = np.diff(np.append(-1, last))
    pick = order[last]
    vals = [x if x == x and abs(x) != float("inf") else None for x in v[pick].tolist()]
    rows = list(
        zip(
            ds[pick].tolist(),
            t[pick].tolist(),
            vals,
            ids[pick].tolist(),
            [reported_us] * len(pick),
            [reported_us] * len(pick),
            counts.tolist(),
            strict=True,
        )
    )
    differs = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    greatest = "max" if dialect == "sqlite" else "GREATEST"
    newer = "excluded.phenomenon_us > sensing_latest.phenomenon_us"
    session.connection().exec_driver_sql(
        "INSERT INTO sensing_latest (datastream_id, phenomenon_us, result, observation_id, reported_us, changed_us, "
        f"raw_count) VALUES ({_ph(dialect, 7)}) ON CONFLICT (datastream_id) DO UPDATE SET "
        "raw_count = sensing_latest.raw_count + excluded.raw_count, "
        "reported_us = excluded.reported_us, "
        f"changed_us = CASE WHEN {newer} AND excluded.result {differs} sensing_latest.result "
        "THEN excluded.changed_us ELSE sensing_latest.changed_us END, "
        f"observation_id = CASE WHEN {newer} THEN excluded.observation_id ELSE sensing_latest.observation_id END, "
        f"result = CASE WHEN {newer} THEN excluded.result ELSE sensing_latest.result END, "
        f"phenomenon_us = {greatest}(sensing_latest.phenomenon_us, excluded.phenomenon_us)",
        rows,
    )


def refresh_latest(session: Session, *, datastream_ids: list[int]) -> None:
    """Point each datastream's latest value at its newest stored observation again, after observations
    were deleted or moved in time (``observation_id`` 0: no raw observation is left). Ingest never
    needs this: it only moves the latest value forward."""
    for ds in datastream_ids:
        row = session.execute(
            text(
                "SELECT id, phenomenon_us, result FROM sensing_observation WHERE datastream_id = :ds "
                "ORDER BY phenomenon_us DESC LIMIT 1"
            ),
            {"ds": ds},
        ).first()
        if row is None:
            session.execute(text("UPDATE sensing_latest SET observation_id = 0 WHERE datastream_id = :ds"), {"ds": ds})
            continue
        session.execute(
            text(
                "UPDATE sensing_latest SET observation_id = :id, phenomenon_us = :t, result = :v "
                "WHERE datastream_id = :ds"
            ),
            {"id": row[0], "t": row[1], "v": row[2], "ds": ds},
        )
