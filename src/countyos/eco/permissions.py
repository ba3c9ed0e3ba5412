"""Permissions of the ecology domain, its built-in roles and their default grants (eco).

The public page of current AQI and water classes needs no permission.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

MONITOR_READ = "eco.monitor.read"
MONITOR_MANAGE = "eco.monitor.manage"
RIVERS_READ = "eco.rivers.read"
RIVERS_MANAGE = "eco.rivers.manage"
RIVERS_PATROL = "eco.rivers.patrol"
ACCOUNTS_READ = "eco.accounts.read"
ACCOUNTS_MANAGE = "eco.accounts.manage"

PERMISSIONS = [
    PermissionSpec(MONITOR_READ, N_("See air stations and water sections, their indices, classes and exceedances")),
    PermissionSpec(
        MONITOR_MANAGE,
        N_("Set up air stations and water sections, enter or import lab results, keep the index tables"),
    ),
    PermissionSpec(RIVERS_READ, N_("See rivers, lakes, forests, their chiefs, patrols and the problems found")),
    PermissionSpec(
        RIVERS_MANAGE, N_("Keep rivers, lakes, sections and forest areas, their chiefs and duties (河长办)")
    ),
    PermissionSpec(RIVERS_PATROL, N_("Patrol one's own rivers or forests and report the problems found (河长/林长)")),
    PermissionSpec(ACCOUNTS_READ, N_("See ecosystem assets, ESV and GEP accounts")),
    PermissionSpec(
        ACCOUNTS_MANAGE,
        N_("Import land-use layers and statistics, keep accounting parameters, run ESV and GEP accounts"),
    ),
]

ROLES = [
    RoleSpec("eco_monitor", "生态环境监测员", "Ecology monitoring officer", "生态环境局：空气和水质监测、超标处置"),
    RoleSpec(
        "river_office", "河长办工作人员", "River chief office staff", "河长办/林长办：河湖林区、河长林长、巡查和问题"
    ),
    RoleSpec("river_chief", "河长/林长", "River or forest chief", "县乡村三级河长、林长：巡河巡林、上报问题"),
    RoleSpec("eco_accountant", "GEP核算员", "GEP accountant", "发改、统计部门：生态资产、ESV 和 GEP 核算"),
]

GRANTS: dict[str, list[str]] = {
    "eco_monitor": [MONITOR_READ, MONITOR_MANAGE, ACCOUNTS_READ],
    "river_office": [RIVERS_READ, RIVERS_MANAGE, RIVERS_PATROL, MONITOR_READ],
    "river_chief": [RIVERS_READ, RIVERS_PATROL],
    "eco_accountant": [ACCOUNTS_READ, ACCOUNTS_MANAGE, MONITOR_READ],
    "leader": [MONITOR_READ, RIVERS_READ, RIVERS_PATROL, ACCOUNTS_READ],  # the county-level chief patrols too
}
