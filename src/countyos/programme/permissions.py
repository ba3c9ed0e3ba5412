"""Permissions of the programme domain (长效运营), its built-in roles and their default grants.

The programme office (项目办, in the county's big-data bureau) keeps phases, projects, contracts and KPIs
and approves assessments; the finance role locks the payment table and alone changes a locked one (with a
reason); the leader and the operating company see the programme and the 盆景 index; the system
administrator switches modules on and off; a partner's developer uses the developer portal.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

READ = "programme.read"
MANAGE = "programme.manage"
ASSESS = "programme.assess"
FINANCE = "programme.finance"
INDEX = "programme.index"
MODULES = "programme.modules"
PARTNERS = "programme.partners"
DEVELOPER = "programme.developer"

PERMISSIONS = [
    PermissionSpec(READ, N_("See the programme: phases, projects, contracts, KPIs, assessments and payments")),
    PermissionSpec(MANAGE, N_("Keep the programme's phases, organisations, projects, spend, contracts and KPIs")),
    PermissionSpec(ASSESS, N_("Assess a contract's period now and approve an assessment")),
    PermissionSpec(FINANCE, N_("Lock the payment table of an approved assessment and change a locked one")),
    PermissionSpec(INDEX, N_("See the 盆景 index: each module's and project's spend against its real use")),
    PermissionSpec(MODULES, N_("Switch modules on and off and plan them on the roadmap")),
    PermissionSpec(PARTNERS, N_("Keep the partner registry, issue sandbox keys and review partner services")),
    PermissionSpec(DEVELOPER, N_("Use the developer portal: one's own sandbox keys, their use and services")),
]

ROLES = [
    RoleSpec("programme_office", "项目办", "Programme office", "长效运营：项目、合同、考核指标、评估审核、生态伙伴"),
    RoleSpec("finance_officer", "财政审核员", "Finance officer", "按效付费：锁定付费表，锁定后的变更须说明理由"),
    RoleSpec("operator_staff", "运营公司人员", "Operating company staff", "本地运营公司：查看合同考核、付费和盆景指数"),
    RoleSpec("partner_developer", "生态伙伴开发者", "Partner developer", "开发者门户：沙箱密钥、用量和服务上架申请"),
]

# A KPI's score opens the operations view's list of the records it was counted from, and the assessment counts
# every case of the county: the roles that read and settle scores read those lists and those cases (reporters'
# contact details stay masked: no case.pii).
RECORDS = ["ioc.view", "case.read", "case.read_all"]

GRANTS: dict[str, list[str]] = {
    "programme_office": [READ, MANAGE, ASSESS, INDEX, PARTNERS, *RECORDS],
    "finance_officer": [READ, FINANCE, *RECORDS],
    "operator_staff": [READ, INDEX, *RECORDS],
    "partner_developer": [DEVELOPER],
    "leader": [READ, INDEX],
    "sysadmin": [MODULES],
}
