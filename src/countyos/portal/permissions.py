"""Permissions of the residents' portal, its built-in role and the default grants (data).

The public pages (the front door, notices and 村务公开, sign-in) need no permission. A resident's own
pages need ``portal.self``: the role ``resident`` (declared by the services domain) holds it.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

PERMISSIONS = [
    PermissionSpec(
        "portal.self",
        N_("Use the residents' portal as oneself: my county, messages, subscriptions, my personal data"),
    ),
    PermissionSpec(
        "portal.notice.publish",
        N_("Write and publish notices and village affairs (村务公开) for the area of one's own department"),
    ),
    PermissionSpec(
        "portal.facility.manage",
        N_("Keep the public facilities of one's own department current: add, edit, import, close"),
    ),
    PermissionSpec(
        "portal.booking.manage",
        N_("Set up what residents book (venues, halls, window appointments), check them in and record no-shows"),
    ),
    PermissionSpec(
        "portal.resident.verify",
        N_("Find a resident's account by phone number and record their real name as verified at a window"),
    ),
]

ROLES = [
    RoleSpec(
        "venue_keeper",
        "场馆预约管理员",
        "Venue and appointment keeper",
        "管理场馆、文化礼堂、会议室和窗口预约的开放时间与规则，核验到场",
    ),
    RoleSpec(
        "notice_publisher",
        "公告发布员",
        "Notice publisher",
        "乡镇、村（社区）和部门的工作人员：发布通知公告和村务公开",
    ),
]

GRANTS: dict[str, list[str]] = {
    "resident": ["portal.self"],
    "notice_publisher": ["portal.notice.publish", "portal.facility.manage"],
    "data_provider": ["portal.facility.manage"],
    "venue_keeper": ["portal.booking.manage"],
    "services_window": ["portal.resident.verify", "portal.booking.manage"],
}
