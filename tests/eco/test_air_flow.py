"""An air station end to end: observations posted by the device through the ingest API → the job → the
stored hourly index equals the one computed by hand from the same values; the local day; exceedance
raises once per episode, opens a case and clears; on-demand recomputation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from countyos.cases.models import Case, Channel
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.eco.models.air import AirDaily, AirHourly, AirStation
from countyos.eco.schemas.air import StationIn
from countyos.eco.service import air, air_compute, aqi
from countyos.sensing.models import Alarm, AlarmKind, AlarmState, Severity
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec
from countyos.sensing.signals import KINDS
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator)

FACTORY = Actor(id=None, name="factory")
URL = "/api/v1/sensing/ingest"
BASE = {"pm25": 30.0, "pm10": 50.0, "so2": 8.0, "no2": 20.0, "co": 0.6, "o3": 60.0}


@dataclass
class Station:
    id: int
    thing_id: int
    token: str


def _register(db: Database, key: str = "air-t-01") -> tuple[int, str]:
    _, metrics, _ = KINDS["air_station"]
    spec = DeviceSpec(key, "测试空气站", "air_station", 119.27, 28.59, metrics=metrics, expected_interval_s=600)
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=spec)
        _, token = devices.issue_token(s, actor=FACTORY, thing_id=thing.id, name="t")
        return thing.id, token


@pytest.fixture
def station(db: Database) -> Station:
    thing_id, token = _register(db)
    with db.unit_of_work() as s:
        st = air.create(
            s, actor=FACTORY, data=StationIn(code="AQ-T01", name="测试空气站", thing_id=thing_id, kind="county")
        )
        return Station(st.id, thing_id, token)


def post_hours(client, token: str, start: datetime, hours: int, values, per_hour: int = 6, skip=(), csrf="") -> None:
    """PER_HOUR observations of each pollutant in each hour; VALUES(hour index, metric) gives the value."""
    series = []
    for metric in BASE:
        data = []
        for h in range(hours):
            for k in range(per_hour):
                if (h, metric) in skip and k >= 4:
                    continue  # only 4 of 6 values (40 minutes): the hour is not valid
                t = start + timedelta(hours=h, minutes=10 * k + 1)
                data.append([t.timestamp(), values(h, metric)])
        series.append({"device": "air-t-01", "metric": metric, "data": data})
    headers = {"X-Device-Token": token, **({"X-CSRF-Token": csrf} if csrf else {})}  # a signed-in client's too
    r = client.post(URL, json={"series": series}, headers=headers)
    assert r.status_code == 200 and r.json()["errors"] == [], r.text


def flat(h: int, metric: str) -> float:
    return BASE[metric]


def test_observations_through_ingest_become_the_stored_hourly_index(client, db, station):
    now = utcnow()
    start = air_compute.hour_floor(now) - timedelta(hours=5)
    post_hours(client, station.token, start, 5, lambda h, m: BASE[m] + h, skip={(2, "pm25")})
    with db.unit_of_work() as s:
        totals = air_compute.run(s, now=now)
    assert totals["hours"] >= 5 and totals["exceedances"] == 0
    with db.reading() as s:
        rows = {r.start: r for r in s.scalars(select(AirHourly).where(AirHourly.station_id == station.id))}
        h0 = rows[start]
        expected = aqi.hourly_aqi({m: BASE[m] for m in BASE})
        assert h0.pm25 == 30.0 and h0.co == 0.6 and h0.aqi == expected.aqi and h0.iaqi == expected.iaqi
        assert h0.minutes["pm25"] == 60.0 and h0.valid
        h1 = rows[start + timedelta(hours=1)]
        assert h1.pm25 == 31.0 and h1.aqi == aqi.hourly_aqi({m: BASE[m] + 1 for m in BASE}).aqi
        gap = rows[start + timedelta(hours=2)]
        assert gap.pm25 is None and "pm25" not in gap.iaqi and not gap.valid and gap.minutes["pm25"] == 40.0
        assert gap.aqi == aqi.hourly_aqi({m: BASE[m] + 2 for m in BASE if m != "pm25"}).aqi
        # an hour with no data at all has no index (never 0)
        empty = rows.get(start - timedelta(hours=1))
        assert empty is not None and empty.aqi is None and empty.pm25 is None
    # the job again: the same rows, not new ones (idempotent)
    with db.unit_of_work() as s:
        air_compute.run(s, now=now)
    with db.reading() as s:
        again = s.scalars(select(AirHourly).where(AirHourly.station_id == station.id)).all()
        assert len(again) == len(rows)


def test_a_late_observation_counts_when_the_job_looks_again(client, db, station):
    now = utcnow()
    start = air_compute.hour_floor(now) - timedelta(hours=3)
    post_hours(client, station.token, start, 1, flat, per_hour=4)
    with db.unit_of_work() as s:
        air_compute.run(s, now=now)
    with db.reading() as s:
        assert s.get(AirHourly, (station.id, start)).pm25 is None
    late = [[(start + timedelta(minutes=45)).timestamp(), 30.0]]
    r = client.post(URL, json={"series": [{"device": "air-t-01", "metric": "pm25", "data": late}]},
                    headers={"X-Device-Token": station.token})  # fmt: skip
    assert r.status_code == 200
    with db.unit_of_work() as s:
        air_compute.run(s, now=now)
    with db.reading() as s:
        assert s.get(AirHourly, (station.id, start)).pm25 == 30.0


@pytest.mark.usefixtures("_fake_geo")
def test_exceedance_raises_once_opens_a_case_and_clears(client, db, station):
    now = utcnow()
    start = air_compute.hour_floor(now) - timedelta(hours=6)

    def haze(h: int, metric: str) -> float:
        return 130.0 if metric == "pm25" and 1 <= h <= 3 else BASE[metric]  # 130: IAQI 172, 中度污染

    post_hours(client, station.token, start, 6, haze)
    with db.unit_of_work() as s:
        st = s.get(AirStation, station.id)
        air_compute.compute_station(s, station=st, start=start, end=start + timedelta(hours=3), now=now)
    with db.reading() as s:
        alarms = s.scalars(select(Alarm).where(Alarm.thing_id == station.thing_id)).all()
        assert len(alarms) == 1
        alarm = alarms[0]
        assert alarm.kind == AlarmKind.INDEX and alarm.state == AlarmState.ACTIVE and alarm.times == 2
        assert alarm.severity == Severity.MAJOR and alarm.value == 172.0
        case = s.get(Case, alarm.case_id)
        assert case is not None and case.channel == Channel.IOT and "中度污染" in case.title
    # the job recomputes the same hours (and the next ones): no second alarm, no second case
    with db.unit_of_work() as s:
        air_compute.run(s, now=now)
    with db.reading() as s:
        alarms = s.scalars(select(Alarm).where(Alarm.thing_id == station.thing_id)).all()
        assert len(alarms) == 1 and alarms[0].state == AlarmState.CLEARED and alarms[0].times == 3
        assert len(s.scalars(select(Case).where(Case.external_id == f"alarm:{alarms[0].id}")).all()) == 1
        assert s.get(AirStation, station.id).checked_until == start + timedelta(hours=5)


def test_a_complete_local_day_is_computed(client, db, station):
    now = utcnow()
    day = air_compute.day_start(now) - timedelta(days=1)  # yesterday, local: complete whatever the hour
    post_hours(client, station.token, day, 24, lambda h, m: BASE[m] + (40 if m == "o3" and 10 <= h < 18 else 0),
               skip={(h, "pm10") for h in range(5)})  # fmt: skip
    with db.unit_of_work() as s:
        st = s.get(AirStation, station.id)
        done = air_compute.compute_station(s, station=st, start=day, end=day + timedelta(days=1), now=now)
    assert done.hours == 24 and done.days == 1
    with db.reading() as s:
        d = s.get(AirDaily, (station.id, day))
        assert d.pm25 == 30.0 and d.hours["pm25"] == 24
        assert d.pm10 is None and d.hours["pm10"] == 19 and not d.valid  # 19 hours: no daily value
        assert d.o3_1h == 100.0 and d.o3_8h == 100.0 and d.hours["o3_8h"] == 17
        expected = aqi.daily_aqi({"so2": 8, "no2": 20, "co": 0.6, "pm25": 30, "o3_1h": 100, "o3_8h": 100})
        assert d.aqi == expected.aqi and d.iaqi == expected.iaqi


def test_a_station_needs_an_air_device_of_its_own(db, station):
    from countyos.core.errors import ValidationFailed

    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as exc:
            air.create(s, actor=FACTORY, data=StationIn(code="AQ-T01", name="又一个", thing_id=station.thing_id))
        fields = {e["field"] for e in exc.value.errors}
        assert fields == {"code", "thing_id"}
        st = s.get(AirStation, station.id)
        assert set(st.streams) == {"so2", "no2", "co", "o3", "pm10", "pm25"}


def test_the_scheduled_job_runs_the_computation(client, db, station):
    from countyos.eco import jobs_air

    start = air_compute.hour_floor(utcnow()) - timedelta(hours=2)
    post_hours(client, station.token, start, 2, flat)
    (job,) = jobs_air.JOBS
    assert job.name == "eco.air.indices" and job.every_seconds == 600
    totals = job.run(db)
    assert totals["stations"] >= 1 and totals["hours"] >= air_compute.RECOMPUTE_HOURS
    with db.reading() as s:
        assert s.get(AirHourly, (station.id, start)).aqi == aqi.hourly_aqi(dict(BASE)).aqi
