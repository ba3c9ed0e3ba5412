"""The demo's water part: sections on the county's rivers bound to the sensing demo's water-quality
stations, a year of monthly lab results, daily samples from the stations' history, exceedances with
cases; a second run adds nothing."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.eco import demo_water
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.sensing import signals
from countyos.sensing.service import devices, store
from countyos.sensing.service.times import DAY_US, to_us
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator for the cases)

FACTORY = Actor(id=None, name="factory")
STEP = 600 * 1_000_000


def _stations(db, days: int) -> None:
    """The sensing demo's three water-quality stations with DAYS of history (its signal shapes; the
    third, device 32 of the sensing demo, takes the run-off)."""
    prefix, metrics, interval = signals.KINDS["water_quality"]
    now = to_us(utcnow()) // STEP * STEP
    t = np.arange(now - days * DAY_US, now + 1, STEP, dtype=np.int64)
    with db.unit_of_work() as s:
        ds_all, t_all, v_all = [], [], []
        for k in range(3):
            spec = devices.DeviceSpec(
                f"water_quality-{k + 1:02d}",
                f"{prefix}{k + 1:02d}",
                "water_quality",
                119.25 + 0.02 * k,
                28.58,
                metrics=metrics,
                expected_interval_s=interval,
            )
            thing = devices.register(s, actor=FACTORY, spec=spec)
            for d in devices.datastreams_of(s, thing_id=thing.id):
                ds_all.append(np.full(len(t), d.id, dtype=np.int64))
                t_all.append(t)
                v_all.append(signals.values("water_quality", d.metric, t, seed=(30 + k) * 31 + len(d.metric)))
        store.store(s, np.concatenate(ds_all), np.concatenate(t_all), np.concatenate(v_all))


def test_the_demo_water_sections(db):
    _stations(db, 14)
    ctx = DemoContext()
    with db.unit_of_work() as s:
        demo_water.load(s, ctx)
    with db.reading() as s:
        sections = s.scalars(select(WaterSection).order_by(WaterSection.code)).all()
        assert len(sections) == len(demo_water.SECTIONS) == 7
        assert sum(1 for x in sections if x.thing_id is not None) == 3
        assert {x.water_name for x in sections} >= {"乌溪江", "松阴溪", "周公源"}
        lab = s.scalar(select(func.count()).select_from(WaterSample).where(WaterSample.source == SampleSource.LAB))
        assert lab == 4 * 12
        auto = s.scalars(select(WaterSample).where(WaterSample.source == SampleSource.AUTO)).all()
        assert len(auto) >= 3 * 12  # about a sample a day for each station (the first day may be short)
        assert "II" in {x.cls for x in auto} and any(x.cls in ("IV", "V", "劣V") for x in auto)  # the run-off
        assert any(x.last_meets is False for x in sections if x.thing_id is None)  # L02 now
        assert s.scalar(select(func.count()).select_from(Case)) >= 2
    assert ctx.notes and "/eco/water" in ctx.notes[0]
    with db.unit_of_work() as s:
        demo_water.load(s, ctx)  # a second run adds nothing
        assert s.scalar(select(func.count()).select_from(WaterSection)) == 7


def test_the_demo_has_a_few_exceedances_not_one_a_month(db):
    _stations(db, 14)
    with db.unit_of_work() as s:
        demo_water.load(s, DemoContext())
    with db.reading() as s:
        lab_past = s.scalar(
            select(func.count())
            .select_from(WaterSample)
            .where(WaterSample.source == SampleSource.LAB, WaterSample.meets.is_(False))
        )
        assert 2 <= lab_past <= 6  # the summer months of 马头溪 and the latest of 松阴溪出境
        assert s.scalar(select(func.count()).select_from(Case)) <= 12
