"""Urgent notices: the alerts stream sends an urgent case entering the person's queue and a new
critical alarm to those who acknowledge alarms, and nothing else; the shell loads alerts.js."""

from __future__ import annotations

import json

import pytest

from countyos.cases.lifecycle import Action
from countyos.cases.models import Channel, Priority
from countyos.cases.service import cases
from countyos.ioc.service import live
from countyos.sensing.models import AlarmKind, Severity, Thing
from countyos.sensing.service import alarms
from tests.cases.conftest import actor_of
from tests.cases.test_lifecycle import act
from tests.factories import login, person
from tests.ioc.conftest import settle

pytestmark = pytest.mark.usefixtures("fake_geo")


def _urgent(db, world, priority=Priority.URGENT) -> tuple[int, str]:
    with db.unit_of_work() as s:
        case, _, _ = cases.create(
            s,
            actor=actor_of(db, world.inspector),
            new=cases.NewCase(
                channel=Channel.GRID,
                category_id=world.cat_manhole,
                lon=119.27,
                lat=28.59,
                priority=priority,
                title="主干道井盖缺失",
            ),
        )
        return case.id, case.number


def _frames(client, after) -> list[tuple[str, dict]]:
    r = client.get("/api/v1/alerts/stream", params={"after": str(after)})
    assert r.status_code == 200
    out = []
    for block in r.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if lines.get("event") == "urgent":
            out.append(("urgent", json.loads(lines["data"])))
    return out


@pytest.mark.committed  # the feed reads committed timeline rows
def test_dispatcher_gets_a_new_urgent_case_and_handler_its_dispatch(client, db, world):
    start = live.current(db)
    cid, number = _urgent(db, world)
    _urgent(db, world, priority=Priority.NORMAL)  # not urgent: no notice
    settle(db)
    login(client, world.dispatcher)
    got = _frames(client, start)
    assert [(d["ref"], d["url"]) for _, d in got] == [(number, f"/cases/{cid}")]
    assert got[0][1]["notice"] == "New urgent case" or got[0][1]["notice"] == "新的紧急案件"
    client.cookies.clear()
    login(client, world.handler)  # the department hears about it only when it is dispatched to them
    assert _frames(client, start) == []
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    act(db, world.intake, cid, Action.ACCEPT, now)
    act(db, world.shift, cid, Action.REGISTER, now)
    act(db, world.dispatcher, cid, Action.DISPATCH, now)
    settle(db)
    got = _frames(client, start)
    assert [d["kind"] for _, d in got] == ["case_dispatched"]
    client.cookies.clear()
    login(client, world.handler2)  # another department: nothing
    assert _frames(client, start) == []


@pytest.mark.committed
def test_critical_alarm_reaches_those_who_acknowledge_alarms(client, db, world):
    start = live.current(db)
    with db.unit_of_work() as s:
        t = Thing(name="水位站", device_key="wl-alert", device_class="river_gauge", lon=119.27, lat=28.59)
        s.add(t)
        s.flush()
        for sev in (Severity.CRITICAL, Severity.MINOR):
            alarms.raise_alarm(
                s,
                kind=AlarmKind.RULE if sev == Severity.CRITICAL else AlarmKind.OFFLINE,
                thing_id=t.id,
                datastream_id=None,
                rule_id=None,
                severity=sev,
                title=f"水位 {sev}",
                value=3.5,
                dedupe_seconds=60,
            )
    settle(db)
    login(client, world.dispatcher)  # alarm.ack
    got = _frames(client, start)
    assert [d["title"] for _, d in got] == ["水位 critical"]
    client.cookies.clear()
    login(client, world.handler)  # no alarm.ack
    assert _frames(client, start) == []


def test_every_signed_in_page_loads_the_notices(client, db):
    login(client, person(db, ["handler"]))
    page = client.get("/")
    assert '<script src="/static/js/countyos.js' in page.text
    js = client.get("/static/js/countyos.js").text
    assert "/static/js/alerts.js" in js
    assert client.get("/static/js/alerts.js").status_code == 200
