"""Permissions of the sensing domain and their default grants to the built-in roles (data)."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec

PERMISSIONS = [
    PermissionSpec("sensing.read", N_("View devices, telemetry, rules and alarms")),
    PermissionSpec("sensing.write", N_("Register devices, write SensorThings entities and observations")),
    PermissionSpec("sensing.rules", N_("Create and change alarm rules and retention classes")),
    PermissionSpec("alarm.ack", N_("Acknowledge and clear alarms")),
]

_OPS = ["sensing.read"]

GRANTS: dict[str, list[str]] = {
    "intake": _OPS,
    "shift_leader": [*_OPS, "alarm.ack"],
    "dispatcher": [*_OPS, "alarm.ack"],
    "handler": _OPS,
    "inspector": _OPS,
    "leader": _OPS,
    "data_admin": [*_OPS, "sensing.write", "sensing.rules"],
}
