"""``/portal/environment``: the county's air and water now for anyone, from the stations' latest hours and
the sections' latest samples, with no personal data."""

from __future__ import annotations

from datetime import timedelta

from countyos.core.clock import utcnow
from countyos.eco.models.air import AirHourly, AirStation
from countyos.eco.models.water import WaterSample, WaterSection
from tests.eco.test_air_flow import _register
from tests.factories import person


def test_air_and_water_now_for_anyone(client, db):
    thing_id, _ = _register(db, "air-env-1")
    clerk = person(db, ["eco_monitor"])
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with db.unit_of_work() as s:
        st = AirStation(code="ENV-1", name="县城空气站", thing_id=thing_id, place="妙高街道")
        s.add(st)
        s.flush()
        s.add(AirHourly(station_id=st.id, start=hour - timedelta(hours=1), aqi=40, level=1, primary=[], valid=True))
        s.add(AirHourly(station_id=st.id, start=hour, pm25=100.0, aqi=132, level=3, primary=["pm25"], valid=True,
                        iaqi={"pm25": 132}))  # fmt: skip
        sec = WaterSection(code="ENV-W1", name="大柘断面", water_name="松阴溪", lon=119.3, lat=28.6,
                           target_class="III", last_class="IV", last_meets=False, last_sampled_at=hour)  # fmt: skip
        s.add(sec)
        s.add(WaterSection(code="ENV-W2", name="新建断面", water_name="乌溪江", lon=119.2, lat=28.5))
        s.flush()
        s.add(WaterSample(section_id=sec.id, sampled_at=hour, source="lab", values={"tp": 0.25}, classes={"tp": "IV"},
                          cls="IV", target_class="III", meets=False, lab_name="县监测站",
                          entered_by_id=clerk.id))  # fmt: skip
    page = client.get("/portal/environment")
    assert page.status_code == 200
    html = page.text
    assert "县城空气站" in html and "AQI 132" in html and "轻度污染" in html and "PM" in html  # the latest hour
    assert "AQI 40" not in html
    assert "大柘断面" in html and "Ⅳ类" in html and "未达标" in html and "尚未监测" in html
    assert clerk.username not in html and "县监测站" not in html  # no person, no lab record
    assert 'id="pt-env-county"' in html
    home = client.get("/portal")
    assert 'href="/portal/environment"' in home.text
