"""Reads kept as SQL text (``sta.fast``): the second request of a shape is answered from the driver's
connection on the event loop, with the bytes the route answers, and sees every later write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event

from countyos.core import loopreads
from countyos.sensing.service.sta import fast
from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import STA, build

ROUTED = {"Cookie": "countyos_session=x"}  # the lane hands such a request to the route


@pytest.fixture
def world(client, db):
    fast.clear()
    yield build(client, machine(db))
    fast.clear()


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    yield seen
    event.remove(Engine, "before_cursor_execute", capture)


def _reads(w: Any) -> list[tuple[str, str]]:
    return [
        (f"Datastreams({w.level})/Observations", "$top=2&$orderby=phenomenonTime%20desc"),  # with a next page
        (f"Datastreams({w.level})/Observations", "$filter=result%20gt%201.2&$select=result,phenomenonTime"),
        (f"Things({w.gauge})/Datastreams({w.level})/Observations", "$top=3"),
        (f"Things({w.gauge})/Datastreams", ""),
        ("Things", "$orderby=name"),
        ("Locations", ""),
        ("Datastreams", "$select=name,unitOfMeasurement,observedArea"),
        ("Observations", "$top=4&$skip=1"),
    ]


def _key(app: Any, path: str, query: str) -> tuple[str, str, str, bytes]:
    found = fast.key_of(app.state.db.engine.dialect.name, f"http://testserver{STA}", path, query.encode())
    assert found is not None
    return found[0]


@pytest.mark.committed  # the loop reads on its own connection: it sees only what is committed
def test_the_second_request_of_a_shape_is_answered_as_the_route_answers_it(app, client, world, statements):
    for path, query in _reads(world):
        url = f"{STA}/{path}?{query}"
        first = client.get(url)
        assert first.status_code == 200, (path, query, first.text)
        assert isinstance(fast.lookup(_key(app, path, query)), fast.Kept), (path, query)
        statements.clear()
        second = client.get(url)
        assert statements == []  # not a statement through SQLAlchemy: the kept text ran on the driver
        routed = client.get(url, headers=ROUTED)
        assert (second.status_code, second.headers["content-type"]) == (200, "application/json")
        assert second.content == first.content == routed.content, (path, query)
    nav = client.get(f"{STA}/Datastreams({world.level})/Observations?$top=2&$orderby=phenomenonTime%20desc").json()
    assert "%24skip=2" in nav["@iot.nextLink"]  # the next page, as the route links it


@pytest.mark.committed
def test_other_ids_of_a_kept_shape_and_later_writes_are_read(app, client, db, world):
    query = "$top=1&$orderby=phenomenonTime%20desc"
    client.get(f"{STA}/Datastreams({world.level})/Observations?{query}")
    assert fast.lookup(_key(app, f"Datastreams({world.level})/Observations", query)) is not None
    empty = client.get(f"{STA}/Datastreams({world.battery})/Observations?{query}")  # the same shape
    assert empty.json() == {"value": []}
    r = client.post(
        f"{STA}/Datastreams({world.battery})/Observations",
        json={"phenomenonTime": "2026-05-02T00:00:00Z", "result": 87},
        headers=machine(db),
    )
    assert r.status_code == 201, r.text
    now = client.get(f"{STA}/Datastreams({world.battery})/Observations?{query}").json()
    assert [o["result"] for o in now["value"]] == [87]
    assert now == client.get(f"{STA}/Datastreams({world.battery})/Observations?{query}", headers=ROUTED).json()


@pytest.mark.committed
def test_reads_of_more_than_one_statement_are_not_kept(app, client, world):
    for path, query in [
        (f"Datastreams({world.level})/Observations", "$count=true"),
        ("Things", "$expand=Datastreams"),
        (f"Things({world.gauge})", ""),  # one entity: the route's read
    ]:
        assert client.get(f"{STA}/{path}?{query}").status_code == 200
        assert fast.lookup(_key(app, path, query)) is None, (path, query)


@pytest.mark.committed
def test_a_kept_read_too_long_for_the_loop_goes_back_to_the_threads(app, client, db, world):
    path, query = f"Datastreams({world.level})/Observations", "$top=5"
    first = client.get(f"{STA}/{path}?{query}")
    key = _key(app, path, query)
    assert fast.lookup(key) is not None
    reads = loopreads.of(app.state, app.state.db, seconds=5)
    if isinstance(reads, loopreads._SQLiteReads):
        reads.inline_s = -1.0  # every statement is past its time on the loop
    else:  # a kept statement that runs past the loop connections' statement_timeout
        assert isinstance(reads, loopreads._PostgresReads)
        reads.options = "-c statement_timeout=1 -c default_transaction_read_only=on"
        reads.idle.clear()
        kept = fast.lookup(key)
        assert kept is not None
        with fast._lock:
            fast._kept[key] = replace(kept, sql="SELECT pg_sleep(0.05)", params={}, slots=())
    again = client.get(f"{STA}/{path}?{query}")
    assert again.content == first.content  # answered in a thread after all
    assert fast.known(key) and fast.lookup(key) is None  # and read there from now on


def test_rows_that_differ_are_tried_again_a_few_times_then_left():
    """On PostgreSQL the kept text and SQLAlchemy's statement read separate snapshots: a write in
    between makes them differ once, so the shape is tried again; rows that always differ are left."""
    from sqlalchemy import BigInteger, bindparam, select
    from sqlalchemy.dialects import sqlite

    stmt = select(bindparam("sta_k0", 1, type_=BigInteger()).label("a"))
    key = ("sqlite", "http://x/sta/v1.1", "Things(#)", b"")
    fast.clear()

    def keep(driver_rows: list[tuple[int]]) -> bool:
        read = fast.Candidate(stmt, {"sta_k0": 1}, {"sta_k0": 0}, lambda rows: [], 1, "")
        return fast.keep(
            key, read, dialect=sqlite.dialect(), run=lambda sql, params: ([("a", None)], driver_rows), expected=[(1,)]
        )

    for _ in range(fast.ATTEMPTS - 1):
        assert not keep([(2,)])
        assert not fast.known(key)  # the next request of the shape tries again
    assert not keep([(2,)])
    assert fast.known(key) and fast.lookup(key) is None  # left to the full read from now on
    fast.clear()
    assert keep([(1,)])
    kept = fast.lookup(key)
    assert kept is not None and kept.bind([7]) == (7,)
    fast.clear()
