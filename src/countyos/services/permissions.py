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
    PermissionSpec(
        "services.application.window",
        N_("Take in, accept, reject and conclude applications at a service window (窗口受理)"),
    ),
    PermissionSpec(
        "services.application.agent",
        N_("Submit applications on a resident's behalf with their recorded consent (帮办代办)"),
    ),
    PermissionSpec("services.application.handle", N_("Handle the steps of applications that reach one's department")),
    PermissionSpec("services.application.supervise", N_("Supervise every application and its time limits")),
    PermissionSpec("services.application.pii", N_("See applicants' ID numbers and phone numbers unmasked")),
    PermissionSpec(
        "services.application.apply",
        N_("Apply online for government service matters and follow or withdraw one's own applications"),
    ),
    PermissionSpec(
        "services.statistics.read",
        N_("See the statistics of applications by department, township and period, and the records behind them"),
    ),
]

ROLES = [
    RoleSpec("services_admin", "政务服务管理员", "Government services administrator", "维护政务服务事项目录和办事指南"),
    RoleSpec(
        "services_window", "窗口人员", "Service window clerk", "在政务服务中心或便民服务中心窗口收件、受理、办结和送达"
    ),
    RoleSpec("services_agent", "代办员", "Village or township agent", "经申请人同意代为提交办件（帮办代办）"),
    RoleSpec("services_handler", "审批人员", "Approval officer", "办理本部门环节的办件（通过、退回、特别程序）"),
    RoleSpec(
        "resident",
        "办事群众",
        "Resident or enterprise applicant",
        "群众或企业在网上申办政务服务事项，查看本人办件进度、补正材料和撤回申请",
    ),
]

GRANTS: dict[str, list[str]] = {
    "services_admin": ["services.catalogue.manage", "services.application.supervise", "services.statistics.read"],
    "services_window": ["services.application.window", "services.application.pii"],
    "services_agent": ["services.application.agent"],
    "services_handler": ["services.application.handle"],
    "resident": ["services.application.apply"],
    "leader": ["services.statistics.read"],
}
