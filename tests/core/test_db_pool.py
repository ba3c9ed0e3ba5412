"""PostgreSQL connection pool: a rested connection is pinged when taken and replaced if the server
dropped it; a connection back in use at once is not pinged (no extra round trip per request); the
bounded reads' connections stop each statement at its time and cannot write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from countyos.core import db as dbmod
from tests.conftest import DATABASE_URL, IS_POSTGRES

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="the pool of a SQLite file has no server to lose")


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = dbmod.make_engine(DATABASE_URL, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = create_engine(DATABASE_URL, poolclass=NullPool)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_rested_connection_the_server_dropped_is_replaced(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend(engine)
    _terminate(first)
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # every connection has rested long enough
    assert _backend(engine) != first  # pinged, found dead, replaced: the caller sees no error


def test_a_busy_connection_is_not_pinged(engine: Engine) -> None:
    first = _backend(engine)
    _terminate(first)
    # taken again at once: no ping, so the dead connection is only found by the statement itself
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert _backend(engine) != first  # the pool dropped it; the next request gets a live one


def test_bounded_reads_stop_at_their_time_and_write_nothing() -> None:
    """``Database.reading_within`` on PostgreSQL: connections of their own, each statement stopped at
    the limit (no SET LOCAL needed), read-only, and no transaction left open between statements."""
    from sqlalchemy.exc import DBAPIError

    database = dbmod.Database(DATABASE_URL)
    try:
        with database.reading_within(0.2) as s:
            assert s.info["statement_timeout_ms"] == 200
            assert s.execute(text("SHOW statement_timeout")).scalar_one() == "200ms"
            assert s.execute(text("SELECT pg_sleep(0.01)")).all()  # within the limit
            with pytest.raises(OperationalError, match="statement timeout"):
                s.execute(text("SELECT pg_sleep(2)"))
            # autocommit: the failed statement left no aborted transaction behind
            assert s.execute(text("SELECT 1")).scalar_one() == 1
            assert s.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
            with pytest.raises(DBAPIError, match="read-only transaction"):
                s.execute(text("CREATE TEMPORARY TABLE bounded_reads_probe (a int)"))
        with database.reading_within(20) as s:  # another limit: another pool, the first one closed
            assert s.execute(text("SHOW statement_timeout")).scalar_one() == "20s"
    finally:
        database.dispose()
