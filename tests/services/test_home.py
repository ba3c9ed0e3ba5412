"""The services part of the home page: 待受理 for the window, 待办 with overdue and nearly due counts for a
department, overdue applications for a supervisor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from countyos.core.actor import Actor
from countyos.services import home
from countyos.services.lifecycle import Action
from countyos.services.service import applications as apps
from tests.factories import csrf_from, login
from tests.services.work_world import T0, World, accepted, act, make_world, submit


@pytest.fixture
def world(db, shop) -> World:
    return make_world(db, shop)


def by_key(db, actor: Actor, now) -> dict[str, tuple[int, int, int, str]]:
    with db.reading() as s:
        return {q.key: (q.count, q.overdue, q.due_soon, q.url) for q in home.queues(s, actor, now)}


def test_queues_count_to_accept_todo_overdue_and_nearly_due(client, db, world) -> None:
    first = accepted(db, world)
    second = submit(db, world)
    act(db, world, second, "window", Action.ACCEPT, T0 + timedelta(days=2))
    submit(db, world)  # waiting for acceptance
    with db.reading() as s:
        due_first = s.get(apps.Application, first).due_at
        due_second = s.get(apps.Application, second).due_at
    assert due_first < due_second
    a = world.actors
    assert by_key(db, a["window"], T0) == {"services_to_accept": (1, 0, 0, "/services/desk/queue")}
    assert by_key(db, a["centre"], T0 + timedelta(days=2, hours=1)) == {
        "services_todo": (2, 0, 0, "/services/inbox")}  # fmt: skip
    nearly = due_first - timedelta(hours=2)  # the first is at more than 80 %, the second not
    assert by_key(db, a["centre"], nearly)["services_todo"] == (2, 0, 1, "/services/inbox")
    after = due_first + timedelta(hours=1)
    assert by_key(db, a["centre"], after)["services_todo"][:2] == (2, 1)
    assert by_key(db, a["market"], after) == {"services_todo": (0, 0, 0, "/services/inbox")}
    assert by_key(db, a["agent"], after) == {}
    supervisor = Actor(id=None, name="s", permissions=frozenset({apps.SUPERVISE}))
    assert by_key(db, supervisor, after) == {
        "services_overdue": (1, 1, 0, "/services/applications?overdue=1")}  # fmt: skip
    login(client, world.centre)
    page = client.get("/")
    assert "部门待办办件" in page.text and 'href="/services/inbox"' in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
