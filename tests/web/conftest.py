"""Fixtures of the shell's tests: the cases tests' small county (``world``) for the home page and the
urgent notices; each module that places cases uses the stand-in locator (``fake_geo`` below)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from countyos.cases.service import location
from tests.cases.conftest import fake_locate, world  # noqa: F401  (the fixture is used by web tests)


@pytest.fixture
def fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield
