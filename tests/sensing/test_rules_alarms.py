"""Rules as data, one engine, alarms with a transition table and a dedupe window, device health,
and the alarm that opens a case at the device's location (and notes its clearing there)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from countyos.cases.models import Case, CaseEvent, Channel, Priority
from countyos.cases.service import categories, location
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, ValidationFailed
from countyos.sensing import flows
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmObservation, AlarmState, Health, Thing
from countyos.sensing.service import alarms, engine, rules
from countyos.sensing.service.times import MINUTE_US, to_us
from tests.cases.conftest import fake_locate
from tests.factories import person, token_for

FACTORY = Actor(id=None, name="factory")
URL = "/api/v1/sensing/ingest"


@pytest.fixture(autouse=True)
def _fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


def feed(client, token, ds, points):
    r = client.post(
        URL,
        json={"series": [{"datastream": ds, "data": [[t, v] for t, v in points]}]},
        headers={"X-Device-Token": token},
    )
    assert r.status_code == 200, r.text
    return r.json()


def minutes_ago(n: int) -> int:
    return int((utcnow() - timedelta(minutes=n)).timestamp())


# --- the engine (pure) ---------------------------------------------------------------------------


def points(values, step_min=1):
    return [(i * step_min * MINUTE_US, float(v)) for i, v in enumerate(values)]


def test_threshold_with_hysteresis_fires_once_for_a_noisy_crossing():
    cond = {"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8}
    firing, events = engine.run(cond, {}, False, points([2.5, 3.1, 2.95, 3.05, 2.9, 2.7, 3.2]))
    assert [e.kind for e in events] == ["raise", "clear", "raise"]
    assert firing is True
    _, plain = engine.run({"type": "threshold", "op": ">", "value": 3.0}, {}, False, points([2.5, 3.1, 2.95, 3.05]))
    assert [e.kind for e in plain] == ["raise", "clear", "raise"]


def test_duration_rate_and_combinations():
    above = {"type": "threshold", "op": ">", "value": 3.0}
    dur = {"type": "duration", "seconds": 600, "of": above}
    _, ev = engine.run(dur, {}, False, points([3.1] * 9 + [2.0] + [3.2] * 12))
    assert [(e.kind, e.t_us // MINUTE_US) for e in ev] == [("raise", 20)]
    rate = {"type": "rate", "op": ">", "value": 0.5, "per_seconds": 3600}
    # per hour: 0.3, 0.9, 1.8, 0.3 m/h
    _, ev = engine.run(rate, {}, False, points([1.0, 1.005, 1.02, 1.05, 1.055], step_min=1))
    assert [(e.kind, e.t_us // MINUTE_US) for e in ev] == [("raise", 2), ("clear", 4)]
    both = {"type": "all", "of": [above, {"type": "not", "of": {"type": "threshold", "op": ">", "value": 5}}]}
    _, ev = engine.run(both, {}, False, points([2, 4, 6, 4]))
    assert [e.kind for e in ev] == ["raise", "clear", "raise"]


def test_invalid_conditions_are_explained():
    assert engine.validate({"type": "threshold", "op": "=>", "value": "x"}) == [
        "condition.op: one of >, >=, <, <=",
        "condition.value: a number is required",
    ]
    assert engine.validate({"type": "threshold", "op": ">", "value": 3, "clear": 3.5}) == [
        "condition.clear: must be on the other side of value (hysteresis)"
    ]
    assert engine.validate({"type": "all", "of": []}) == ["condition.of: a list of conditions"]
    assert engine.validate({"type": "duration", "seconds": 0, "of": {"type": "nope"}})


# --- alarms --------------------------------------------------------------------------------------


def test_transition_table_and_dedupe_window(db, sensors):
    with db.unit_of_work() as s:
        a, created = alarms.raise_alarm(
            s,
            kind=AlarmKind.OFFLINE,
            thing_id=sensors.gauge,
            datastream_id=None,
            rule_id=None,
            severity="major",
            title="offline",
            value=None,
            dedupe_seconds=600,
        )
        assert created and a.state == AlarmState.ACTIVE
        again, created2 = alarms.raise_alarm(
            s,
            kind=AlarmKind.OFFLINE,
            thing_id=sensors.gauge,
            datastream_id=None,
            rule_id=None,
            severity="major",
            title="offline",
            value=None,
            dedupe_seconds=600,
        )
        assert not created2 and again.id == a.id and again.times == 2
        alarms.apply(s, alarm=a, action="acknowledge", actor=FACTORY)
        with pytest.raises(Conflict):
            alarms.apply(s, alarm=a, action="acknowledge", actor=FACTORY)
        alarms.apply(s, alarm=a, action="clear", actor=FACTORY)
        with pytest.raises(Conflict):
            alarms.apply(s, alarm=a, action="acknowledge", actor=FACTORY)
        third, created3 = alarms.raise_alarm(
            s,
            kind=AlarmKind.OFFLINE,
            thing_id=sensors.gauge,
            datastream_id=None,
            rule_id=None,
            severity="major",
            title="offline",
            value=None,
            dedupe_seconds=600,
        )
        assert not created3 and third.id == a.id and third.state == AlarmState.ACTIVE  # re-opened
        alarms.apply(s, alarm=a, action="clear", actor=FACTORY, at=utcnow() - timedelta(hours=1))
        fourth, created4 = alarms.raise_alarm(
            s,
            kind=AlarmKind.OFFLINE,
            thing_id=sensors.gauge,
            datastream_id=None,
            rule_id=None,
            severity="major",
            title="offline",
            value=None,
            dedupe_seconds=600,
        )
        assert created4 and fourth.id != a.id  # outside the window: a new alarm
        actions = [
            e.action for e in s.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == a.id).order_by(AlarmEvent.id))
        ]
        assert actions == ["raise", "repeat", "acknowledge", "clear", "reraise", "clear"]


def _flood_rule(db, sensors, code: str | None):
    with db.unit_of_work() as s:
        if code:
            categories.import_gb_directory(s, actor=FACTORY)
        r = rules.save(
            s,
            actor=FACTORY,
            data={
                "name": "河道水位超警戒",
                "severity": "critical",
                "observed_property_id": None,
                "device_class": "river_gauge",
                "case_category_code": code,
                "dedupe_seconds": 1800,
                "condition": {
                    "type": "duration",
                    "seconds": 600,
                    "of": {"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8},
                },
            },
        )
        return r.id


def _category_code(db) -> str:
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        cats = [c for c in categories.list_categories(s) if not c.is_group and c.is_active]
        return cats[0].service_code


def test_simulated_flood_raises_one_alarm_that_opens_a_case_linked_both_ways(client, db, sensors):
    code = _category_code(db)
    _flood_rule(db, sensors, code)
    rising = [(minutes_ago(40 - i), 2.0 + i * 0.1) for i in range(25)]  # above 3.0 from i=11: 13 minutes
    out = feed(client, sensors.gauge_token, sensors.level, rising)
    assert len(set(out["alarms"])) == 1
    with db.reading() as s:
        alarm = s.scalars(select(Alarm)).one()
        assert alarm.severity == "critical" and alarm.state == AlarmState.ACTIVE
        assert alarm.case_id is not None and alarm.case_error is None
        case = s.get(Case, alarm.case_id)
        assert case.channel == Channel.IOT and case.priority == Priority.CRITICAL
        assert case.external_id == f"alarm:{alarm.id}"
        assert (case.lon, case.lat) == (119.27, 28.59) and case.grid_code
        first = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).first()
        assert first.context["alarm_id"] == alarm.id
        linked = s.scalars(select(AlarmObservation).where(AlarmObservation.alarm_id == alarm.id)).all()
        assert linked and all(o.result > 3.0 for o in linked)
    # noisy water around the line: still one alarm
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(15 - i), 2.9 + (i % 2) * 0.3) for i in range(8)])
    # the water falls below the clear line: the alarm clears and the case notes it
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(6 - i), 2.5) for i in range(3)])
    with db.reading() as s:
        alarm = s.scalars(select(Alarm)).one()
        assert alarm.state == AlarmState.CLEARED and alarm.cleared_by == "system"
        notes = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == alarm.case_id, CaseEvent.action == "comment")
        ).all()
        assert any("cleared" in (n.comment or "") for n in notes)
        assert s.query(Case).count() == 1


def test_operators_acknowledge_and_clear_through_the_api(client, db, sensors):
    _flood_rule(db, sensors, None)
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(30 - i), 3.5) for i in range(15)])
    dispatcher = person(db, ["dispatcher"])
    viewer = person(db, ["intake"])
    h = {"Authorization": f"Bearer {token_for(db, dispatcher, ['alarm.ack', 'sensing.read'])}"}
    (alarm,) = client.get("/api/v1/sensing/alarms", headers=h).json()
    assert alarm["state"] == "active"
    no = {"Authorization": f"Bearer {token_for(db, viewer, ['sensing.read'])}"}
    assert client.post(f"/api/v1/sensing/alarms/{alarm['id']}/acknowledge", json={}, headers=no).status_code == 403
    r = client.post(f"/api/v1/sensing/alarms/{alarm['id']}/acknowledge", json={"note": "on it"}, headers=h)
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert client.post(f"/api/v1/sensing/alarms/{alarm['id']}/acknowledge", json={}, headers=h).status_code == 409
    assert client.post(f"/api/v1/sensing/alarms/{alarm['id']}/clear", json={}, headers=h).json()["state"] == "cleared"
    detail = client.get(f"/api/v1/sensing/alarms/{alarm['id']}", headers=h).json()
    assert [e["action"] for e in detail["events"]] == ["raise", "acknowledge", "clear"]
    assert detail["observations"]


def test_rule_preview_counts_what_would_have_fired(client, db, sensors):
    wave = [(minutes_ago(300 - i), 3.5 if (i // 30) % 2 else 2.0) for i in range(240)]  # 4 humps of 30 min
    feed(client, sensors.gauge_token, sensors.level, wave)
    admin = person(db, ["data_admin"])
    h = {"Authorization": f"Bearer {token_for(db, admin, ['sensing.read', 'sensing.rules'])}"}
    body = {"condition": {"type": "threshold", "op": ">", "value": 3.0}, "device_class": "river_gauge", "days": 1}
    r = client.post("/api/v1/sensing/rules/preview", json=body, headers=h)
    assert r.status_code == 200 and r.json()["fired"] == 4 and r.json()["observations"] == 240
    body["condition"] = {"type": "duration", "seconds": 3600, "of": body["condition"]}
    assert client.post("/api/v1/sensing/rules/preview", json=body, headers=h).json()["fired"] == 0
    bad = client.post(
        "/api/v1/sensing/rules", json={"name": "", "severity": "loud", "condition": {"type": "x"}}, headers=h
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {
        "condition",
        "name",
        "severity",
        "target",
    }


def test_silent_device_goes_offline_raises_and_clears_an_alarm(client, db, sensors):
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(60), 1.0)])
    with db.unit_of_work() as s:
        s.get(Thing, sensors.gauge).last_seen_at = utcnow() - timedelta(minutes=60)
    with db.unit_of_work() as s:
        ids = flows.health_sweep(s)
        assert len(ids) == 1
        assert s.get(Thing, sensors.gauge).health == Health.OFFLINE
        assert s.get(Alarm, ids[0]).kind == AlarmKind.OFFLINE
    feed(client, sensors.gauge_token, sensors.battery, [(minutes_ago(0), 55)])
    with db.reading() as s:
        thing = s.get(Thing, sensors.gauge)
        assert thing.health == Health.ONLINE and thing.battery == 55
        assert s.get(Alarm, ids[0]).state == AlarmState.CLEARED


def test_no_data_rule(db, client, sensors):
    with db.unit_of_work() as s:
        rules.save(
            s,
            actor=FACTORY,
            data={
                "name": "雨量站无数据",
                "severity": "minor",
                "datastream_id": sensors.level,
                "condition": {"type": "no_data", "intervals": 2},
            },
        )
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(30), 1.0)])  # interval 300 s: 30 min > 2×5 min
    with db.unit_of_work() as s:
        (aid,) = flows.health_sweep(s, now=utcnow())
        assert s.get(Alarm, aid).title.startswith("雨量站无数据")
    feed(client, sensors.gauge_token, sensors.level, [(minutes_ago(0), 1.0)])
    with db.reading() as s:
        assert s.get(Alarm, aid).state == AlarmState.CLEARED
    with pytest.raises(ValidationFailed), db.unit_of_work() as s:
        rules.preview(s, condition={"type": "threshold"}, datastream_ids=[sensors.level])
    assert to_us(utcnow()) > 0


def test_observations_created_through_sensorthings_run_the_rules(client, db, sensors):
    from tests.sensing.sta_helpers import machine

    _flood_rule(db, sensors, None)
    rows = [
        [
            __import__("datetime")
            .datetime.fromtimestamp(minutes_ago(20 - i), tz=__import__("datetime").UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
            3.6,
        ]
        for i in range(15)
    ]
    body = [{"Datastream": {"@iot.id": sensors.level}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    r = client.post("/sta/v1.1/CreateObservations", json=body, headers=machine(db))
    assert r.status_code == 201 and "error" not in r.json()
    with db.reading() as s:
        (alarm,) = s.scalars(select(Alarm)).all()
        assert alarm.severity == "critical" and alarm.state == AlarmState.ACTIVE
        assert s.get(Thing, sensors.gauge).health == Health.ONLINE
