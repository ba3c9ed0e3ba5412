"""Reads on the event loop (``core.loopreads``): read-only, bounded in time, and on PostgreSQL a few
connections kept between reads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from countyos.core import loopreads
from countyos.core.db import Database
from tests.loops import run_alone

SLOW_SQLITE = (
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) SELECT count(*) FROM n"
)


@pytest.fixture
def database(new_database):
    db = Database(new_database())
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (a integer)"))
        conn.execute(text("INSERT INTO probe VALUES (1), (2), (3)"))
    yield db
    db.dispose()


def _param(db: Database) -> str:
    return "?" if db.is_sqlite else "%(a)s"


def _value(db: Database, value: int) -> object:
    return (value,) if db.is_sqlite else {"a": value}


def test_a_read_answers_and_a_write_is_refused(database):
    reads = loopreads.of(SimpleNamespace(), database, seconds=5)
    assert reads is not None

    async def go() -> None:
        rows = await reads.rows(f"SELECT a FROM probe WHERE a >= {_param(database)} ORDER BY a", _value(database, 2))
        assert [tuple(r) for r in rows] == [(2,), (3,)]
        with pytest.raises(loopreads.LoopReadFailed, match=r"read-?only"):
            await reads.rows("INSERT INTO probe VALUES (4)", ())
        await reads.close()

    run_alone(go())
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 3


def test_a_read_past_its_time_is_handed_back(database):
    state = SimpleNamespace()
    reads = loopreads.of(state, database, seconds=0.1)
    assert reads is not None
    if database.is_sqlite:
        assert isinstance(reads, loopreads._SQLiteReads)
        reads.inline_s = 0.005  # what the loop may spend on one statement
        slow = SLOW_SQLITE
    else:
        slow = "SELECT pg_sleep(2)"

    async def go() -> None:
        with pytest.raises(loopreads.TooLongForTheLoop):
            await reads.rows(slow, ())
        # the connection is still good for the next read
        assert [tuple(r) for r in await reads.rows("SELECT count(*) FROM probe", ())] == [(3,)]
        await loopreads.close(state)

    run_alone(go())


def test_postgresql_keeps_a_few_connections_between_reads(database):
    if database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has one connection of the loop's own")
    reads = loopreads.of(SimpleNamespace(), database, seconds=5)

    async def go() -> set[int]:
        pids = set()
        for _ in range(5):
            (row,) = await reads.rows("SELECT pg_backend_pid()", ())
            pids.add(row[0])
        (timeout,) = await reads.rows("SHOW statement_timeout", ())
        assert timeout[0] == "5s"
        await reads.close()
        return pids

    assert len(run_alone(go())) == 1  # one after the other: the same connection each time


def test_a_database_held_by_the_test_harness_has_none(db):
    assert loopreads.of(SimpleNamespace(), db, seconds=5) is None
