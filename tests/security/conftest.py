"""Fixtures of the security suites: a small real county (see ``world.py``)."""

from __future__ import annotations

import pytest

from countyos.core.db import Database
from tests.security.world import World, build


@pytest.fixture
def world(db: Database) -> World:
    return build(db)
