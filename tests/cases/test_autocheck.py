"""The optional automatic checking rule: off by default; switched on by the case administrator on a
page (audited); then a handled case goes for checking to its grid's inspector at once, the timeline
naming the rule; with no inspector on the grid the case waits for the manual step."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Case, CaseEvent
from countyos.cases.service import autocheck, location
from countyos.org.models import AuditEvent
from tests.cases.conftest import actor_of
from tests.cases.test_lifecycle import act, report
from tests.factories import login


def _now():
    return datetime.now(ZoneInfo("Asia/Shanghai"))


def _handled(db, world):
    now = _now()
    cid, _ = report(db, world, at=now)
    act(db, world.intake, cid, Action.ACCEPT, now)
    act(db, world.shift, cid, Action.REGISTER, now)
    act(db, world.dispatcher, cid, Action.DISPATCH, now)
    act(db, world.handler, cid, Action.SIGN, now)
    return cid


@pytest.fixture
def grid_of(monkeypatch):
    workers: list[int] = []
    monkeypatch.setattr(location, "grid_worker_ids", lambda session, *, grid_code: list(workers))
    return workers


def test_off_by_default_the_case_waits_for_the_manual_step(db, world, grid_of):
    grid_of.append(world.inspector.id)
    cid = _handled(db, world)
    assert act(db, world.handler, cid, Action.FEEDBACK, _now())[0] == State.FEEDBACK


def test_switched_on_a_handled_case_goes_to_the_grids_inspector(client, db, world, grid_of):
    grid_of.append(world.inspector.id)
    csrf = login(client, world.shift)  # the case administrator (case.configure)
    page = client.get("/cases/settings")
    assert (
        page.status_code == 200
        and 'id="auto_check"' in page.text
        and "checked" not in page.text.split('id="auto_check"')[1][:20]
    )
    r = client.post("/cases/settings", data={"csrf_token": csrf, "auto_check": "1"}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert autocheck.is_enabled(s)
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.setting")).one()
        assert audit.detail == {"from": False, "to": True}
    cid = _handled(db, world)
    act(db, world.handler, cid, Action.FEEDBACK, _now())
    with db.reading() as s:
        case = s.get(Case, cid)
        assert case.state == State.CHECKING and case.assignee_id == world.inspector.id
        last = s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq.desc())).first()
        assert last.action == "send_check" and last.context["rule"] == "auto_check"
        assert last.actor_name == "Automatic checking rule" and last.actor_id is None
    detail = client.get(f"/cases/{cid}")
    assert "自动派核查规则" in detail.text or "Automatic checking rule" in detail.text
    # the inspector can check it
    assert act(db, world.inspector, cid, Action.CHECK_PASS, _now())[0] == State.CHECKED


def test_without_an_inspector_on_the_grid_the_manual_step_stays(db, world, grid_of):
    with db.unit_of_work() as s:
        autocheck.set_enabled(s, actor=actor_of(db, world.shift), enabled=True)
    grid_of.append(world.handler.id)  # a grid worker who may not inspect does not count
    cid = _handled(db, world)
    assert act(db, world.handler, cid, Action.FEEDBACK, _now())[0] == State.FEEDBACK


def test_only_the_case_administrator_switches_it(client, db, world):
    csrf = login(client, world.dispatcher)
    assert client.get("/cases/settings").status_code == 403
    r = client.post("/cases/settings", data={"csrf_token": csrf, "auto_check": "1"})
    assert r.status_code == 403


def test_the_api_reads_and_switches_the_rule(client, db, world):
    h = {"X-CSRF-Token": login(client, world.shift)}
    assert client.get("/api/v1/case-settings").json() == {"auto_check": False}
    r = client.put("/api/v1/case-settings", json={"auto_check": True}, headers=h)
    assert r.status_code == 200 and r.json() == {"auto_check": True}
    with db.reading() as s:
        assert autocheck.is_enabled(s)
    assert client.put("/api/v1/case-settings", json={"auto_check": "maybe"}, headers=h).status_code == 422
