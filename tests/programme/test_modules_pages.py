"""The modules and roadmap pages: the system administrator switches with a note (a refusal comes back beside
the form with the note kept), places a module on a phase; the programme office keeps the phases; who sees
what."""

from __future__ import annotations

import re
from datetime import date

from countyos.core.settings import reset_settings
from countyos.programme.schemas.modules import PhaseIn
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases
from tests import factories
from tests.programme.modules_helpers import OFFICE, row, sysadmin  # noqa: F401


def _textarea(html: str, name: str) -> str:
    m = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert m, f"no {name} field"
    return m.group(1)


def _phase(db, number: int = 1, **changes) -> int:
    data = {
        "number": number,
        "name": "一期 急用先行",
        "goal": "先建最急需的",
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
        **changes,
    }
    with db.unit_of_work() as s:
        return phases.create(s, actor=OFFICE, data=PhaseIn.model_validate(data)).id


def test_the_administrator_switches_a_module_off_with_a_note(db, sysadmin):  # noqa: F811
    client, token, person = sysadmin
    page = client.get("/programme/modules")
    assert page.status_code == 200
    assert 'id="module-eco"' in page.text and 'href="/programme/modules/eco#switch"' in page.text
    assert 'href="/programme/modules/cases#switch"' not in page.text  # the platform's own: no switch
    detail = client.get("/programme/modules/eco")
    assert 'id="switch-form"' in detail.text and 'name="on" value="false"' in detail.text

    r = client.post(
        "/programme/modules/eco/switch",
        data={"on": "false", "note": "二期再开", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/programme/modules"
    saved = row(db, "eco")
    assert saved is not None and saved["enabled"] is False and saved["switched_by_id"] == person.id
    listing = client.get("/programme/modules").text
    eco_row = re.search(r'<tr id="module-eco">.*?</tr>', listing, re.S)
    assert eco_row and f"测试{person.username}" in eco_row.group(0)  # who, by display name
    assert client.get("/eco/water").status_code == 404
    detail = client.get("/programme/modules/eco").text
    assert 'name="on" value="true"' in detail and "二期再开" in detail


def test_a_refused_switch_comes_back_beside_the_form_with_the_note(db, sysadmin):  # noqa: F811
    client, token, _ = sysadmin
    r = client.post("/programme/modules/sensing/switch", data={"on": "false", "note": "节省费用", "csrf_token": token})
    assert r.status_code == 409
    assert 'id="switch-error"' in r.text and _textarea(r.text, "note") == "节省费用"
    assert row(db, "sensing") is None  # nothing written
    required = client.get("/programme/modules/cases")
    assert required.status_code == 200 and 'id="module-required"' in required.text
    assert 'id="switch-form"' not in required.text
    r = client.post("/programme/modules/cases/switch", data={"on": "false", "note": "", "csrf_token": token})
    assert r.status_code == 409 and 'id="switch-error"' in r.text and 'id="switch-form"' not in r.text
    assert client.get("/programme/modules/nosuch").status_code == 404


def test_a_module_locked_by_the_configuration_says_so(db, sysadmin, monkeypatch):  # noqa: F811
    client, token, _ = sysadmin
    monkeypatch.setenv("COUNTYOS_MODULES_OFF", '["village"]')
    reset_settings()
    try:
        page = client.get("/programme/modules/village")
        assert 'id="module-locked"' in page.text
        assert client.get("/portal/scenic").status_code == 404  # off: its public page is gone too
        r = client.post("/programme/modules/village/switch", data={"on": "true", "note": "想开", "csrf_token": token})
        assert r.status_code == 409 and 'id="switch-error"' in r.text and _textarea(r.text, "note") == "想开"
    finally:
        monkeypatch.delenv("COUNTYOS_MODULES_OFF")
        reset_settings()


def test_placing_a_module_on_the_roadmap(db, sysadmin):  # noqa: F811
    client, token, _ = sysadmin
    pid = _phase(db)
    r = client.post(
        "/programme/modules/eco/plan",
        data={"phase_id": str(pid), "planned_on": "2025-06-01", "note": "先上空气", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    saved = row(db, "eco")
    assert saved is not None and saved["phase_id"] == pid and saved["planned_on"] == date(2025, 6, 1)
    r = client.post(
        "/programme/modules/eco/plan",
        data={"phase_id": str(pid), "planned_on": "不是日期", "note": "改", "csrf_token": token},
    )
    assert r.status_code == 422 and 'id="error-plan-planned_on"' in r.text and 'value="不是日期"' in r.text
    road = client.get("/programme/roadmap").text  # the administrator reads the roadmap too
    stage = re.search(r'<section class="card" id="phase-1">.*?</section>', road, re.S)
    assert stage and "2025-06-01" in stage.group(0)


def test_the_roadmap_and_the_phase_forms(db, client):
    office = factories.person(db, ["programme_office"])
    token = factories.login(client, office)
    done = _phase(db, 1, starts_on=date(2020, 1, 1), ends_on=date(2020, 12, 31))
    _phase(db, 3, name="三期", starts_on=date(2099, 1, 1), ends_on=date(2099, 12, 31))
    page = client.get("/programme/roadmap")
    assert page.status_code == 200 and 'id="add-phase"' in page.text
    assert page.text.index('id="phase-1"') < page.text.index('id="phase-3"')  # 急用先行 first
    s1 = re.search(r'id="phase-1-status">([^<]*)<', page.text)
    s3 = re.search(r'id="phase-3-status">([^<]*)<', page.text)
    assert s1 and s3 and s1.group(1) != s3.group(1)
    assert 'id="unplaced"' in page.text

    r = client.post(
        "/programme/roadmap/phases",
        data={
            "number": "2",
            "name": "二期",
            "goal": "扩面",
            "starts_on": "2026-02-01",
            "ends_on": "2026-01-01",
            "csrf_token": token,
        },
    )
    assert r.status_code == 422 and 'id="error-phase-ends_on"' in r.text and 'value="二期"' in r.text
    r = client.post(
        "/programme/roadmap/phases",
        data={
            "number": "2",
            "name": "二期",
            "goal": "扩面",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'id="phase-2"' in client.get("/programme/roadmap").text

    edit = client.get(f"/programme/roadmap/phases/{done}")
    assert edit.status_code == 200 and 'value="一期 急用先行"' in edit.text
    r = client.post(
        f"/programme/roadmap/phases/{done}",
        data={"number": "2", "name": "一期", "goal": "", "starts_on": "", "ends_on": "", "csrf_token": token},
    )
    assert r.status_code == 422 and 'id="error-phase-number"' in r.text  # 2 is taken

    with db.unit_of_work() as s:
        modules.plan(s, actor=OFFICE, code="data", phase_id=done, planned_on=None)
    r = client.post(f"/programme/roadmap/phases/{done}/delete", data={"csrf_token": token})
    assert r.status_code == 409 and 'id="delete-error"' in r.text
    with db.unit_of_work() as s:
        modules.plan(s, actor=OFFICE, code="data", phase_id=None, planned_on=None)
    r = client.post(f"/programme/roadmap/phases/{done}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and 'id="phase-1"' not in client.get("/programme/roadmap").text


def test_who_sees_which_page(db, client):
    leader = factories.person(db, ["leader"])
    token = factories.login(client, leader)
    page = client.get("/programme/roadmap")
    assert page.status_code == 200 and 'id="add-phase"' not in page.text
    assert client.get("/programme/modules").status_code == 403
    r = client.post("/programme/roadmap/phases", data={"number": "1", "name": "一期", "csrf_token": token})
    assert r.status_code == 403
    assert client.post("/programme/modules/eco/switch", data={"on": "false", "csrf_token": token}).status_code == 403
