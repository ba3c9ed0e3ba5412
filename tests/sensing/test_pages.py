"""The sensing pages render for the roles that may see them, and the alarm console acts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.sensing.models import Alarm, AlarmState
from countyos.sensing.pages.devices import EXAMPLE
from countyos.sensing.service import rules
from tests.factories import csrf_from, login, person
from tests.sensing.conftest import FACTORY
from tests.sensing.formfields import form_defaults


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
    assert "alarm-observations" in console.text and "/sta/v1.1/Observations(" in console.text  # what raised it
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


def test_rule_form_writes_the_json_rule_and_reads_it_back(client, db, sensors):
    """Operations staff build a rule with the form (no JSON); it is the same rule as the JSON one,
    the editor opens it on the form again, and JSON stays available for combinations."""
    admin = person(db, ["data_admin", "dispatcher"])
    login(client, admin)
    page = client.get("/sensing/rules/new")
    assert 'name="c_kind"' in page.text and 'id="case-categories"' in page.text
    fields = {
        "csrf_token": csrf_from(page.text),
        "name": "妙高溪超警戒",
        "severity": "critical",
        "datastream_id": str(sensors.level),
        "mode": "form",
        "c_kind": "threshold",
        "c_op": ">",
        "c_value": "3.0",
        "c_clear": "2,8",
        "c_minutes": "10",
        "case_category_code": "0101",
        "dedupe_seconds": "3600",
        "enabled": "1",
    }
    r = client.post("/sensing/rules/save", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.reading() as s:
        rule = rules.list_rules(s)[-1]
        assert rule.condition == {
            "type": "duration",
            "seconds": 600,
            "of": {"type": "threshold", "op": ">", "value": 3, "clear": 2.8},
        }
        assert (rule.datastream_id, rule.severity, rule.case_category_code) == (sensors.level, "critical", "0101")
    edit = client.get(r.headers["location"])
    assert (
        'value="form" checked' in edit.text
        and 'name="c_minutes" id="c-minutes" inputmode="decimal" value="10"' in edit.text
    )
    bad = client.post("/sensing/rules/save", data={**fields, "c_clear": "3.5"})
    assert bad.status_code == 422 and "解除值必须位于阈值的正常一侧" in bad.text
    bad = client.post("/sensing/rules/save", data={**fields, "c_value": "high"})
    assert bad.status_code == 422 and "请输入数字" in bad.text
    combo = {"type": "any", "of": [{"type": "no_data", "intervals": 3}, {"type": "threshold", "op": "<", "value": 0}]}
    r = client.post(
        "/sensing/rules/save",
        data={**fields, "name": "组合", "mode": "json", "condition": __import__("json").dumps(combo)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'value="json" checked' in client.get(r.headers["location"]).text
    r = client.post(
        "/sensing/rules/save",
        data={**fields, "name": "涨速", "c_kind": "rate", "c_value": "0.5", "c_per": "3600"},
        follow_redirects=False,
    )
    with db.reading() as s:
        assert rules.list_rules(s)[-1].condition == {"type": "rate", "op": ">", "value": 0.5, "per_seconds": 3600}


def test_new_rule_form_saves_with_its_defaults(client, db, sensors):
    """The form as offered (only a name typed) is a valid rule: no Python object repr in a field."""
    admin = person(db, ["data_admin", "dispatcher"])
    login(client, admin)
    page = client.get("/sensing/rules/new")
    assert "built-in method" not in page.text and not re.search(r" at 0x[0-9a-f]+", page.text)
    fields = form_defaults(page.text, "rule-form")
    assert (fields["mode"], fields["c_kind"], fields["c_op"]) == ("form", "threshold", ">")
    assert (fields["c_value"], fields["c_clear"], fields["c_minutes"]) == ("3", "2.8", "10")
    untargeted = client.post("/sensing/rules/save", data={**fields, "name": "默认规则"})
    assert untargeted.status_code == 422
    assert "适用于：数据流、观测属性或设备类型" in untargeted.text.replace(": ", "：")
    assert form_defaults(untargeted.text, "rule-form")["c_clear"] == "2.8"  # what was typed is kept
    chosen = {**fields, "name": "默认规则", "datastream_id": str(sensors.level)}
    r = client.post("/sensing/rules/save", data=chosen, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.reading() as s:
        rule = rules.list_rules(s)[-1]
        assert (rule.name, rule.condition) == ("默认规则", EXAMPLE)
