"""The safety domain's receivers of other domains' signals (``core.signals``): a sensing rule's alarm or a
new case of a category may trigger an emergency plan's response level."""

from __future__ import annotations

from countyos.cases.service.cases import CASE_CREATED
from countyos.safety.service import triggers
from countyos.sensing.service.alarms import ALARM_RAISED

ALARM_RAISED.connect(triggers.on_alarm_raised)
CASE_CREATED.connect(triggers.on_case_created)
