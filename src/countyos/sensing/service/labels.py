"""Words people read for sensing codes (device classes), shared by the sensing and operations pages."""

from __future__ import annotations

from countyos.core.i18n import N_, gettext

DEVICE_CLASS_LABELS = {
    "river_gauge": N_("River gauge"),
    "rain_gauge": N_("Rain gauge"),
    "air_station": N_("Air quality station"),
    "manhole": N_("Manhole cover"),
    "street_light": N_("Street light"),
    "soil": N_("Soil moisture station"),
    "visitor_counter": N_("Visitor counter"),
    "water_quality": N_("Water quality station"),
    "gateway": N_("Gateway"),
    "gate_counter": N_("Entrance gate counter"),
    "greenhouse": N_("Greenhouse climate station"),
    "cold_chain": N_("Cold-chain thermometer"),
    "parking": N_("Parking space counter"),
}
# What happened to an alarm (AlarmEvent.action).
ALARM_ACTION_LABELS = {
    "raise": N_("Alarm raised"),
    "repeat": N_("Raised again while open"),
    "reraise": N_("Raised again after clearing"),
    "acknowledge": N_("Acknowledged"),
    "clear": N_("Cleared"),
    "comment": N_("Note added"),
    "open_case": N_("Case opened from the alarm"),
}


def device_class_label(device_class: str | None) -> str | None:
    """The message id naming DEVICE_CLASS (None for a class without a name: show nothing raw)."""
    return DEVICE_CLASS_LABELS.get(device_class or "")


# An offline alarm's title is stored in the county's language (a case opened from the alarm takes it
# as its title); pages show it in the reader's language. Older rows carry both languages.
OFFLINE = N_("Device offline")
_OFFLINE_PREFIXES = ("设备离线 Device offline · ", "设备离线 · ", "Device offline · ")


def offline_title(thing_name: str) -> str:
    """The stored title of the alarm raised when THING_NAME stops reporting."""
    return f"设备离线 · {thing_name}"


def alarm_title(title: str) -> str:
    """An alarm's title as the reader reads it: the words of a system alarm in the interface language."""
    for prefix in _OFFLINE_PREFIXES:
        if title.startswith(prefix):
            return f"{gettext(OFFLINE)} · {title[len(prefix) :]}"
    return title
