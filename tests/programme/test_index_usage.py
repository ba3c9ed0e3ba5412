"""Who was active: counted once per person, day, module and role; stored by the flush, pruned after 400 days;
the active-users measure for the operations view."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from countyos.core.clock import county_today
from countyos.core.usage import COUNTER, UsageCounter
from countyos.ioc.jobs import flush_usage
from countyos.ioc.models import UsageUserDaily
from countyos.ioc.service import usage, usage_active
from tests.factories import department, login, person


def test_counter_keeps_each_person_once_per_day_module_and_role():
    c = UsageCounter()
    day = date(2026, 3, 2)
    for _ in range(5):
        c.add(day, "cases", ["dispatcher", "leader"], "view", 7)
    c.add(day, "cases", ["dispatcher"], "action", 7)
    c.add(day + timedelta(days=1), "cases", ["dispatcher"], "view", 7)
    c.add(day, "eco", ["inspector"], "api", 8)
    c.add(day, "eco", ["inspector"], "api")  # no person (counted, not seen)
    counts, seen = c.drain_all()
    assert counts[(day, "cases", "dispatcher", "view")] == 5
    assert seen == {
        (day, "cases", 7, "dispatcher"),
        (day, "cases", 7, "leader"),
        (day + timedelta(days=1), "cases", 7, "dispatcher"),
        (day, "eco", 8, "inspector"),
    }
    assert c.drain_all() == ({}, set())


def test_restore_puts_people_back():
    c = UsageCounter()
    c.add(date(2026, 3, 2), "geo", ["inspector"], "view", 3)
    counts, seen = c.drain_all()
    c.restore(counts, seen)
    assert c.drain_all() == (counts, seen)


def test_flush_stores_once_and_prunes_past_retention(db):
    COUNTER.drain_all()
    today = county_today()
    old = today - timedelta(days=usage.KEEP_ACTIVE_DAYS + 5)
    with db.unit_of_work() as s:
        usage.store_active(s, seen={(old, "eco", 1, "inspector"), (today - timedelta(days=10), "eco", 1, "inspector")})
    for _ in range(2):  # the same person twice: one row
        COUNTER.add(today, "eco", ["inspector"], "view", 42)
        flush_usage(db)
    with db.reading() as s:
        rows = s.execute(select(UsageUserDaily.day, UsageUserDaily.user_id).where(UsageUserDaily.module == "eco")).all()
    assert (today, 42) in rows and len([r for r in rows if r == (today, 42)]) == 1
    assert (old, 1) not in rows  # pruned
    assert (today - timedelta(days=10), 1) in rows  # kept


def test_signed_in_requests_record_the_person(client, db):
    COUNTER.drain_all()
    p = person(db, ["leader"])
    login(client, p)
    client.get("/programme/index")
    client.get("/programme/index")
    flush_usage(db)
    with db.reading() as s:
        n = s.scalar(
            select(func.count()).where(
                UsageUserDaily.user_id == p.id, UsageUserDaily.module == "programme", UsageUserDaily.role == "leader"
            )
        )
    assert n == 1


def test_active_users_count_and_rows(db):
    dep = department(db, "活跃测试局")
    a = person(db, ["inspector"], department_id=dep)
    b = person(db, ["dispatcher"])
    d0 = date(2025, 6, 2)
    with db.unit_of_work() as s:
        usage.store_active(
            s,
            seen={
                (d0, "cases", a.id, "inspector"),
                (d0 + timedelta(days=1), "cases", a.id, "inspector"),
                (d0 + timedelta(days=1), "m", a.id, "inspector"),
                (d0, "cases", b.id, "dispatcher"),
                (d0 + timedelta(days=30), "cases", b.id, "dispatcher"),  # outside
            },
        )
    with db.reading() as s:
        until = d0 + timedelta(days=6)
        assert usage_active.count(s, d0, until) == 2
        assert usage_active.count(s, d0, until, module="m") == 1
        assert usage_active.count(s, d0, until, module=["cases", "m"], role="dispatcher") == 1
        people = usage_active.rows(s, d0, until, ["cases", "m"])
    assert [p.user_id for p in people] == [a.id, b.id]  # most days first
    first = people[0]
    assert first.days == 2 and first.department == "活跃测试局" and first.roles == ("inspector",)
    assert first.display_name.startswith("测试")
    assert usage_active.describe(first).title == first.display_name
