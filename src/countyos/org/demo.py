"""The org part of the demonstration county: departments of every kind and a user for each role."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.demo import DEMO_PASSWORD, DemoContext
from countyos.org import flows
from countyos.org.models import DepartmentKind
from countyos.org.service import departments, uscc
from countyos.org.service.users import cipher

# (name, kind, parent name)
DEPARTMENTS: list[tuple[str, DepartmentKind, str | None]] = [
    ("县城市运行管理中心", DepartmentKind.OPS_CENTRE, None),
    ("县住房和城乡建设局", DepartmentKind.DEPARTMENT, None),
    ("市生态环境局遂昌分局", DepartmentKind.DEPARTMENT, None),
    ("县水利局", DepartmentKind.DEPARTMENT, None),
    ("县交通运输局", DepartmentKind.DEPARTMENT, None),
    ("县应急管理局", DepartmentKind.DEPARTMENT, None),
    ("县农业农村局", DepartmentKind.DEPARTMENT, None),
    ("县文化和广电旅游体育局", DepartmentKind.DEPARTMENT, None),
    ("县综合行政执法局", DepartmentKind.DEPARTMENT, None),
    ("县自然资源和规划局", DepartmentKind.DEPARTMENT, None),
    ("妙高街道办事处", DepartmentKind.TOWNSHIP, None),
    ("云峰街道办事处", DepartmentKind.TOWNSHIP, None),
    ("北界镇人民政府", DepartmentKind.TOWNSHIP, None),
    ("大柘镇人民政府", DepartmentKind.TOWNSHIP, None),
    ("妙高街道北街社区居民委员会", DepartmentKind.VILLAGE, "妙高街道办事处"),
    ("大柘镇大田村村民委员会", DepartmentKind.VILLAGE, "大柘镇人民政府"),
    ("县城市运营有限公司", DepartmentKind.OPERATOR, None),
    ("县政务服务中心", DepartmentKind.DEPARTMENT, None),
    ("县市场监督管理局", DepartmentKind.DEPARTMENT, None),
    ("云峰街道长濂村村民委员会", DepartmentKind.VILLAGE, "云峰街道办事处"),
    ("北界镇红星坪村村民委员会", DepartmentKind.VILLAGE, "北界镇人民政府"),
    ("县大数据发展管理局", DepartmentKind.DEPARTMENT, None),
    ("县发展和改革局", DepartmentKind.DEPARTMENT, None),
    ("县公安局", DepartmentKind.DEPARTMENT, None),
    ("县卫生健康局", DepartmentKind.DEPARTMENT, None),
    ("县消防救援大队", DepartmentKind.DEPARTMENT, None),
    ("县财政局", DepartmentKind.DEPARTMENT, None),
]

# (username, name, roles, department)
PEOPLE: list[tuple[str, str, list[str], str]] = [
    ("intake", "受理员 李晓", ["intake"], "县城市运行管理中心"),
    ("shift", "值班长 王强", ["shift_leader"], "县城市运行管理中心"),
    ("dispatch", "派遣员 陈芳", ["dispatcher"], "县城市运行管理中心"),
    ("zjj", "住建局处置员 周明", ["handler"], "县住房和城乡建设局"),
    ("slj", "水利局处置员 吴涛", ["handler"], "县水利局"),
    ("zfj", "执法局处置员 郑伟", ["handler"], "县综合行政执法局"),
    ("grid", "网格员 刘洋", ["inspector"], "妙高街道办事处"),
    ("leader", "分管副县长 赵敏", ["leader"], "县城市运行管理中心"),
    ("data", "数据管理员 孙磊", ["data_admin"], "县城市运营有限公司"),
    ("sysadmin", "系统管理员 钱进", ["sysadmin"], "县城市运营有限公司"),
    ("secadmin", "安全管理员 冯丽", ["secadmin"], "县城市运营有限公司"),
    ("auditor", "审计管理员 何静", ["auditadmin"], "县城市运行管理中心"),
    ("zwfw", "政务服务管理员 林静", ["services_admin"], "县政务服务中心"),
    ("window", "窗口人员 黄丽", ["services_window"], "县政务服务中心"),
    ("agent", "代办员 蓝建华", ["services_agent"], "大柘镇大田村村民委员会"),
    ("scjg", "市场监管局审批人员 许文", ["services_handler"], "县市场监督管理局"),
    ("resident", "张秀英", ["resident"], ""),  # a villager of 大柘镇大田村: the applicant account, no department
    ("zxsp", "政务服务中心审批人员 陈敏", ["services_handler"], "县政务服务中心"),
    ("window_mg", "妙高街道便民服务中心 窗口人员 毛晓燕", ["services_window"], "妙高街道办事处"),
    ("window_yf", "云峰街道便民服务中心 窗口人员 张丽萍", ["services_window"], "云峰街道办事处"),
    ("window_bj", "北界镇便民服务中心 窗口人员 吴建平", ["services_window"], "北界镇人民政府"),
    ("window_dz", "大柘镇便民服务中心 窗口人员 叶秀英", ["services_window"], "大柘镇人民政府"),
    ("agent_bj", "代办员 刘春生", ["services_agent"], "北界镇红星坪村村民委员会"),
    ("agent_yf", "代办员 周美兰", ["services_agent"], "云峰街道长濂村村民委员会"),
    ("agent_mg", "代办员 郑丽华", ["services_agent"], "妙高街道北街社区居民委员会"),
    ("zwzx", "政务服务中心审批人员 徐敏", ["services_handler"], "县政务服务中心"),
    ("dsj", "大数据局目录管理员 蒋文", ["data_bureau"], "县大数据发展管理局"),
    ("scjg_data", "市场监管局数据专员 沈佳", ["data_provider"], "县市场监督管理局"),
    ("notice_county", "县应急管理局 公告发布员 吴红梅", ["notice_publisher"], "县应急管理局"),  # notices
    ("notice_dz", "大柘镇 公告发布员 周建国", ["notice_publisher"], "大柘镇人民政府"),  # notices, 村务公开
    ("notice_dt", "大田村 村务公开监督员 叶水根", ["notice_publisher"], "大柘镇大田村村民委员会"),  # 村务公开
    ("venue_dz", "大柘镇 场馆预约管理员 郑志强", ["venue_keeper"], "大柘镇人民政府"),  # bookings
    ("sthj", "生态环境分局 监测员 潘丽", ["eco_monitor"], "市生态环境局遂昌分局"),  # eco: air, water
    ("hzb", "县河长办 工作人员 吴斌", ["river_office"], "县水利局"),  # eco: 河长制/林长制
    ("hz_dz", "大柘镇 镇级河长 周卫东", ["river_chief"], "大柘镇人民政府"),  # eco: patrols
    ("hz_dt", "大田村 村级河长 叶建新", ["river_chief"], "大柘镇大田村村民委员会"),  # eco: patrols
    ("lz_bj", "北界镇 镇级林长 吴光明", ["river_chief"], "北界镇人民政府"),  # eco: forest patrols
    ("gep", "发改局 GEP核算员 郑晓", ["eco_accountant"], "县发展和改革局"),  # eco: ESV, GEP
    ("nync", "县农业农村局 监管员 毛建军", ["agri_officer"], "县农业农村局"),  # village: producers, 合格证
    ("farmer", "家庭农场主 叶根富", ["producer"], ""),  # village: 大柘镇大田村 a family farm (高山蔬菜)
    ("coop", "茶叶合作社 负责人 周雪芳", ["producer"], ""),  # village: a tea cooperative
    ("buyer", "县中学食堂 采购员 王海燕", ["buyer"], ""),  # village: a school canteen
    ("wlj", "县文旅局 管理员 陈思远", ["tourism_officer"], "县文化和广电旅游体育局"),  # village: 文旅
    ("scenic", "景区管理员 刘志强", ["scenic_manager"], ""),  # village: one scenic spot
    ("minsu", "民宿主 蓝春花", ["scenic_manager"], ""),  # village: one 民宿
    ("yjj", "县应急管理局 值班员 何建国", ["emergency_officer"], "县应急管理局"),  # safety: plans, command
    ("aqjc", "县应急管理局 安全检查员 吴志刚", ["safety_inspector"], "县应急管理局"),  # safety: inspections
    ("jtj", "县交通运输局 路网管理员 李建平", ["traffic_officer"], "县交通运输局"),  # safety: roads, parking
    ("zrzy", "自然资源局 地灾防治员 郑国华", ["handler"], "县自然资源和规划局"),  # safety: tasks (地质灾害)
    ("yj_dz", "大柘镇 应急办 周海军", ["handler"], "大柘镇人民政府"),  # safety: a township's tasks, field phone
    ("aibox", "视频智能分析盒子", ["camera_feed"], "县城市运行管理中心"),  # safety: posts camera events by token
    ("xmb", "项目办 主任 徐立群", ["programme_office"], "县大数据发展管理局"),  # programme: projects, KPIs
    ("czj", "县财政局 审核员 沈玉梅", ["finance_officer"], "县财政局"),  # programme: locks the payment tables
    ("yygs", "运营公司 运营经理 潘俊杰", ["operator_staff"], "县城市运营有限公司"),  # programme: the operator
    ("kfz", "生态伙伴 开发者 林晓东", ["partner_developer"], ""),  # programme: the developer portal
]


def demo_uscc(county: str, seq: int, kind: DepartmentKind) -> str:
    head = (
        "11"
        if kind in (DepartmentKind.OPS_CENTRE, DepartmentKind.DEPARTMENT, DepartmentKind.TOWNSHIP)
        else ("54" if kind == DepartmentKind.VILLAGE else "91")
    )
    first17 = f"{head}{county}{'0' * 6}{seq:03d}"[:17]
    return first17 + uscc.check_char(first17)


def load(session: Session, ctx: DemoContext) -> None:
    actor = Actor(id=None, name="demo")
    for i, (name, kind, parent) in enumerate(DEPARTMENTS, start=1):
        dep = departments.create(
            session,
            actor=actor,
            name=name,
            kind=kind,
            uscc_code=demo_uscc(ctx.county_code, i, kind),
            parent_id=ctx.department_ids.get(parent) if parent else None,
            division_code=ctx.county_code,
        )
        ctx.department_ids[name] = dep.id
    for n, (username, name, role_codes, dep_name) in enumerate(PEOPLE):
        user = flows.create_person(
            session,
            actor=actor,
            username=username,
            display_name=name,
            password=DEMO_PASSWORD,
            role_codes=role_codes,
            department_id=ctx.department_ids[dep_name] if dep_name else None,
            phone=f"1380571{n:04d}",
            must_change_password=False,
        )
        ctx.user_ids[username] = user.id
        note = "/".join(role_codes)
        if role_codes == ["resident"]:
            note += "  applicant account: apply online at /services, follow at /services/my"
        if role_codes[0] in ("sysadmin", "secadmin", "auditadmin"):
            secret = pyotp.random_base32()
            user.totp_secret_enc = cipher().encrypt(secret)
            user.totp_enabled = True
            user.recovery_codes = []
            note += f"  TOTP secret {secret} ({ctx.command(f'mfa code {username}')})"
        ctx.accounts.append((username, DEMO_PASSWORD, note))
    session.flush()
