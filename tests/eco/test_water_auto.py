"""Automatic stations: observations posted through the SensorThings API → the daily job → a sample of
the day's means (a parameter with too few hours left out), idempotent; its exceedance raises an index
alarm on the station with one case, cleared by the next day back within the target."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.eco import jobs_water
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.eco.service import water, water_auto
from countyos.org.models import AuditEvent
from countyos.sensing import signals
from countyos.sensing.models import Alarm, AlarmKind, AlarmState, Severity
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator for the cases)
from tests.factories import person, token_for
from tests.sensing.sta_helpers import machine

STA = "/sta/v1.1"
API = "/api/v1/eco/water"
LOCAL = ZoneInfo("Asia/Shanghai")
FACTORY = Actor(id=None, name="factory")


@pytest.fixture
def station(db, client) -> tuple[int, dict[str, int], int]:
    """A water-quality station (as the sensing demo registers them) bound to a section with target II."""
    with db.unit_of_work() as s:
        thing = devices.register(
            s,
            actor=FACTORY,
            spec=DeviceSpec(
                "wq-test",
                "石练水质自动站",
                "water_quality",
                119.25,
                28.55,
                metrics=signals.KINDS["water_quality"][1],
                expected_interval_s=600,
            ),
        )
        streams = {d.metric or "": d.id for d in devices.datastreams_of(s, thing_id=thing.id)}
        thing_id = thing.id
    p = person(db, ["eco_monitor"])
    headers = {"Authorization": f"Bearer {token_for(db, p, ['eco.monitor.read', 'eco.monitor.manage'])}"}
    body = {
        "code": "AUTO-1",
        "name": "石练",
        "water_name": "松阴溪",
        "lon": 119.25,
        "lat": 28.55,
        "target_class": "II",
        "thing_id": thing_id,
    }
    r = client.post(f"{API}/sections", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return thing_id, streams, r.json()["id"]


def _post(client, auth, ds: int, day: date, hours: range, values: list[float]) -> None:
    """Two observations an hour (at :10 and :40 local) for the given hours, cycling through VALUES."""
    rows = []
    for i, h in enumerate(hours):
        for k, minute in enumerate((10, 40)):
            at = datetime.combine(day, time(h, minute), tzinfo=LOCAL)
            rows.append([at.isoformat(), values[(2 * i + k) % len(values)]])
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert not any(str(x).startswith("error") for x in r.json()), r.json()


def test_a_day_of_observations_becomes_a_sample_of_its_means(client, db, station):
    thing_id, ds, sid = station
    auth = machine(db)
    day = water.local_day(utcnow()) - timedelta(days=2)
    _post(client, auth, ds["do"], day, range(24), [3.5, 4.5])  # mean 4.0: class IV
    _post(client, auth, ds["codmn"], day, range(18), [2.0, 3.0])  # 18 hours: enough; mean 2.5 class II
    _post(client, auth, ds["tp"], day, range(17), [0.5])  # 17 hours: too few, left out
    _post(client, auth, ds["ph"], day, range(6, 24), [7.2, 7.4])
    with db.unit_of_work() as s:
        report = water_auto.run_days(s, days=[day])
    assert report.saved == 1
    with db.reading() as s:
        sample = s.scalars(select(WaterSample).where(WaterSample.section_id == sid)).one()
        assert sample.source == SampleSource.AUTO and sample.sampled_at == water.day_start(day)
        assert sample.values == {"do": 4.0, "codmn": 2.5, "ph": 7.3}
        assert sample.hours == {"do": 24, "codmn": 18, "tp": 17, "ph": 18, "nh3n": 0}
        assert sample.classes == {"do": "IV", "codmn": "II", "ph": "I"} and sample.cls == "IV" and sample.meets is False
        # two classes past the target: a major index alarm on the station, with its case
        alarm = s.scalars(select(Alarm).where(Alarm.thing_id == thing_id, Alarm.kind == AlarmKind.INDEX)).one()
        assert alarm.severity == Severity.MAJOR and alarm.case_id is not None and sample.alarm_id == alarm.id
        assert sample.case_id == alarm.case_id
        assert s.get(WaterSection, sid).last_class == "IV"
    # the job again (the same day computed twice): still one sample, one alarm, one case
    with db.unit_of_work() as s:
        again = water_auto.run_days(s, days=[day])
    assert (again.saved, again.unchanged) == (0, 1)  # nothing written, nothing audited
    _post(client, auth, ds["nh3n"], day, range(20), [0.6])  # a late datastream: the day changes
    with db.unit_of_work() as s:
        late = water_auto.run_days(s, days=[day])
    assert late.saved == 1
    with db.reading() as s:
        assert s.get(WaterSample, late.samples[0]).values["nh3n"] == 0.6
        audits = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "eco.water.sample.auto")).all()
        assert [a["saved"] for a in audits] == [1, 1]
        assert s.scalar(select(func.count()).select_from(WaterSample)) == 1
        assert s.scalar(select(func.count()).select_from(Alarm).where(Alarm.kind == AlarmKind.INDEX)) == 1
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_the_next_day_within_the_target_clears_the_alarm_through_the_scheduled_job(client, db, station):
    thing_id, ds, sid = station
    auth = machine(db)
    today = water.local_day(utcnow())
    bad, good = today - timedelta(days=2), today - timedelta(days=1)
    _post(client, auth, ds["do"], bad, range(24), [1.5])  # 劣V: critical
    _post(client, auth, ds["do"], good, range(24), [8.0])
    _post(client, auth, ds["nh3n"], good, range(20), [0.3])
    jobs_water.daily_samples(db)
    with db.reading() as s:
        got = s.scalars(select(WaterSample).order_by(WaterSample.sampled_at)).all()
        assert [(x.cls, x.meets) for x in got] == [("劣V", False), ("II", True)]
        alarm = s.scalars(select(Alarm).where(Alarm.thing_id == thing_id)).one()
        assert alarm.severity == Severity.CRITICAL and alarm.state == AlarmState.CLEARED and alarm.case_id is not None
        assert s.get(WaterSection, sid).last_meets is True


def test_a_day_without_enough_hours_gives_no_sample(client, db, station):
    _, ds, _ = station
    day = water.local_day(utcnow()) - timedelta(days=1)
    _post(client, machine(db), ds["do"], day, range(17), [8.0])
    with db.unit_of_work() as s:
        report = water_auto.run_days(s, days=[day])
    assert report.saved == 0 and report.skipped == 1
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WaterSample)) == 0


def test_only_a_water_quality_station_not_bound_elsewhere_may_be_bound(client, db, station):
    thing_id, _, _ = station
    p = person(db, ["eco_monitor"])
    headers = {"Authorization": f"Bearer {token_for(db, p, ['eco.monitor.manage'])}"}
    body = {"code": "AUTO-2", "name": "二", "lon": 119.25, "lat": 28.55, "thing_id": thing_id}
    r = client.post(f"{API}/sections", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "thing_id"


def test_the_section_page_names_its_station_and_the_table_is_bounded(client, db, station):
    from countyos.eco.pages import water as pages
    from tests.factories import login

    _, _, sid = station
    with db.unit_of_work() as s:
        section = s.get(WaterSection, sid)
        today = water.local_day(utcnow())
        for d in range(pages.SHOWN + 5):
            at = water.day_start(today - timedelta(days=d + 1))
            water.save_sample(
                s, actor=FACTORY, section=section, sampled_at=at, values={"do": 8.0}, source=SampleSource.AUTO
            )
    login(client, person(db, ["eco_monitor"]))
    page = client.get(f"/eco/water/sections/{sid}")
    assert page.status_code == 200 and "石练水质自动站" in page.text
    table = page.text.split('id="water-samples"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + pages.SHOWN  # the header and the newest rows
