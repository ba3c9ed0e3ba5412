"""Fixtures of the geo tests: a bootstrapped county (real packaged data), with or without grids, each
built once per run as a committed baseline (every test runs in a rolled-back transaction on it)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.geo.service import divisions, grids
from tests.harness import Baseline, Harness

ACTOR = Actor(id=None, name="test")
SUICHANG = "331123"


@dataclass
class County:
    code: str
    name: str
    grids: int


def make_county(db: Database, code: str = SUICHANG, cell_m: float | None = 2000.0) -> County:
    with db.unit_of_work() as s:
        r = divisions.bootstrap(s, actor=ACTOR, county_code=code)
        n = grids.generate(s, actor=ACTOR, cell_m=cell_m).grids if cell_m else 0
    return County(code=r.county_code, name=r.county_name, grids=n)


@pytest.fixture(scope="session")
def geo_county_baseline() -> Baseline:
    return Baseline("geo: 遂昌县 with 2 km grids", lambda db, _built: make_county(db))


@pytest.fixture(scope="session")
def geo_bare_county_baseline() -> Baseline:
    return Baseline("geo: 遂昌县 without grids", lambda db, _built: make_county(db, cell_m=None))


@pytest.fixture
def county(db: Database, harness: Harness, geo_county_baseline: Baseline) -> County:
    """遂昌县 with 2 km grids."""
    county: County = harness.value(geo_county_baseline, db=db)
    return county


@pytest.fixture
def bare_county(db: Database, harness: Harness, geo_bare_county_baseline: Baseline) -> County:
    """遂昌县 without grids."""
    county: County = harness.value(geo_bare_county_baseline, db=db)
    return county
