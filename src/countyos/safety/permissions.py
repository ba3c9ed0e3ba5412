"""Permissions of the safety domain (应急、安全生产、交通), its built-in roles and their default grants.

The public page of road notices needs no permission. A department's people see and work their own
department's emergency tasks; an analysis box posts camera events with an API token of an account
that has only ``safety.camera.feed``.
"""

from __future__ import annotations

from countyos.core.i18n import N_
from countyos.core.permissions import PermissionSpec, RoleSpec

EMERGENCY_READ = "safety.emergency.read"
EMERGENCY_MANAGE = "safety.emergency.manage"
EMERGENCY_COMMAND = "safety.emergency.command"
TASK = "safety.task"
INSPECT_MANAGE = "safety.inspect.manage"
INSPECT = "safety.inspect"
CAMERA_MANAGE = "safety.camera.manage"
CAMERA_FEED = "safety.camera.feed"
TRAFFIC_READ = "safety.traffic.read"
TRAFFIC_MANAGE = "safety.traffic.manage"

PERMISSIONS = [
    PermissionSpec(EMERGENCY_READ, N_("See emergency plans, resources, events, their tasks, reports and reviews")),
    PermissionSpec(
        EMERGENCY_MANAGE,
        N_("Keep emergency plans and their versions, exercises, warehouses, teams, shelters and experts"),
    ),
    PermissionSpec(
        EMERGENCY_COMMAND,
        N_("Start an emergency response, change its level, give commands, send reports and close it (指挥)"),
    ),
    PermissionSpec(TASK, N_("Work one's own department's emergency tasks and acknowledge commands")),
    PermissionSpec(INSPECT_MANAGE, N_("Keep the key places, their responsible persons and the inspection checklists")),
    PermissionSpec(INSPECT, N_("Inspect key places and record hidden dangers with photos")),
    PermissionSpec(CAMERA_MANAGE, N_("Keep the camera register and how camera events become cases")),
    PermissionSpec(CAMERA_FEED, N_("Post events detected by a camera's analysis box (machine account)")),
    PermissionSpec(TRAFFIC_READ, N_("See road segments, parking lots and road incidents")),
    PermissionSpec(TRAFFIC_MANAGE, N_("Keep road segments and parking lots, publish road incidents")),
]

ROLES = [
    RoleSpec(
        "emergency_officer",
        "应急管理局值班员",
        "Emergency management officer",
        "应急管理局：预案、资源、事件指挥、信息报送、隐患排查",
    ),
    RoleSpec("safety_inspector", "安全检查员", "Safety inspector", "重点场所隐患排查、整改复查"),
    RoleSpec("traffic_officer", "交通管理员", "Traffic officer", "交通运输局、交警：路段、停车场、道路事件公告"),
    RoleSpec("camera_feed", "视频分析接入", "Camera analysis feed", "视频智能分析盒子：只能提交识别事件"),
]

GRANTS: dict[str, list[str]] = {
    "emergency_officer": [
        EMERGENCY_READ,
        EMERGENCY_MANAGE,
        EMERGENCY_COMMAND,
        TASK,
        INSPECT_MANAGE,
        INSPECT,
        TRAFFIC_READ,
    ],
    "safety_inspector": [INSPECT, TASK],
    "traffic_officer": [TRAFFIC_READ, TRAFFIC_MANAGE, TASK],
    "camera_feed": [CAMERA_FEED],
    "handler": [TASK],
    "inspector": [TASK, INSPECT],
    "shift_leader": [EMERGENCY_READ, CAMERA_MANAGE, TRAFFIC_READ],
    "dispatcher": [EMERGENCY_READ],
    "data_admin": [CAMERA_MANAGE],
    "leader": [EMERGENCY_READ, EMERGENCY_COMMAND, TRAFFIC_READ],
}
