"""The demo county at a smaller size, for tests that need every kind of record the demo makes but not
its volume (``COUNTYOS_SCALE=ci``, what the test command sets): a year of 1500 cases instead of 6000,
750 applications instead of 3000, the base map's tiles to zoom 10 instead of 14. The browser tests
build the full demo with `countyos demo`, and ``COUNTYOS_SCALE=full`` keeps the full size here too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import partial

import pytest

from countyos.cases import demo as cases_demo
from countyos.geo import demo as geo_demo
from countyos.services import demo_applications

SMALL = os.environ.get("COUNTYOS_SCALE", "ci") == "ci"


@contextlib.contextmanager
def smaller_demo() -> Iterator[None]:
    """While inside, ``load`` of the demo modules builds the smaller county (when the scale is ci)."""
    with pytest.MonkeyPatch.context() as mp:
        if SMALL:
            # ``per_year`` takes CASES_PER_YEAR as its default at import: setting the constant changes nothing
            mp.setattr(cases_demo, "generate_history", partial(cases_demo.generate_history, per_year=1500))
            mp.setattr(geo_demo, "DEMO_MAX_ZOOM", 10)
            mp.setattr(demo_applications, "PER_YEAR", 750)
        yield
