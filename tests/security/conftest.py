"""Fixtures of the security suites: a small real county (see ``world.py``), built once per run as a
committed baseline; each test runs in its own rolled-back transaction on top of it."""

from __future__ import annotations

import pytest

from countyos.core.db import Database
from tests.harness import Baseline, Harness
from tests.security.world import World


@pytest.fixture
def world(db: Database, harness: Harness, security_world_baseline: Baseline) -> World:
    world: World = harness.value(security_world_baseline, db=db)
    return world
