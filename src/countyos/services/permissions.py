"""Permissions of the services domain, its built-in role and their default grants (data).

Reading published matters needs no permission: the catalogue and its guides are public.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

PERMISSIONS = [
    PermissionSpec(
        "services.catalogue.manage", N_("Edit, import, publish and withdraw government service matters (事项)")
    ),
]

ROLES = [
    RoleSpec("services_admin", "政务服务管理员", "Government services administrator", "维护政务服务事项目录和办事指南"),
]

GRANTS: dict[str, list[str]] = {
    "services_admin": ["services.catalogue.manage"],
}
