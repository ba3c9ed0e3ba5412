"""The home page is the person's work: their queues with counts, overdue first, each linking to the
filtered list; permission-scoped; counted with one grouped query per domain."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from countyos.cases.lifecycle import Action
from countyos.cases.models import Case, Priority
from tests.cases.test_lifecycle import act, report
from tests.factories import login

pytestmark = pytest.mark.usefixtures("fake_geo")


def _now():
    return datetime.now(ZoneInfo("Asia/Shanghai"))


def _queue(text: str, key: str) -> tuple[int, str]:
    m = re.search(rf'data-queue="{key}">\s*<a href="([^"]+)">\s*<span class="work-count" data-count="(\d+)"', text)
    assert m, key
    return int(m.group(2)), m.group(1)


def _registered(db, world, **kw):
    now = _now()
    cid, _ = report(db, world, at=now, **kw)
    act(db, world.intake, cid, Action.ACCEPT, now)
    act(db, world.shift, cid, Action.REGISTER, now)
    return cid


def test_dispatcher_sees_cases_to_dispatch_with_overdue_first(client, db, world):
    a, b = _registered(db, world), _registered(db, world)
    report(db, world, at=_now())  # to accept: not the dispatcher's queue
    with db.unit_of_work() as s:
        s.get(Case, a).step_deadline = datetime.now(ZoneInfo("UTC")) - timedelta(hours=1)
        s.get(Case, b).priority = Priority.URGENT
    login(client, world.dispatcher)
    page = client.get("/")
    assert page.status_code == 200
    n, url = _queue(page.text, "dispatch")
    assert (n, url) == (2, "/cases?queue=registered")
    assert 'data-overdue="1"' in page.text and 'data-urgent="1"' in page.text
    assert 'data-queue="accept"' not in page.text  # the intake's queue is not the dispatcher's
    # overdue queues come first
    keys = re.findall(r'data-queue="([a-z_]+)"', page.text)
    assert keys[0] == "dispatch"
    # the linked list shows the same cases
    listed = client.get(url).text
    assert f'data-case="{a}"' in listed and f'data-case="{b}"' in listed


def test_handler_sees_only_the_departments_cases(client, db, world):
    a = _registered(db, world)
    act(db, world.dispatcher, a, Action.DISPATCH, _now())
    login(client, world.handler2)  # 执法局: not the department of a manhole
    n, _ = _queue(client.get("/").text, "sign")
    assert n == 0
    client.cookies.clear()
    login(client, world.handler)  # 住建局
    n, url = _queue(client.get("/").text, "sign")
    assert (n, url) == (1, "/cases/inbox")


def test_intake_sees_reports_to_accept_and_unread_messages(client, db, world):
    report(db, world, at=_now())
    login(client, world.intake)
    text = client.get("/").text
    assert _queue(text, "accept")[0] == 1
    assert _queue(text, "messages")[1] == "/cases/notifications"
    assert 'data-queue="dispatch"' not in text


def test_inspector_sees_the_check_tasks_given_to_them(client, db, world):
    now = _now()
    cid = _registered(db, world)
    act(db, world.dispatcher, cid, Action.DISPATCH, now)
    act(db, world.handler, cid, Action.SIGN, now)
    act(db, world.handler, cid, Action.FEEDBACK, now)
    act(db, world.intake, cid, Action.SEND_CHECK, now, assignee_id=world.inspector.id)
    login(client, world.inspector)
    assert _queue(client.get("/").text, "check") == (1, "/m/tasks")


def test_counts_take_one_query_per_domain(client, db, world):
    for _ in range(3):
        _registered(db, world)
    login(client, world.shift)  # shift leader: intake, register, dispatch, close, supervise
    client.get("/")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "case_case" in statement:
            statements.append(statement)

    # the test's shared connection (tests/harness.py), or the engine of a committed test
    engine = getattr(getattr(db.engine, "_shared", None), "conn", db.engine)
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert _queue(page.text, "dispatch")[0] == 3
    assert len(statements) == 1, statements
