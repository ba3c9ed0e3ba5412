"""The sensing screens speak the interface language and agree with themselves: device classes by
name, alarm states by their meaning, rule conditions as a sentence, county time, battery shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from countyos.core.clock import utcnow
from countyos.sensing.models import Thing
from countyos.sensing.service import rules
from tests.factories import login, person
from tests.sensing.conftest import FACTORY
from tests.web.visible import raw_marks, visible_text


def _ingest(client, sensors, points):
    r = client.post(
        "/api/v1/sensing/ingest",
        json={"series": [{"datastream": ds, "data": [[t, v]]} for ds, t, v in points]},
        headers={"X-Device-Token": sensors.gauge_token},
    )
    assert r.status_code in (200, 202), r.text


def test_battery_shown_from_the_latest_reading(client, db, sensors):
    t0 = int((utcnow() - timedelta(minutes=5)).timestamp())
    _ingest(client, sensors, [(sensors.battery, t0, 92), (sensors.level, t0, 1.2)])
    with db.unit_of_work() as s:  # a device row whose copied status lags behind its readings
        s.get(Thing, sensors.gauge).battery = None
    login(client, person(db, ["data_admin", "dispatcher"]))
    detail = visible_text(client.get(f"/sensing/devices/{sensors.gauge}").text)
    assert detail[detail.index("电量") + 1] == "92 %"
    listing = visible_text(client.get("/sensing").text)
    assert "92 %" in listing


def _in_english(client) -> None:
    from tests.factories import csrf_from

    page = client.get("/")
    client.post("/lang", data={"locale": "en", "csrf_token": csrf_from(page.text), "next": "/"})


def test_classes_alarm_states_conditions_and_times_read_as_words(client, db, sensors):
    with db.unit_of_work() as s:
        rules.save(
            s,
            actor=FACTORY,
            data={
                "name": "高水位",
                "severity": "major",
                "datastream_id": sensors.level,
                "condition": {"type": "duration", "seconds": 600, "of": {"type": "threshold", "op": ">", "value": 3.5}},
            },
        )
        rules.save(
            s,
            actor=FACTORY,
            data={
                "name": "超警戒",
                "severity": "critical",
                "device_class": "river_gauge",
                "condition": {"type": "threshold", "op": ">", "value": 3, "clear": 2.8},
            },
        )
    # 06:05 UTC is 14:05 in the county (Asia/Shanghai)
    at = datetime.now(UTC).replace(hour=6, minute=5, second=0, microsecond=0)
    if at > datetime.now(UTC):
        at -= timedelta(days=1)
    _ingest(client, sensors, [(sensors.level, int(at.timestamp()), 3.6)])
    login(client, person(db, ["data_admin", "dispatcher"]))

    rules_page = visible_text(client.get("/sensing/rules").text)
    assert "妙高溪水位站 水位 > 3.5 m 持续 10 分钟" in rules_page
    assert "数值 > 3（回落到 2.8 解除）" in rules_page
    assert "妙高溪水位站 水位" in rules_page and "水位站" in rules_page  # applies to: datastream, class
    devices_page = visible_text(client.get("/sensing").text)
    assert "水位站" in devices_page and "river_gauge" not in devices_page
    detail_html = client.get(f"/sensing/devices/{sensors.gauge}").text
    detail = visible_text(detail_html)
    local = (at + timedelta(hours=8)).strftime("%Y-%m-%d 14:05")
    assert any(t.endswith(local) for t in detail), detail
    assert "Z" not in " ".join(t for t in detail if "T" in t and ":" in t)
    alarms_page = visible_text(client.get("/sensing/alarms").text)
    assert "告警中" in alarms_page and "正常" not in alarms_page
    assert any(t.startswith((at + timedelta(hours=8)).strftime("%Y-%m-%d 14:05:00")) for t in alarms_page)
    for texts in (rules_page, devices_page, detail, alarms_page):
        assert raw_marks(texts) == [], raw_marks(texts)

    _in_english(client)
    rules_en = visible_text(client.get("/sensing/rules").text)
    assert "妙高溪水位站 水位 > 3.5 m for 10 minutes" in rules_en and "the value > 3 (clears at 2.8)" in rules_en
    assert "Alarm active" in visible_text(client.get("/sensing/alarms").text)
    assert "River gauge" in visible_text(client.get("/sensing").text)
