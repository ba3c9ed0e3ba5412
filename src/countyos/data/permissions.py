"""Permissions of the data domain, its built-in roles and their default grants (data).

Reading the open-data portal and its machine interfaces (CKAN action API, DCAT) needs no permission.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

PERMISSIONS = [
    PermissionSpec(
        "data.catalogue.manage",
        N_("Describe, load and submit the data resources of one's own department (数据提供方)"),
    ),
    PermissionSpec(
        "data.catalogue.review",
        N_("Review, publish and revoke every entry of the data resource catalogue (数据管理员)"),
    ),
    PermissionSpec(
        "data.overview.read",
        N_("See what the county keeps of its data (数据沉淀): per department and month, with the records behind"),
    ),
    PermissionSpec(
        "data.share.request",
        N_("Request another department's shared data for one's own department and use its grants"),
    ),
]

ROLES = [
    RoleSpec(
        "data_bureau",
        "目录管理员",
        "Data catalogue administrator",
        "大数据局：审核和发布政务信息资源目录，管理数据共享与开放",
    ),
    RoleSpec("data_provider", "数据提供员", "Data provider", "部门数据专员：编制本部门的信息资源目录并加载数据"),
]

GRANTS: dict[str, list[str]] = {
    "data_bureau": ["data.catalogue.review", "data.catalogue.manage", "data.share.request", "data.overview.read"],
    "leader": ["data.overview.read"],
    "data_provider": ["data.catalogue.manage", "data.share.request"],
}
