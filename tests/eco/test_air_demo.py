"""The demo county's air part: the sensing demo's three air devices become stations whose three weeks of
history give hourly and daily indices, and the haze episodes give exceedance alarms with their cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.cases.service import categories, location
from countyos.core.demo import DemoContext
from countyos.eco import demo_air
from countyos.eco.models.air import AirDaily, AirHourly, AirStation
from countyos.sensing.demo import load as load_sensing
from countyos.sensing.models import Alarm, AlarmKind
from tests.cases.conftest import fake_locate
from tests.factories import login, person
from tests.sensing.conftest import FACTORY


@pytest.fixture(autouse=True)
def _fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


def test_demo_stations_have_full_history_and_a_few_exceedances(db, client):
    ctx = DemoContext()
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        load_sensing(s, ctx)
        demo_air.load(s, ctx)
    with db.reading() as s:
        stations = s.scalars(select(AirStation).order_by(AirStation.code)).all()
        assert [st.code for st in stations] == ["AQ-01", "AQ-02", "AQ-03"]
        first = stations[0].id
        assert all(len(st.streams) == 6 for st in stations)
        hours = s.scalar(select(func.count()).select_from(AirHourly).where(AirHourly.aqi.is_not(None)))
        assert hours >= 3 * 20 * 24
        days = s.scalars(select(AirDaily).where(AirDaily.valid.is_(True))).all()
        assert len(days) >= 3 * 19 and all(d.aqi is not None for d in days)
        worst = s.scalar(select(func.max(AirHourly.aqi)))
        assert worst > 150  # the strong haze
        alarms = s.scalars(select(Alarm).where(Alarm.kind == AlarmKind.INDEX)).all()
        assert 1 <= len(alarms) <= 20 and all(a.case_id is not None for a in alarms)
        assert s.scalar(select(func.count()).select_from(Case).where(Case.id.in_([a.case_id for a in alarms]))) == len(
            {a.case_id for a in alarms}
        )
    assert any("Ecology (air)" in n for n in ctx.notes)
    login(client, person(db, ["eco_monitor"]))
    page = client.get("/eco/monitor")
    assert page.status_code == 200 and page.text.count('class="eco-dot-air"') == 3
    assert 'href="/cases/' in page.text  # the exceedances, open or cleared lately, with their cases
    station = client.get(f"/eco/air/stations/{first}")
    assert station.status_code == 200 and station.text.count("<rect") > 48
