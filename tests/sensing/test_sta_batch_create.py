"""``CreateObservations`` (the dataArray extension) through the vectorised store path.

Each row is checked on its own and answered in order (a self link, or ``"error"``); the good rows
of the whole request are stored with one statement per table; the rollups and latest values, the
rows every writer of a datastream updates, are written last, once per request, in a fixed order;
concurrent batches to one datastream keep every count exact and do not wait for each other's whole
transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.sensing import flows
from countyos.sensing.service.sta.write import Writer
from countyos.sensing.service.times import iso, parse_iso
from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA, StaWorld, build

BASE = f"http://testserver{STA}"
T0 = parse_iso("2026-06-01T00:00:00Z")
WRITER = Actor(id=None, name="test")


@pytest.fixture
def auth(db: Database) -> dict[str, str]:
    return machine(db)


@pytest.fixture
def world(client, auth) -> StaWorld:
    return build(client, auth)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def on(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE)\b", statement):
            seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", on)
    yield seen
    event.remove(Engine, "before_cursor_execute", on)


def _rows(n: int, *, start_min: int = 0, step_s: int = 20) -> list[list[Any]]:
    return [[iso(T0 + (start_min * 60 + i * step_s) * 1_000_000), float(i % 17)] for i in range(n)]


def _group(ds: int, rows: list[list[Any]], components: list[str] | None = None) -> dict[str, Any]:
    return {"Datastream": {"@iot.id": ds}, "components": components or ["phenomenonTime", "result"], "dataArray": rows}


def test_each_row_is_answered_in_order_and_a_bad_row_does_not_sink_the_good_ones(client, auth, world: StaWorld):
    foi = client.post(
        f"{STA}/FeaturesOfInterest",
        json={
            "name": "catchment",
            "description": "",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [119.2, 28.6]},
        },
        headers=auth,
    ).json()["@iot.id"]
    stored_before = client.get(f"{STA}/Datastreams({world.level})/Observations?$top=1&$orderby=phenomenonTime").json()
    taken = stored_before["value"][0]["phenomenonTime"]  # the world's first observation
    comps = ["phenomenonTime", "result", "resultTime", "FeatureOfInterest/id"]
    body = [
        _group(
            world.level,
            [
                ["2026-06-01T00:00:00Z", 1.5, None, None],  # 0 good
                ["2026-06-01T08:01:00+08:00", 2, "2026-06-01T00:01:05Z", foi],  # 1 good, 00:01Z, extras
                ["2026-06-01T00:02:00", 3.5, None, None],  # 2 no zone
                ["2026-06-01T00:03:00Z", 4.5, None],  # 3 too short
                ["2026-06-01T00:00:00Z", 9.9, None, None],  # 4 repeats row 0
                [taken, 1.0, None, None],  # 5 stored already
                ["2026-06-01T00:06:00Z", 5.5, None, 999_999],  # 6 no such feature
                ["2026-06-01T00:07:00Z", None, None, None],  # 7 no result
                ["2099-01-01T00:00:00Z", 1.0, None, None],  # 8 in the future
                ["2026-06-01T00:09:00Z", "dry", None, foi],  # 9 good, a text result
                ["2026-06-01T00:10:00Z", 6.5, None, "x"],  # 10 not an id
                "not a row",  # 11
            ],
            comps,
        ),
        _group(999_999, [["2026-06-01T00:00:00Z", 1.0]]),  # 12 no such datastream
        _group(world.rainfall, [["2026-06-01T00:00:00Z", 0.5], ["2026-06-01T00:00:30Z", 0.0]]),  # 13, 14
    ]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=auth)
    assert r.status_code == 201, r.text
    links = r.json()
    good = [0, 1, 9, 13, 14]
    assert [i for i, link in enumerate(links) if link != "error"] == good
    assert len(links) == 15
    expected = {
        0: ("2026-06-01T00:00:00Z", 1.5, None),
        1: ("2026-06-01T00:01:00Z", 2.0, "2026-06-01T00:01:05Z"),
        9: ("2026-06-01T00:09:00Z", "dry", None),
        13: ("2026-06-01T00:00:00Z", 0.5, None),
        14: ("2026-06-01T00:00:30Z", 0.0, None),
    }
    for i in good:
        assert re.fullmatch(rf"{re.escape(BASE)}/Observations\(\d+\)", links[i])
        got = client.get(links[i].removeprefix("http://testserver")).json()
        assert (got["phenomenonTime"], got["result"], got["resultTime"]) == expected[i]
    level_foi = client.get(links[0].removeprefix("http://testserver") + "/FeatureOfInterest").json()["@iot.id"]
    assert level_foi != foi  # the datastream's default feature
    for i in (1, 9):
        assert client.get(links[i].removeprefix("http://testserver") + "/FeatureOfInterest").json()["@iot.id"] == foi
    # the rejected rows stored nothing: 6 observations of the world + 3 new ones
    count = client.get(f"{STA}/Datastreams({world.level})/Observations?$count=true&$top=0").json()["@iot.count"]
    assert count == 6 + 3


def _writes(statements: list[str]) -> list[str]:
    """The table each write statement writes, in order."""
    out = []
    for s in statements:
        m = re.match(r"(?:INSERT INTO|UPDATE) (\w+)", s)
        if m:
            out.append(m.group(1))
    return out


SHARED_LAST = [
    "sensing_rollup_minute",
    "sensing_rollup_hour",
    "sensing_rollup_day",
    "sensing_latest",
    "sensing_thing",
]


@pytest.mark.parametrize("n", [10, 2000])
def test_a_batch_is_one_statement_per_table_whatever_its_size(client, auth, world: StaWorld, db, statements, n):
    body = [_group(world.level, _rows(n)), _group(world.rainfall, _rows(n, start_min=1))]
    warm = [_group(world.level, []), _group(world.rainfall, [])]  # the ingest cache, after the world's writes
    assert client.post(f"{STA}/CreateObservations", json=warm, headers=auth).json() == []
    statements.clear()
    r = client.post(f"{STA}/CreateObservations", json=body, headers=auth)
    assert r.status_code == 201
    assert "error" not in r.json() and len(r.json()) == 2 * n
    # the observations in one statement, then the shared rows, once each, as the last writes
    assert _writes(statements) == ["sensing_observation", *SHARED_LAST]
    reads = [s for s in statements if s.startswith("SELECT")]
    # the latest times (which rows may repeat stored ones) and, on SQLite, the new ids; nothing per row
    assert len(reads) == 2, reads
    with db.engine.connect() as conn:
        counts = dict(
            conn.execute(
                text("SELECT datastream_id, raw_count FROM sensing_latest WHERE datastream_id IN (:a, :b)"),
                {"a": world.level, "b": world.rainfall},
            ).all()
        )
    assert counts == {world.level: 6 + n, world.rainfall: 3 + n}


def test_rollups_and_latest_values_stay_exact_across_batches(client, auth, world: StaWorld, db: Database):
    first = _rows(300, step_s=7)
    second = _rows(300, start_min=20, step_s=7) + first[:50]  # overlaps in time, and repeats 50 rows
    for rows in (first, second):
        r = client.post(f"{STA}/CreateObservations", json=[_group(world.rainfall, rows)], headers=auth)
        assert r.status_code == 201
    assert r.json().count("error") == 50
    with db.engine.connect() as conn:
        for level in ("minute", "hour", "day"):
            width = {"minute": 60, "hour": 3600, "day": 86400}[level]
            want = _recomputed(conn, world.rainfall, width, level)
            got = conn.execute(
                text(
                    f"SELECT bucket_us, n, vmin, vmax, vsum FROM sensing_rollup_{level} "
                    "WHERE datastream_id = :ds ORDER BY bucket_us"
                ),
                {"ds": world.rainfall},
            ).all()
            assert [tuple(r) for r in got] == want, level
        latest = conn.execute(
            text("SELECT phenomenon_us, result, raw_count FROM sensing_latest WHERE datastream_id = :ds"),
            {"ds": world.rainfall},
        ).one()
        newest = conn.execute(
            text(
                "SELECT phenomenon_us, result FROM sensing_observation WHERE datastream_id = :ds "
                "ORDER BY phenomenon_us DESC LIMIT 1"
            ),
            {"ds": world.rainfall},
        ).one()
        total = conn.execute(
            text("SELECT COUNT(*) FROM sensing_observation WHERE datastream_id = :ds"), {"ds": world.rainfall}
        ).scalar()
    assert tuple(latest) == (newest[0], newest[1], total)
    assert total == 3 + 300 + 300


def _recomputed(conn: Any, ds: int, width_s: int, level: str) -> list[tuple[Any, ...]]:
    from countyos.sensing.service import rollups

    rows = conn.execute(
        text("SELECT phenomenon_us, result FROM sensing_observation WHERE datastream_id = :ds AND result IS NOT NULL"),
        {"ds": ds},
    ).all()
    buckets: dict[int, list[float]] = {}
    for t, v in rows:
        buckets.setdefault(rollups.bucket_start(t, level), []).append(v)
    return [(b, len(vs), min(vs), max(vs), sum(vs)) for b, vs in sorted(buckets.items())]


def _batch(db: Database, ds: int, rows: list[list[Any]]) -> list[str]:
    with db.unit_of_work() as s:
        writer = Writer(s, WRITER)
        links = writer.create_observations([_group(ds, rows)], BASE)
        flows.after_sta_write(s, writer.created, writer.batches)
        return links


@pytest.mark.committed  # writers in threads, each in a transaction of its own
def test_concurrent_batches_to_one_datastream_keep_every_count(client, auth, db: Database):
    world = build(client, auth)
    threads, per = 6, 40
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for j in range(3):
                # every batch shares its minutes with the others; batch j of writer k repeats none of them
                rows = [[iso(T0 + ((i * threads + k) * 3 + j) * 1_000_000), float(k)] for i in range(per)]
                assert "error" not in _batch(db, world.rainfall, rows)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not errors, errors
    total = 3 + threads * per * 3
    with db.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT raw_count FROM sensing_latest WHERE datastream_id = :ds"), {"ds": world.rainfall}
            ).scalar()
            == total
        )
        for level in ("minute", "hour", "day"):
            n = conn.execute(
                text(f"SELECT SUM(n) FROM sensing_rollup_{level} WHERE datastream_id = :ds"), {"ds": world.rainfall}
            ).scalar()
            assert n == total, level


@pytest.mark.postgres_only  # SQLite has one writer at a time by design
@pytest.mark.committed
def test_a_batch_does_not_wait_for_another_writers_open_transaction(client, auth, db: Database):
    """A writer that stored its rows holds no lock on the shared rows until it settles them just
    before its commit, so another writer of the same datastream (same minute, hour and day buckets,
    same latest row, same device) goes through meanwhile."""
    world = build(client, auth)
    with db.unit_of_work() as s:
        writer = Writer(s, WRITER)
        assert "error" not in writer.create_observations([_group(world.rainfall, _rows(50))], BASE)
        done = threading.Event()
        failed: list[BaseException] = []

        def other() -> None:
            try:
                _batch(db, world.rainfall, _rows(50, start_min=0, step_s=1)[1::2])  # odd seconds: new rows
                done.set()
            except BaseException as exc:
                failed.append(exc)

        t = threading.Thread(target=other)
        t.start()
        assert done.wait(20), failed or "the other writer waited for this open transaction"
        t.join()
        flows.after_sta_write(s, writer.created, writer.batches)
    with db.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT raw_count FROM sensing_latest WHERE datastream_id = :ds"), {"ds": world.rainfall}
            ).scalar()
            == 3 + 50 + 25
        )
