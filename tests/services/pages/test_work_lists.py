"""The department inbox (待办 / 已办, filters, search, due levels) and the supervision list's filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from countyos.core.clock import to_local
from countyos.services.lifecycle import Action
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests.factories import login
from tests.services.conftest import ADMIN, guide
from tests.services.work_world import T0, World, accepted, act, make_world, submit


@pytest.fixture
def world(db, shop) -> World:
    return make_world(db, shop)


def listed(text: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-application="(\d+)"', text)]


def test_the_inbox_lists_the_departments_todo_earliest_due_first_and_its_done(client, db, world) -> None:
    now = datetime.now(UTC)
    late = submit(db, world, name="张三", at=now - timedelta(days=31))
    act(db, world, late, "window", Action.ACCEPT, now - timedelta(days=30))  # long overdue
    soon = submit(db, world, name="李四", at=now - timedelta(hours=2))
    act(db, world, soon, "window", Action.ACCEPT, now - timedelta(hours=1))
    waiting = submit(db, world, name="王五")  # not accepted yet: at no step
    at_market = accepted(db, world, name="赵六")
    act(db, world, at_market, "centre", Action.PASS, T0 + timedelta(hours=1), opinion="同意")
    login(client, world.centre)
    page = client.get("/services/inbox")
    assert page.status_code == 200
    assert listed(page.text) == [late, soon]  # the earliest due first; nothing before acceptance or elsewhere
    assert waiting not in listed(page.text)
    assert 'id="count-todo">2<' in page.text and 'id="count-done">1<' in page.text
    rows = dict(re.findall(r'data-application="(\d+)">\s*<td[^>]*><span class="badge \w+ due-(\w+)"', page.text))
    assert rows == {str(late): "red", str(soon): "green"}
    done = client.get("/services/inbox", params={"tab": "done"})
    assert listed(done.text) == [at_market] and "同意" not in done.text.split("done-table")[0]
    assert f"测试{world.centre.username}" in done.text and "通过" in done.text
    # search by applicant name and by number prefix, filter by matter
    assert listed(client.get("/services/inbox", params={"q": "李四"}).text) == [soon]
    with db.reading() as s:
        number = s.get(apps.Application, late).number
    assert listed(client.get("/services/inbox", params={"q": number}).text) == [late]
    assert listed(client.get("/services/inbox", params={"q": "%"}).text) == []
    with db.unit_of_work() as s:
        other = catalogue.create(s, actor=ADMIN, data=guide(world.shop, code="B-2", name="食品小作坊登记"))
        catalogue.publish(s, actor=ADMIN, matter_id=other.id)
    assert listed(client.get("/services/inbox", params={"matter_id": other.id}).text) == []
    assert listed(client.get("/services/inbox", params={"matter_id": world.matter_id}).text) == [late, soon]
    assert client.get("/services/inbox", params={"offset": -1}).status_code == 422
    assert client.get("/services/inbox", params={"q": "x" * 51}).status_code == 422


def test_the_inbox_marks_yellow_and_red_by_the_clock(client, db, world) -> None:
    from countyos.services.service import work

    app_id = accepted(db, world)
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        assert app.due_at is not None
        assert str(work.level(s, app, T0 + timedelta(hours=1))) == "green"
        assert str(work.level(s, app, app.due_at - timedelta(hours=3))) == "yellow"
        assert str(work.level(s, app, app.due_at + timedelta(minutes=1))) == "red"


def test_the_inbox_needs_the_handle_permission(client, db, world) -> None:
    login(client, world.window)
    assert client.get("/services/inbox").status_code == 403


def test_supervision_filters_by_state_department_intake_matter_overdue_and_period(client, db, world) -> None:
    now = datetime.now(UTC)
    old = submit(db, world, name="张三", at=now - timedelta(days=31))
    act(db, world, old, "window", Action.ACCEPT, now - timedelta(days=30))  # long overdue
    fresh = submit(db, world, name="李四", at=now - timedelta(minutes=5))
    by_agent = submit(db, world, by="agent", name="王五", at=now - timedelta(minutes=4))
    with db.unit_of_work() as s:
        s.get(apps.Application, by_agent).submitted_by_department_id = world.shop.market  # a township centre
    login(client, world.supervisor)
    page = client.get("/services/applications")
    assert page.status_code == 200 and set(listed(page.text)) == {old, fresh, by_agent}
    assert listed(page.text)[0] == old  # overdue first
    assert listed(client.get("/services/applications", params={"state": "submitted"}).text) == [by_agent, fresh]
    assert listed(client.get("/services/applications", params={"state": "nonsense"}).text) != []
    assert listed(client.get("/services/applications", params={"overdue": "1"}).text) == [old]
    intake = client.get("/services/applications", params={"intake_department_id": world.shop.market})
    assert listed(intake.text) == [by_agent]
    # the department: responsible (all three belong to the market) or holding a step (only the accepted one)
    assert set(listed(client.get("/services/applications", params={"department_id": world.shop.market}).text)) == {
        old, fresh, by_agent}  # fmt: skip
    assert listed(client.get("/services/applications", params={"department_id": world.shop.centre}).text) == [old]
    day = to_local(now - timedelta(days=31)).date().isoformat()
    period = {"submitted_from": day, "submitted_to": day}
    assert listed(client.get("/services/applications", params=period).text) == [old]
    assert listed(client.get("/services/applications", params={"matter_id": world.matter_id + 1000}).text) == []
    assert listed(client.get("/services/applications", params={"q": "王五"}).text) == [by_agent]
    assert client.get("/services/applications", params={"submitted_from": "2026-13-45"}).status_code == 200
    text = page.text
    assert "测试政务服务中心" in text and "已超期" in text


def test_supervision_needs_the_supervise_permission(client, db, world) -> None:
    login(client, world.centre)
    assert client.get("/services/applications").status_code == 403
