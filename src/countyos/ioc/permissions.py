"""Permissions of the ioc domain."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec

PERMISSIONS = [
    PermissionSpec("usage.read", N_("See how the platform is used (per module and role)")),
]

GRANTS: dict[str, list[str]] = {
    "leader": ["usage.read"],
    "sysadmin": ["usage.read"],
    "data_admin": ["usage.read"],
}
