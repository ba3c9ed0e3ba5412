"""Permissions of the geo domain and their default grants (data)."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec

PERMISSIONS = [
    PermissionSpec("geo.read", N_("View the map, divisions, grids and components")),
    PermissionSpec("geo.write", N_("Import boundaries, grids and components; edit grids and components")),
]

_OPERATIONAL = ("intake", "shift_leader", "dispatcher", "handler", "inspector", "leader")

GRANTS: dict[str, list[str]] = {
    **{role: ["geo.read"] for role in _OPERATIONAL},
    "data_admin": ["geo.read", "geo.write"],
}
