"""Permissions of the org domain and the built-in roles with their default grants (data)."""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

PERMISSIONS = [
    PermissionSpec("department.read", N_("View departments")),
    PermissionSpec("department.write", N_("Create and edit departments"), "system"),
    PermissionSpec("user.read", N_("View every account with its roles and status (those who manage people)")),
    PermissionSpec("user.write", N_("Create and edit accounts, reset passwords and second factors"), "system"),
    PermissionSpec("user.unlock", N_("Unlock accounts locked after failed sign-ins")),
    PermissionSpec("user.pii", N_("See unmasked personal data (phone numbers)")),
    PermissionSpec("user.assign_role", N_("Assign roles to users"), "security"),
    PermissionSpec("role.read", N_("View roles and permissions")),
    PermissionSpec("role.write", N_("Create roles and change their permissions"), "security"),
    PermissionSpec("token.manage", N_("Issue and revoke API tokens for machine accounts"), "system"),
    PermissionSpec("system.manage", N_("View system health, settings and backups"), "system"),
    PermissionSpec("audit.read", N_("Browse the audit log"), "audit"),
    PermissionSpec("audit.export", N_("Export the audit log"), "audit"),
]

ROLES = [
    RoleSpec("intake", "受理员", "Intake operator", "城运中心受理群众、网格员和热线上报的问题"),
    RoleSpec("shift_leader", "值班长", "Shift leader", "城运中心值班长，负责督办、审批延期挂账"),
    RoleSpec("dispatcher", "派遣员", "Dispatcher", "把立案的问题派遣到责任部门"),
    RoleSpec("handler", "专业部门处置员", "Department handler", "专业部门接收并处置案件"),
    RoleSpec("inspector", "监督员/网格员", "Inspector / grid worker", "巡查上报、核实和核查"),
    RoleSpec("leader", "领导", "Leader", "查看全县运行态势和评价"),
    RoleSpec("data_admin", "数据管理员", "Data administrator", "维护地理、部件、分类等基础数据"),
    RoleSpec("sysadmin", "系统管理员", "System administrator", "管理账户、部门和系统；不能查看或修改审计"),
    RoleSpec("secadmin", "安全管理员", "Security administrator", "配置角色与权限、为用户授权"),
    RoleSpec("auditadmin", "审计管理员", "Audit administrator", "只读查看和导出审计日志"),
]

# Operational roles see departments; the list of accounts (with roles, status, sign-in times) is for
# those who manage people. Pickers get names only (``GET /api/v1/people``).
_DIRECTORY = ["department.read"]
_PEOPLE = ["department.read", "user.read"]

# The administrators' grants are also the limit of what an administrator role may ever hold: its
# family's permissions and the operational ones given here (see ``service.roles.check_separation``).
# The system administrator unlocks ordinary accounts; another family's administrator only the
# security administrator unlocks (``service.users.unlock``).
GRANTS: dict[str, list[str]] = {
    "intake": _DIRECTORY,
    "shift_leader": [*_DIRECTORY, "user.pii"],
    "dispatcher": _DIRECTORY,
    "handler": _DIRECTORY,
    "inspector": _DIRECTORY,
    "leader": [*_DIRECTORY, "user.pii"],
    "data_admin": _DIRECTORY,
    "sysadmin": [*_PEOPLE, "user.unlock", "department.write", "user.write", "token.manage", "system.manage"],
    "secadmin": [*_PEOPLE, "user.unlock", "role.read", "role.write", "user.assign_role"],
    "auditadmin": ["user.read", "audit.read", "audit.export"],
}
