"""Permissions of the cases domain and their default grants to the built-in roles (data).

The lifecycle roles (``lifecycle.ROLE_PERMISSION``) are permissions too: holding ``case.dispatch``
makes a person act as 派遣员 in the transition table.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec

PERMISSIONS = [
    PermissionSpec("case.read", N_("View cases within your scope (department, grid, own tasks)")),
    PermissionSpec("case.read_all", N_("View every case in the county")),
    PermissionSpec("case.report", N_("Report problems (grid patrol, staff entry)")),
    PermissionSpec("case.intake", N_("Accept, verify, check and close reports (受理员)")),
    PermissionSpec("case.shift", N_("Register cases, approve suspension and void (值班长)")),
    PermissionSpec("case.dispatch", N_("Dispatch cases to departments, approve returns and extensions (派遣员)")),
    PermissionSpec("case.handle", N_("Handle the department's cases (专业部门)")),
    PermissionSpec("case.inspect", N_("Verify and check cases on the ground (监督员/网格员)")),
    PermissionSpec("case.supervise", N_("Urge and supervise overdue cases (督办)")),
    PermissionSpec("case.routing", N_("Edit the routing table")),
    PermissionSpec("case.configure", N_("Edit categories, time limits and evaluation weights")),
    PermissionSpec("case.evaluate", N_("View evaluation indicators and export them")),
    PermissionSpec("case.pii", N_("See reporters' unmasked contact details")),
    PermissionSpec("case.hotline", N_("Import and submit 12345 work orders")),
    PermissionSpec("case.open311", N_("Post Open311 service requests (reporting apps' API key)")),
]

_READ = ["case.read"]

GRANTS: dict[str, list[str]] = {
    "intake": [*_READ, "case.read_all", "case.report", "case.intake", "case.pii", "case.hotline"],
    "shift_leader": [
        *_READ,
        "case.read_all",
        "case.report",
        "case.intake",
        "case.shift",
        "case.dispatch",
        "case.supervise",
        "case.routing",
        "case.configure",
        "case.evaluate",
        "case.pii",
    ],
    "dispatcher": [*_READ, "case.read_all", "case.dispatch", "case.routing"],
    "handler": [*_READ, "case.handle"],
    "inspector": [*_READ, "case.report", "case.inspect"],
    "leader": [*_READ, "case.read_all", "case.supervise", "case.evaluate"],
    "data_admin": [*_READ, "case.configure"],
}
