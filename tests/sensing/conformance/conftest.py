"""The SensorThings world of the conformance classes (two Things, see ``tests/sensing/sta_world.py``)."""

from __future__ import annotations

import pytest

from tests.sensing.sta_helpers import machine
from tests.sensing.sta_world import StaWorld, build


@pytest.fixture
def sta(client, db) -> StaWorld:
    return build(client, machine(db))
