"""The demo's rivers, sections, forests, chiefs and a year of patrols load on the demo county: every
area inside the county, patrol rates below 100 % with a few missed, problems as cases, some closed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.eco import demo_rivers
from countyos.eco.models.rivers import AreaKind, ChiefLevel, RiverArea, RiverChief, RiverPatrol, RiverProblem
from countyos.eco.service import rivers_stats
from countyos.geo.service import divisions
from tests import factories
from tests.eco.test_rivers_service import BASELINE, RiverWorld
from tests.harness import Baseline, Harness


@pytest.fixture(scope="session")
def rivers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, rivers_world_baseline: Baseline) -> RiverWorld:
    w: RiverWorld = harness.value(rivers_world_baseline, db=db)
    return w


def test_the_demo_rivers(db: Database, world: RiverWorld) -> None:
    shift = factories.person(db, ["shift_leader"])
    ctx = DemoContext()
    ctx.user_ids = {
        "leader": world.office.id,
        "hz_dz": world.chief.id,
        "hz_dt": world.other.id,
        "lz_bj": world.chief.id,
        "shift": shift.id,
    }
    with db.unit_of_work() as s:
        demo_rivers.load(s, ctx)
    with db.unit_of_work() as s:
        county = divisions.require_county(s)
        areas = list(s.scalars(select(RiverArea)))
        kinds = {a.kind for a in areas}
        assert kinds == {AreaKind.RIVER, AreaKind.SECTION, AreaKind.RESERVOIR, AreaKind.FOREST}
        assert len([a for a in areas if a.kind == AreaKind.RIVER]) == 5
        assert all(county.geom.buffer(1e-6).covers(a.geom) for a in areas)
        assert all((a.length_m or a.area_m2 or 0) > 0 for a in areas)
        levels = {c.level for c in s.scalars(select(RiverChief))}
        assert levels == set(ChiefLevel)
        patrols = s.scalar(select(func.count()).select_from(RiverPatrol)) or 0
        assert patrols > 150
        assert (s.scalar(select(func.count()).select_from(RiverPatrol).where(RiverPatrol.flagged.is_(True))) or 0) > 0
        problems = list(s.scalars(select(RiverProblem)))
        assert problems and all(p.case_id for p in problems)
        closed = s.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.id.in_([p.case_id for p in problems]), Case.closed_at.is_not(None))
        )
        assert 0 < (closed or 0) < len(problems)
        today = rivers_stats.local_today()
        year = rivers_stats.parse_period(str(today.year - 1 if today.month == 1 else today.year))
        rows = rivers_stats.rates(s, period=year)
        assert rows and all(r.due >= r.done for r in rows)
        total_due, total_done = sum(r.due for r in rows), sum(r.done for r in rows)
        assert 0.7 < total_done / total_due < 1.0
    assert ctx.notes and date.today()
