"""Permissions of the village domain (数字乡村), its built-in roles and their default grants.

The public trace page ``/t/{code}`` and the public page of crowding at the scenic spots need no permission.
A producer sees and writes only the 经营主体 they are a member of; a buyer likewise; a scenic spot's
manager and a 民宿's keeper only their own spot or house.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

AGRI_READ = "village.agri.read"
AGRI_MANAGE = "village.agri.manage"
PRODUCE = "village.produce"
BUY = "village.buy"
TOURISM_READ = "village.tourism.read"
TOURISM_MANAGE = "village.tourism.manage"
TOURISM_REPORT = "village.tourism.report"

PERMISSIONS = [
    PermissionSpec(
        AGRI_READ,
        N_("See producers, buyers, their bases, farm records, batches, certificates, tests, orders and sales"),
    ),
    PermissionSpec(
        AGRI_MANAGE,
        N_("Keep the register of producers, buyers and bases, the input products and their safety intervals"),
    ),
    PermissionSpec(
        PRODUCE,
        N_("Keep one's own farm records, batches, certificates and supply listings (生产经营主体)"),
    ),
    PermissionSpec(BUY, N_("Post demand, order, take deliveries, check on arrival and re-issue certificates (采购方)")),
    PermissionSpec(
        TOURISM_READ, N_("See scenic spots, visitor flows, homestays, events, culture resources and reports")
    ),
    PermissionSpec(
        TOURISM_MANAGE,
        N_("Keep scenic spots and their capacity, homestays, events, culture resources and holiday reports (文旅局)"),
    ),
    PermissionSpec(
        TOURISM_REPORT,
        N_("Report one's own scenic spot's or homestay's daily figures and handle its crowding alarms"),
    ),
]

ROLES = [
    RoleSpec(
        "agri_officer",
        "农业农村局监管员",
        "Agriculture bureau officer",
        "农业农村局：主体和基地名录、农事、合格证、追溯和产销",
    ),
    RoleSpec(
        "producer", "生产经营主体", "Producer", "企业、合作社、家庭农场、种养大户、农户：农事记录、批次、合格证、供应"
    ),
    RoleSpec("buyer", "采购方", "Buyer", "学校和医院食堂、超市、电商、批发商：需求、订单、收货查验"),
    RoleSpec(
        "tourism_officer",
        "文旅局管理员",
        "Culture and tourism bureau officer",
        "文旅局：景区、客流、民宿、活动、非遗、假日报告",
    ),
    RoleSpec(
        "scenic_manager",
        "景区/民宿经营者",
        "Scenic spot or homestay keeper",
        "景区管理员、民宿和农家乐经营者：本单位客流、入住、限流",
    ),
]

GRANTS: dict[str, list[str]] = {
    "agri_officer": [AGRI_READ, AGRI_MANAGE, TOURISM_READ],
    "producer": [PRODUCE],
    "buyer": [BUY],
    "tourism_officer": [TOURISM_READ, TOURISM_MANAGE, AGRI_READ],
    "scenic_manager": [TOURISM_REPORT],
    "leader": [AGRI_READ, TOURISM_READ],
}
