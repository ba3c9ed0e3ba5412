"""Fixtures of the portal tests."""

from __future__ import annotations

import pytest

# notices and 村务公开: 遂昌县's divisions with publishing departments at three levels (tests/portal/notices_world.py)
from tests.portal.notices_world import notices_world, notices_world_baseline  # noqa: F401


@pytest.fixture
def box():
    """Text messages sent by the portal, kept instead of sent (``portal.service.sms``)."""
    from countyos.portal.service import sms

    sent = sms.MemorySms()
    sms.set_sender(sent)
    yield sent
    sms.set_sender(None)
