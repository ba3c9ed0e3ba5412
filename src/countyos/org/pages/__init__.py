"""HTML pages of the org domain: sign-in, my account, people, departments, roles, tokens, audit."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.core.i18n import N_
from countyos.org.pages import account, admin, login, security
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
for _module in (login, account, admin, security):
    router.include_router(_module.router)

SYSTEM = N_("System")
NAV = [
    NavItem(SYSTEM, N_("Users"), "/admin/users", "user.read", "👤", 900),
    NavItem(SYSTEM, N_("Departments"), "/admin/departments", "department.read", "🏢", 901),
    NavItem(SYSTEM, N_("Roles and permissions"), "/admin/roles", "role.read", "🔑", 902),
    NavItem(SYSTEM, N_("API tokens"), "/admin/tokens", "token.manage", "🔗", 903),
    NavItem(SYSTEM, N_("Audit log"), "/admin/audit", "audit.read", "📜", 904),
]
