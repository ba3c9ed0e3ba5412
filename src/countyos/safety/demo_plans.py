"""The demo county's plans and resources: the county's 防汛防台 plan (SC-FX, two versions: v1 superseded,
v2 in force) triggered by river_gauge-01's water level — Ⅳ above 4.0 m for 10 minutes (the simulator's
routine flood wave peaks at 3.6 m, so it does not start a response by itself), Ⅲ above 4.6 m, Ⅱ above
5.2 m, Ⅰ above 5.8 m — and the 地质灾害 plan (SC-DZ) on rain_gauge-01's 10-minute rain; exercises in 2026;
three warehouses with their stock (a few lines expired or expiring), five rescue teams, eight shelters
and six experts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import Category
from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.org.models import Department
from countyos.safety.models.plans import ExerciseKind, PlanType
from countyos.safety.models.resources import TeamKind
from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.plans import ExerciseIn, PlanBody, PlanIn
from countyos.safety.schemas.resources import ExpertIn, MemberIn, ShelterIn, StockIn, TeamIn, WarehouseIn
from countyos.safety.service import plans, plans_exercises
from countyos.safety.service import resources_registry as registry
from countyos.sensing.service import streams

SEAT = (119.276, 28.592)  # 妙高街道, the county seat


def _over(value: float, clear: float, seconds: int) -> dict[str, Any]:
    return {
        "type": "duration",
        "seconds": seconds,
        "of": {"type": "threshold", "op": ">", "value": value, "clear": clear},
    }


def _level(
    level: str, criteria: str, triggers: list[dict[str, Any]], duties: list[tuple[str, str, int]]
) -> dict[str, Any]:
    return {
        "level": level,
        "criteria": criteria,
        "triggers": triggers,
        "duties": [{"department": d, "duty": t, "deadline_minutes": m} for d, t, m in duties],
    }


def _gauge(value: float, clear: float, words: str) -> dict[str, Any]:
    return {
        "kind": "reading",
        "device": "river_gauge-01",
        "metric": "water_level",
        "condition": _over(value, clear, 600),
        "description": words,
    }


def _flood(version: int, category: str | None) -> dict[str, Any]:
    short = 0 if version == 1 else 1  # v2 shortens the first deadlines and adds the health bureau
    iv_triggers = [_gauge(4.0, 3.8, "妙高溪水位超过 4.0 米持续 10 分钟")]
    if category:
        iv_triggers.append({"kind": "case", "category": category, "description": "城区道路积水内涝报告"})
    iv = [
        ("县水利局", "加密水情监测，每小时报送妙高溪水位和雨情", 60 - 15 * short),
        ("县应急管理局", "组织防汛会商，发布Ⅳ级应急响应通知", 120 - 30 * short),
        ("县自然资源和规划局", "开展地质灾害隐患点巡查", 120),
        ("大柘镇人民政府", "组织沿溪低洼地带巡查，做好人员转移准备", 90),
        ("妙高街道办事处", "检查城区排水设施，清理雨水箅子", 90),
    ]
    if version == 2:
        iv.append(("县卫生健康局", "做好医疗救护队伍和药品准备", 120))
    iii = [
        ("县水利局", "水库预泄，堤防24小时巡查", 30),
        ("县应急管理局", "启动Ⅲ级响应，调度救援队伍和物资", 45),
        ("县交通运输局", "封闭漫水路段，保障抢险通道", 45),
        ("县公安局", "转移区域交通管制和治安维护", 60),
        ("县卫生健康局", "派出医疗救护组", 60),
        ("大柘镇人民政府", "转移沿溪低洼地带群众至避难场所", 45),
        ("妙高街道办事处", "转移地下空间和低洼小区人员", 45),
        ("县自然资源和规划局", "对危险隐患点实施人员撤离", 60),
    ]
    ii = [
        ("县应急管理局", "启动Ⅱ级响应，县防指成员单位集中办公", 30),
        ("县水利局", "水库泄洪调度，报告市水利局", 20),
        ("县公安局", "全面交通管制，协助群众转移", 30),
        ("县交通运输局", "组织抢修损毁道路和桥梁", 30),
        ("大柘镇人民政府", "全面转移危险区域群众", 30),
    ]
    i = [
        ("县应急管理局", "启动Ⅰ级响应，请求市级支援", 15),
        ("县水利局", "全力抢护险工险段", 15),
        ("县公安局", "全力保障转移和救援通道", 20),
        ("县卫生健康局", "设立临时医疗点，开展卫生防疫", 30),
    ]
    return {
        "levels": [
            _level("IV", "妙高溪水位站水位超过 4.0 米（警戒水位）持续 10 分钟", iv_triggers, iv),
            _level("III", "妙高溪水位超过 4.6 米持续 10 分钟", [_gauge(4.6, 4.4, "妙高溪水位超过 4.6 米")], iii),
            _level("II", "妙高溪水位超过 5.2 米持续 10 分钟", [_gauge(5.2, 5.0, "妙高溪水位超过 5.2 米")], ii),
            _level(
                "I", "妙高溪水位超过 5.8 米（保证水位）持续 10 分钟", [_gauge(5.8, 5.6, "妙高溪水位超过 5.8 米")], i
            ),
        ],
        "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 72, "to": "市应急管理局"},
        "measures": "按照“以防为主、防抗救相结合”的原则，坚持人员转移“应转尽转、应转早转”。",
    }


def _rain(value: float, clear: float, words: str) -> dict[str, Any]:
    return {
        "kind": "reading",
        "device": "rain_gauge-01",
        "metric": "rain",
        "condition": _over(value, clear, 1800),
        "description": words,
    }


def _geological() -> dict[str, Any]:
    return {
        "levels": [
            _level(
                "IV",
                "雨量站10分钟降雨量超过 20 毫米持续 30 分钟",
                [_rain(20, 15, "10分钟降雨量超过 20 毫米持续 30 分钟")],
                [
                    ("县自然资源和规划局", "发布地质灾害气象风险预警，巡查隐患点", 60),
                    ("县应急管理局", "组织会商，通知乡镇做好转移准备", 90),
                    ("大柘镇人民政府", "隐患点监测员加密巡查", 60),
                ],
            ),
            _level(
                "III",
                "雨量站10分钟降雨量超过 30 毫米持续 30 分钟",
                [_rain(30, 25, "10分钟降雨量超过 30 毫米持续 30 分钟")],
                [
                    ("县自然资源和规划局", "派出专家组现场调查", 45),
                    ("县应急管理局", "启动Ⅲ级响应，调派救援队伍", 45),
                    ("大柘镇人民政府", "转移隐患点威胁范围内群众", 30),
                    ("县交通运输局", "清理塌方路段", 60),
                ],
            ),
        ],
        "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 72, "to": "市应急管理局"},
    }


def _keep_known(data: dict[str, Any], names: set[str], has: set[tuple[str, str]]) -> dict[str, Any]:
    """The body without duties of departments or triggers on datastreams this county does not have."""
    levels = []
    for spec in data["levels"]:
        duties = [d for d in spec["duties"] if d["department"] in names]
        triggers = [t for t in spec["triggers"] if t["kind"] != "reading" or (t["device"], t["metric"]) in has]
        if duties:
            levels.append({**spec, "duties": duties, "triggers": triggers})
    return {**data, "levels": levels}


WAREHOUSES = [
    ("县防汛抗旱物资仓库", 119.281, 28.598, "妙高街道北街88号", "县水利局", "毛建华", "13905781001"),
    ("县应急物资储备库", 119.262, 28.586, "云峰街道工业园区", "县应急管理局", "叶志强", "13905781002"),
    ("大柘镇防汛物资仓库", 119.350, 28.540, "大柘镇大柘村", "大柘镇人民政府", "周立新", "13905781003"),
]
STOCK: dict[int, list[tuple[str, float, int | None]]] = {  # (material, quantity, days to expiry)
    0: [
        ("assault_boat", 6, None),
        ("rubber_boat", 10, None),
        ("life_jacket", 800, None),
        ("life_buoy", 200, None),
        ("sandbag", 20000, None),
        ("woven_bag", 50000, None),
        ("geotextile", 3000, None),
        ("pump", 24, None),
        ("generator", 12, None),
        ("lighting", 60, None),
        ("tent", 80, None),
        ("water", 300, 20),
        ("instant_food", 200, -5),
        ("chainsaw", 10, None),
        ("first_aid_kit", 100, 400),
    ],
    1: [
        ("tent", 300, None),
        ("folding_bed", 1000, None),
        ("quilt", 1500, None),
        ("water", 1200, 200),
        ("instant_food", 900, 25),
        ("medicine", 60, 12),
        ("first_aid_kit", 300, 300),
        ("generator", 20, None),
        ("lighting", 150, None),
        ("life_jacket", 400, None),
        ("fire_extinguisher", 200, 700),
        ("wind_extinguisher", 30, None),
        ("pump", 10, None),
        ("sandbag", 8000, None),
    ],
    2: [
        ("life_jacket", 150, None),
        ("sandbag", 5000, None),
        ("woven_bag", 10000, None),
        ("rubber_boat", 2, None),
        ("pump", 4, None),
        ("generator", 3, None),
        ("lighting", 20, None),
        ("tent", 30, None),
        ("water", 100, -30),
        ("instant_food", 80, 120),
        ("quilt", 200, None),
    ],
}
TEAMS = [
    (
        "县消防救援大队",
        "professional",
        119.270,
        28.590,
        "郑国平",
        "13905782001",
        48,
        "消防车 8 辆、冲锋舟 2 艘、破拆工具",
    ),
    ("县水利抢险队", "professional", 119.283, 28.600, "毛卫东", "13905782002", 30, "挖掘机 2 台、抽水泵 10 台"),
    (
        "县综合应急救援队",
        "comprehensive",
        119.265,
        28.585,
        "叶建军",
        "13905782003",
        60,
        "救援车 4 辆、无人机 3 架、卫星电话",
    ),
    ("遂昌县蓝天救援队", "volunteer", 119.290, 28.595, "吴晓峰", "13905782004", 45, "橡皮艇 4 艘、绳索救援装备"),
    ("大柘镇民兵应急分队", "militia", 119.352, 28.542, "周海林", "13905782005", 36, "铁锹、沙袋、救生衣"),
]
SHELTERS = [
    ("妙高小学避灾安置点", 119.278, 28.594, "妙高街道解放街", 800, 6000, "教室、食堂、厕所、应急供电", "妙高街道"),
    ("县体育中心避灾安置点", 119.268, 28.600, "妙高街道体育路", 2000, 15000, "室内馆、淋浴、医疗点", "妙高街道"),
    ("云峰中学避灾安置点", 119.258, 28.582, "云峰街道云峰路", 1200, 9000, "宿舍、食堂、厕所", "云峰街道"),
    ("云峰街道文化礼堂", 119.255, 28.579, "云峰街道长濂村", 300, 800, "礼堂、厨房", "云峰街道"),
    ("大柘镇中心小学", 119.349, 28.538, "大柘镇大柘村", 600, 4500, "教室、食堂、厕所", "大柘镇"),
    ("大柘镇文化礼堂", 119.356, 28.545, "大柘镇石笋头村", 200, 600, "礼堂、厨房", "大柘镇"),
    ("北界镇中心小学", 119.190, 28.650, "北界镇北界村", 500, 4000, "教室、食堂、厕所", "北界镇"),
    ("北界镇避灾安置中心", 119.195, 28.655, "北界镇红星坪村", 400, 2500, "宿舍、厨房、应急供电", "北界镇"),
]
EXPERTS = [
    ("毛志远", "水利工程", "县水利局", "13905783001", 119.281, 28.598),
    ("叶文华", "地质灾害", "县自然资源和规划局", "13905783002", 119.272, 28.591),
    ("周建国", "气象", "县气象局", "13905783003", None, None),
    ("吴丽萍", "医疗救护", "县人民医院", "13905783004", 119.274, 28.596),
    ("郑海涛", "危险化学品", "县应急管理局", "13905783005", None, None),
    ("王晓东", "道路桥梁", "县交通运输局", "13905783006", None, None),
]


def load(session: Session, ctx: Any) -> None:
    yjj = ctx.user_ids.get("yjj")
    actor = Actor(id=yjj, name="yjj", permissions=frozenset({EMERGENCY_READ, EMERGENCY_MANAGE}))
    names = set(session.scalars(select(Department.name).where(Department.is_active.is_(True))))
    has = {
        (d, m)
        for d, m in (("river_gauge-01", "water_level"), ("rain_gauge-01", "rain"))
        if streams.by_key(session, d, m)
    }
    dept_id = {n: i for n, i in session.execute(select(Department.name, Department.id))}
    flood_cat = session.scalar(
        select(Category.service_code).where(Category.name.contains("积水"), Category.is_group.is_(False)).limit(1)
    )

    fx = plans.create_plan(
        session,
        actor=actor,
        data=PlanIn(
            code="SC-FX",
            name="遂昌县防汛防台应急预案",
            type=PlanType.FLOOD,
            lead_department_id=dept_id.get("县水利局"),
            summary="适用于本县行政区域内洪涝、台风灾害的预防和应急处置。县防汛防台抗旱指挥部统一领导，县水利局承担日常工作。",
        ),
    )
    plans.save_draft(
        session,
        actor=actor,
        plan_id=fx.id,
        body=PlanBody.model_validate(_keep_known(_flood(1, flood_cat), names, has)),
        note="首次发布",
    )
    v1 = plans.publish(session, actor=actor, plan_id=fx.id)
    v1.published_at = datetime(2025, 4, 15, 2, 0, tzinfo=UTC)
    plans.save_draft(
        session,
        actor=actor,
        plan_id=fx.id,
        body=PlanBody.model_validate(_keep_known(_flood(2, flood_cat), names, has)),
        note="缩短Ⅳ级响应水利、应急时限，增加卫生健康部门职责",
    )
    v2 = plans.publish(session, actor=actor, plan_id=fx.id)
    v2.published_at = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)

    dz = plans.create_plan(
        session,
        actor=actor,
        data=PlanIn(
            code="SC-DZ",
            name="遂昌县突发地质灾害应急预案",
            type=PlanType.GEOLOGICAL,
            lead_department_id=dept_id.get("县自然资源和规划局"),
            summary="适用于本县行政区域内因降雨等因素诱发的崩塌、滑坡、泥石流等地质灾害的应急处置。",
        ),
    )
    plans.save_draft(
        session,
        actor=actor,
        plan_id=dz.id,
        body=PlanBody.model_validate(_keep_known(_geological(), names, has)),
        note="首次发布",
    )
    plans.publish(session, actor=actor, plan_id=dz.id)

    exercises = [
        (
            fx.id,
            date(2026, 4, 20),
            ExerciseKind.TABLETOP,
            "汛前防汛防台桌面推演",
            "县应急指挥中心",
            ["县水利局", "县应急管理局", "县自然资源和规划局", "县交通运输局"],
            "推演妙高溪超警戒水位情景下的会商、转移和报送流程。",
            "个别乡镇转移名单未及时更新。",
        ),
        (
            fx.id,
            date(2026, 6, 5),
            ExerciseKind.FIELD,
            "大柘镇沿溪群众转移实战演练",
            "大柘镇大柘村",
            ["大柘镇人民政府", "县应急管理局", "县公安局", "县卫生健康局"],
            "组织 120 名群众 40 分钟内转移至大柘镇中心小学。",
            "夜间照明不足，广播覆盖有盲区。",
        ),
        (
            dz.id,
            date(2026, 5, 12),
            ExerciseKind.FIELD,
            "滑坡隐患点避险转移演练",
            "北界镇红星坪村",
            ["县自然资源和规划局", "县应急管理局"],
            "监测员发现裂缝后鸣锣示警，群众沿既定路线撤离。",
            "",
        ),
        (
            fx.id,
            date(2026, 9, 18),
            ExerciseKind.COMBINED,
            "防台风综合演练",
            "县体育中心",
            ["县应急管理局", "县水利局", "县公安局", "县卫生健康局", "县交通运输局"],
            "台风正面登陆情景下的综合处置演练。",
            "部门间通信频段未统一。",
        ),
    ]
    for plan_id, held_on, kind, title, place, who, summary, problems in exercises:
        plans_exercises.create(
            session,
            actor=actor,
            data=ExerciseIn(
                plan_id=plan_id,
                held_on=held_on,
                kind=kind,
                title=title,
                place=place,
                participants=[n for n in who if n in names],
                summary=summary,
                problems=problems,
            ),
        )

    today = county_today()
    for i, (name, lon, lat, address, keeper, contact, phone) in enumerate(WAREHOUSES):
        w = registry.save_warehouse(
            session,
            actor=actor,
            data=WarehouseIn(
                name=name,
                lon=lon,
                lat=lat,
                address=address,
                keeper_department_id=dept_id.get(keeper),
                contact=contact,
                phone=phone,
            ),
        )
        for material, quantity, days in STOCK[i]:
            expires = today + timedelta(days=days) if days is not None else None
            registry.add_stock(
                session,
                actor=actor,
                warehouse_id=w.id,
                data=StockIn(material=material, quantity=quantity, expires_on=expires),
            )
    for name, team_kind, lon, lat, leader, phone, count, equipment in TEAMS:
        members = [
            MemberIn(name=leader, role="队长", phone=phone),
            MemberIn(name=f"{leader[0]}副队长", role="副队长", phone=phone[:-1] + "9"),
        ]
        registry.save_team(
            session,
            actor=actor,
            data=TeamIn(
                name=name,
                kind=TeamKind(team_kind),
                lon=lon,
                lat=lat,
                leader=leader,
                phone=phone,
                members_count=count,
                equipment=equipment,
                members=members,
            ),
        )
    for name, lon, lat, address, capacity, area, facilities, township in SHELTERS:
        registry.save_shelter(
            session,
            actor=actor,
            data=ShelterIn(
                name=name,
                lon=lon,
                lat=lat,
                address=address,
                capacity=capacity,
                area_m2=area,
                facilities=facilities,
                township=township,
            ),
        )
    for name, field, unit, phone, elon, elat in EXPERTS:
        registry.save_expert(
            session, actor=actor, data=ExpertIn(name=name, field=field, unit=unit, phone=phone, lon=elon, lat=elat)
        )
    ctx.notes.append(
        "Emergency plans: SC-FX (version 2 in force; level IV above 4.0 m at river_gauge-01) and SC-DZ; "
        "3 warehouses, 5 teams, 8 shelters, 6 experts — /safety/plans, /safety/resources"
    )
