"""The sensing pages render for the roles that may see them, and the alarm console acts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.sensing.models import Alarm, AlarmState
from countyos.sensing.service import rules
from tests.factories import csrf_from, login, person
from tests.sensing.conftest import FACTORY


def test_pages_render_and_alarm_console_acknowledges(client, db, sensors):
    with db.unit_of_work() as s:
        rules.save(
            s,
            actor=FACTORY,
            data={
                "name": "高水位",
                "severity": "major",
                "device_class": "river_gauge",
                "condition": {"type": "threshold", "op": ">", "value": 3},
            },
        )
    t0 = int((utcnow() - timedelta(minutes=5)).timestamp())
    client.post(
        "/api/v1/sensing/ingest",
        json={"series": [{"datastream": sensors.level, "data": [[t0, 3.4]]}]},
        headers={"X-Device-Token": sensors.gauge_token},
    )
    admin = person(db, ["data_admin", "dispatcher"])
    login(client, admin)
    page = client.get("/sensing")
    assert page.status_code == 200 and "妙高溪水位站" in page.text and "retention-table" in page.text
    detail = client.get(f"/sensing/devices/{sensors.gauge}")
    assert detail.status_code == 200 and 'data-datastream="' in detail.text
    assert client.get("/sensing/rules").status_code == 200
    form = client.get("/sensing/rules/new")
    assert form.status_code == 200 and "rule-preview" in form.text
    console = client.get("/sensing/alarms")
    assert console.status_code == 200 and "高水位" in console.text
    with db.reading() as s:
        alarm_id = s.scalars(select(Alarm.id)).one()
    r = client.post(
        f"/sensing/alarms/{alarm_id}/acknowledge", data={"csrf_token": csrf_from(console.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    with db.reading() as s:
        assert s.get(Alarm, alarm_id).state == AlarmState.ACKNOWLEDGED
    bad = client.post(
        "/sensing/rules/save",
        data={"csrf_token": csrf_from(console.text), "name": "x", "severity": "major", "condition": "{not json"},
    )
    assert bad.status_code == 422 and "JSON" in bad.text


def test_pages_need_sensing_read(client, db, sensors):
    nobody = person(db, ["auditadmin"], totp=False)
    login(client, nobody, expect_full=False)
    assert client.get("/sensing", follow_redirects=False).status_code in (303, 403)
