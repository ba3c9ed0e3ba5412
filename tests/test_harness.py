"""The test harness itself (``tests/harness.py``), on a database of its own: a test's changes vanish
after it, a unit of work inside it commits or rolls back alone, threads take turns on the one
connection, a connection of the test's own is refused, baselines are built once and copied."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from countyos.core import migrate
from countyos.core.db import Database
from countyos.org.models import Department, DepartmentKind
from tests.factories import department
from tests.harness import BOOTSTRAPPED, Baseline, Harness


@pytest.fixture(scope="module")
def harness_of_its_own(new_module_database: Callable[[], str]) -> Iterator[Harness]:
    url = new_module_database()
    migrate.upgrade(url)
    h = Harness(Database(url))
    yield h
    h.db.dispose()


def names(db: Database) -> list[str]:
    with db.reading() as s:
        return list(s.scalars(select(Department.name).order_by(Department.name)))


def test_changes_vanish_after_the_test_and_a_unit_of_work_inside_is_undone_alone(harness_of_its_own: Harness):
    h = harness_of_its_own
    with h.isolated(BOOTSTRAPPED) as db:
        department(db, "甲")  # a committed unit of work: a released savepoint
        with pytest.raises(RuntimeError), db.unit_of_work() as s:
            s.add(Department(name="乙", kind=DepartmentKind.DEPARTMENT))
            s.flush()
            raise RuntimeError("undone")
        assert names(db) == ["甲"]
        command_db = Database(h.db.url)  # what a command run inside the test makes: it joins the test
        assert names(command_db) == ["甲"]
        command_db.dispose()
        assert names(db) == ["甲"]
    assert names(h.db) == []


def test_threads_take_turns_on_the_one_connection(harness_of_its_own: Harness):
    with harness_of_its_own.isolated(BOOTSTRAPPED) as db:
        holding, release, second_began = threading.Event(), threading.Event(), threading.Event()
        order: list[str] = []

        def first() -> None:
            with db.reading() as s:
                s.execute(text("SELECT 1"))
                holding.set()
                assert release.wait(10)
                order.append("first ends")

        def second() -> None:
            assert holding.wait(10)
            with db.reading() as s:
                s.execute(text("SELECT 1"))
                order.append("second begins")
                second_began.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        assert holding.wait(10)
        assert not second_began.wait(0.3)  # waits for its turn
        release.set()
        for t in threads:
            t.join(10)
        assert order == ["first ends", "second begins"]


def test_a_connection_of_the_tests_own_may_read_but_not_write(harness_of_its_own: Harness):
    h = harness_of_its_own
    engine = create_engine(h.db.url, poolclass=NullPool)
    try:
        with h.isolated(BOOTSTRAPPED) as db:
            department(db, "己")
            with engine.connect() as conn:  # sees the committed baseline only
                assert conn.execute(select(Department.name)).all() == []
                with pytest.raises(RuntimeError, match=r"pytest\.mark\.committed"):
                    conn.execute(text("UPDATE org_department SET name = 'x'"))
        with engine.begin() as conn:  # outside a test it is the caller's business
            conn.execute(text("UPDATE org_department SET name = 'x'"))
    finally:
        engine.dispose()


def test_committed_mode_commits_and_the_next_test_starts_from_the_baseline_again(harness_of_its_own: Harness):
    h = harness_of_its_own
    with h.committed(BOOTSTRAPPED) as db:
        department(db, "丙")
    assert names(h.db) == ["丙"]
    assert h.current is None
    with h.isolated(BOOTSTRAPPED) as db:
        assert names(db) == []


def test_a_baseline_is_built_once_and_each_test_gets_a_copy_of_its_value(harness_of_its_own: Harness):
    h = harness_of_its_own
    builds: list[str] = []

    def build(db: Database, _built: dict) -> dict[str, int]:
        builds.append("丁")
        return {"department": department(db, "丁")}

    county = Baseline("a department", build)
    with h.isolated(county) as db:
        value = h.value(county, db=db)
        made = value["department"]
        value["department"] = -1
        assert names(db) == ["丁"]
    with h.isolated(BOOTSTRAPPED) as db:
        assert h.value(county, db=db) == {"department": made}  # switched: nothing had used the database yet
        assert names(db) == ["丁"]
    with h.isolated(BOOTSTRAPPED) as db:
        assert names(db) == []
    with h.isolated(BOOTSTRAPPED) as db:
        department(db, "戊")
        with pytest.raises(RuntimeError, match="ask for its fixture first"):
            h.value(county, db=db)
    assert builds == ["丁"]
