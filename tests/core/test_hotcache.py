"""The hot cache never keeps a value older than the last write this process made to its tables."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from countyos.core.hotcache import HotCache
from countyos.org.models import Department
from tests.factories import department

CACHE: HotCache[str | None] = HotCache("test department names", tables=(Department.__tablename__,), ttl=60)


def _name(session, dep_id: int) -> str | None:
    return CACHE.get(
        session, ("name", dep_id), lambda: session.scalar(select(Department.name).where(Department.id == dep_id))
    )


@pytest.mark.committed  # a reader and a writer on connections of their own
def test_a_reader_in_an_old_snapshot_does_not_fill_the_cache_after_a_write(db):
    dep_id = department(db, "旧名称")
    CACHE.clear()
    with db.reading() as old:
        old.scalar(select(Department.id).where(Department.id == dep_id))  # the snapshot is taken here (SQLite)
        with db.unit_of_work() as w:
            w.get(Department, dep_id).name = "新名称"
        seen = _name(old, dep_id)  # its own snapshot: the old name on SQLite, the new one on PostgreSQL
        assert seen in ("旧名称", "新名称")
    with db.reading() as fresh:
        assert _name(fresh, dep_id) == "新名称"  # not the value the old snapshot read


def test_values_are_kept_between_writes(db):
    dep_id = department(db, "甲")
    CACHE.clear()
    calls: list[int] = []

    def load(session) -> str | None:
        calls.append(1)
        return session.scalar(select(Department.name).where(Department.id == dep_id))

    for _ in range(3):
        with db.reading() as s:
            assert CACHE.get(s, ("counted", dep_id), lambda s=s: load(s)) == "甲"
    assert len(calls) == 1
    with db.unit_of_work() as w:
        w.get(Department, dep_id).name = "乙"
    with db.reading() as s:
        assert CACHE.get(s, ("counted", dep_id), lambda: load(s)) == "乙"
    assert len(calls) == 2


def test_a_write_during_a_load_is_not_overwritten_by_the_loaded_value(db):
    dep_id = department(db, "一")
    CACHE.clear()
    loading, written = threading.Event(), threading.Event()

    def write() -> None:
        loading.wait(10)
        with db.unit_of_work() as w:
            w.get(Department, dep_id).name = "二"
        written.set()

    t = threading.Thread(target=write)
    t.start()
    with db.reading() as s:

        def slow_load() -> str | None:
            value = s.scalar(select(Department.name).where(Department.id == dep_id))
            loading.set()
            written.wait(10)
            return value

        assert CACHE.get(s, ("name", dep_id), slow_load) == "一"
    t.join()
    with db.reading() as s:
        assert _name(s, dep_id) == "二"
