"""Names people read for the codes of the case directory (steps, time units, kinds, priorities,
channels). Templates look a code up here and translate it; a code never shows as itself."""

from __future__ import annotations

from countyos.cases.models import CategoryKind, Channel, Priority, Step
from countyos.core.i18n import N_
from countyos.core.workcal import TimeUnit

STEP_LABELS: dict[str, str] = {
    Step.ACCEPT: N_("Acceptance"),
    Step.VERIFY: N_("Verification"),
    Step.REGISTER: N_("Registration"),
    Step.DISPATCH: N_("Dispatch"),
    Step.HANDLE: N_("Handling"),
    Step.CHECK: N_("Checking"),
    Step.CLOSE: N_("Closing"),
}
UNIT_LABELS: dict[str, str] = {
    TimeUnit.WORKING_HOURS: N_("Working hours"),
    TimeUnit.WORKING_DAYS: N_("Working days"),
    TimeUnit.HOURS: N_("Natural hours"),
}
KIND_LABELS: dict[str, str] = {
    CategoryKind.COMPONENT: N_("Management component"),
    CategoryKind.MATTER: N_("Management matter"),
    CategoryKind.HOTLINE: N_("12345 hotline category"),
    CategoryKind.LOCAL: N_("Local category"),
}
PRIORITY_LABELS: dict[str, str] = {
    Priority.NORMAL: N_("Normal"),
    Priority.URGENT: N_("Urgent"),
    Priority.CRITICAL: N_("Critical"),
}
CHANNEL_LABELS: dict[str, str] = {
    Channel.GRID: N_("Grid worker patrol"),
    Channel.WEB: N_("Citizen web form"),
    Channel.OPEN311: N_("Open311 app"),
    Channel.HOTLINE: N_("12345 hotline"),
    Channel.STAFF: N_("Operations centre staff"),
    Channel.IOT: N_("Sensing alarm"),
}
ALL = {
    "step_labels": STEP_LABELS,
    "unit_labels": UNIT_LABELS,
    "kind_labels": KIND_LABELS,
    "priority_labels": PRIORITY_LABELS,
    "channel_labels": CHANNEL_LABELS,
}
