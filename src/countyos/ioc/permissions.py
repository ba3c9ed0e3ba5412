"""Permissions of the ioc domain."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec

PERMISSIONS = [
    PermissionSpec("usage.read", N_("See how the platform is used (per module and role)")),
    PermissionSpec("ioc.view", N_("Use the operations view: live map, indicators and the records behind them")),
    PermissionSpec("ioc.report", N_("Generate and download the operations reports")),
]

GRANTS: dict[str, list[str]] = {
    "leader": ["usage.read", "ioc.view", "ioc.report"],
    "shift_leader": ["ioc.view", "ioc.report"],
    "dispatcher": ["ioc.view"],
    "intake": ["ioc.view"],
    "sysadmin": ["usage.read"],
    "data_admin": ["usage.read"],
}
