"""The projects part of the demonstration county: the organisations the programme works with (the local
operating company, vendors, two ecosystem partners, a bank and the county's state-capital platform), five
projects with different funding and operating models across the three phases with their budgets and a year
of monthly spend, and one operation contract per project (monthly assessment, from December 2025 or
earlier, ending in 2027) with its payment schedule and a payment formula of its own. The contracts stay
drafts here: the KPIs part adds their KPIs and puts them into force."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.data.models import Resource
from countyos.org.service import uscc
from countyos.programme.models.modules import Phase
from countyos.programme.models.projects import OrgKind, ProjectKind
from countyos.programme.permissions import MANAGE, READ
from countyos.programme.schemas.projects import ContractIn, InstalmentIn, OrgIn, ProjectIn, SpendIn
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts

WAN = 10_000 * 100  # 万元 in fen

# (name, kind, department, contact, phone, address, description)
ORGS: tuple[tuple[str, OrgKind, str | None, str, str, str, str], ...] = (
    ("县城市运营有限公司", OrgKind.OPERATOR, "县城市运营有限公司", "周建华", "13957100001", "城关镇人民路18号",
     "县国资控股的本地运营公司，承担城市运行管理、政务服务和数据运营，按考核结果取得运营服务费。"),
    ("浙江数智城市科技有限公司", OrgKind.VENDOR, None, "陈晓峰", "13857100002", "杭州市滨江区网商路599号",
     "城市运行管理服务平台和数字乡村系统的建设单位。"),
    ("杭州感知物联网络有限公司", OrgKind.VENDOR, None, "刘海波", "13757100003", "杭州市余杭区文一西路998号",
     "物联感知网络的特许经营方：投资建设水位、雨量、井盖、路灯和空气质量监测设备并负责运维。"),
    ("县政务云服务有限公司", OrgKind.VENDOR, None, "吴丽娟", "13657100004", "城关镇科创园3幢",
     "政务云和一网通办系统的运维服务商。"),
    ("山水文旅数字科技有限公司", OrgKind.PARTNER, None, "郑雨桐", "13557100005", "城关镇溪滨路66号",
     "生态伙伴：基于县开放数据开发乡村旅游导览和客流服务。"),
    ("绿野农业数据服务有限公司", OrgKind.PARTNER, None, "孙志强", "13457100006", "南溪镇农创中心",
     "生态伙伴：为合作社提供农事记录、溯源和产销撮合的数据服务。"),
    ("县农村商业银行股份有限公司", OrgKind.FINANCIER, None, "钱文博", "13357100007", "城关镇解放街1号",
     "为特许经营项目提供项目贷款，以绩效付费的应收账款作还款来源。"),
    ("县国有资本投资运营集团有限公司", OrgKind.STATE_CAPITAL, None, "冯国庆", "13257100008", "城关镇行政中心东楼",
     "县属国资平台，出资孵化本地运营公司并以资源经营权引入社会资本。"),
)  # fmt: skip

# code, name, kind, phase number, modules, device classes, budget 万元, model, department, operator, state
# actions, dates, description, spend share of the budget over the year
PROJECTS: tuple[dict[str, Any], ...] = (
    {"code": "XM-2025-01", "name": "城市运行管理服务平台", "kind": ProjectKind.CONSTRUCTION, "phase": 1,
     "modules": ["cases", "ioc"], "device_classes": [], "resources": 2, "budget": 680, "model": "gov_one_off",
     "department": "县大数据发展管理局", "operator": "县城市运营有限公司", "actions": ["build", "operate"],
     "starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31), "spend": 0.62,
     "description": "一网统管的事件闭环、12345对接和城市运行总览；政府一次性购买建设，运营公司运营。"},
    {"code": "XM-2025-02", "name": "物联感知网络", "kind": ProjectKind.OPERATION, "phase": 1,
     "modules": ["sensing"], "device_classes": ["river_gauge", "rain_gauge", "manhole", "street_light", "air_station"],
     "resources": 0, "budget": 1250, "model": "ppp_concession", "department": "县大数据发展管理局",
     "operator": "杭州感知物联网络有限公司", "actions": ["build", "operate"],
     "starts_on": date(2025, 4, 1), "ends_on": date(2035, 3, 31), "spend": 0.18,
     "description": "特许经营十年：企业投资建设感知设备并运维，政府按设备在线率和告警处置绩效付费。"},
    {"code": "XM-2025-03", "name": "一网通办", "kind": ProjectKind.OPERATION, "phase": 1,
     "modules": ["services", "portal"], "device_classes": [], "resources": 1, "budget": 420,
     "model": "gov_instalment", "department": "县大数据发展管理局", "operator": "县城市运营有限公司",
     "actions": ["operate"], "starts_on": date(2025, 5, 1), "ends_on": date(2027, 12, 31), "spend": 0.41,
     "description": "政务服务事项、办件和好差评；居民门户。建设和运营费用分三年分期支付。"},
    {"code": "XM-2026-01", "name": "数字乡村", "kind": ProjectKind.CONSTRUCTION, "phase": 2,
     "modules": ["village"], "device_classes": ["soil", "greenhouse", "cold_chain", "gate_counter"], "resources": 0,
     "budget": 560, "model": "project_for_industry", "department": "县发展和改革局",
     "operator": "浙江数智城市科技有限公司", "actions": ["build"],
     "starts_on": date(2025, 11, 1), "ends_on": date(2027, 10, 31), "spend": 0.47,
     "description": "农事记录、合格证、产供销和乡村旅游；以项目引进数字农业企业在县设立区域总部。"},
    {"code": "XM-2027-01", "name": "生态与GEP", "kind": ProjectKind.CONSTRUCTION, "phase": 3,
     "modules": ["eco"], "device_classes": ["water_quality", "air_station"], "resources": 0, "budget": 380,
     "model": "state_incubation", "department": "县发展和改革局", "operator": "县城市运营有限公司",
     "actions": ["build"], "starts_on": date(2025, 12, 1), "ends_on": date(2027, 12, 31), "spend": 0.29,
     "description": "空气与水质监测、河长制林长制和GEP核算；国资平台出资孵化运营公司的生态数据业务。"},
)  # fmt: skip

# project code → contract: code, title, party, amount 万元, dates, formula, schedule ("quarterly"/"monthly")
CONTRACTS: dict[str, dict[str, Any]] = {
    "XM-2025-01": {"code": "HT-2025-YY-01", "title": "城市运行管理服务平台运营服务合同", "party": "县城市运营有限公司",
                   "amount": 240, "starts_on": date(2025, 12, 1), "ends_on": date(2027, 11, 30),
                   "formula": {"base": "even", "full_at": 90, "per_point_pct": 1.0, "max_deduction_pct": 30,
                               "zero_below": 60, "bonus": [{"at_least": 95, "pct": 3}, {"at_least": 98, "pct": 5}],
                               "max_bonus_pct": 5, "missing": "reweight", "no_data": "hold"},
                   "schedule": "quarterly"},
    "XM-2025-02": {"code": "HT-2025-YY-02", "title": "物联感知网络运维绩效服务合同",
                   "party": "杭州感知物联网络有限公司",
                   "amount": 360, "starts_on": date(2025, 12, 1), "ends_on": date(2027, 11, 30),
                   "formula": {"base": "even", "full_at": 95, "per_point_pct": 2.0, "max_deduction_pct": 40,
                               "zero_below": 80, "missing": "zero", "no_data": "hold"},
                   "schedule": "quarterly"},
    "XM-2025-03": {"code": "HT-2025-YY-03", "title": "一网通办运营服务合同", "party": "县城市运营有限公司",
                   "amount": 180, "starts_on": date(2025, 12, 1), "ends_on": date(2027, 11, 30),
                   "formula": {"base": "instalment", "full_at": 90, "per_point_pct": 1.5, "max_deduction_pct": 50,
                               "zero_below": 60, "missing": "reweight", "no_data": "pay"},
                   "schedule": "monthly"},
    "XM-2026-01": {"code": "HT-2025-YY-04", "title": "数字乡村平台运营服务合同", "party": "浙江数智城市科技有限公司",
                   "amount": 150, "starts_on": date(2025, 11, 1), "ends_on": date(2027, 10, 31),
                   "formula": {}, "schedule": "quarterly"},
    "XM-2027-01": {"code": "HT-2025-YY-05", "title": "生态监测与GEP核算运营服务合同", "party": "县城市运营有限公司",
                   "amount": 120, "starts_on": date(2025, 12, 1), "ends_on": date(2027, 6, 30),
                   "formula": {"base": "even", "full_at": 85, "per_point_pct": 1.0, "max_deduction_pct": 100,
                               "zero_below": 50, "missing": "full", "no_data": "hold"},
                   "schedule": "quarterly"},
}  # fmt: skip


def _credit_code(county: str, n: int) -> str:
    first17 = f"91{county}MA2C{n:05d}"[:17]
    return first17 + uscc.check_char(first17)


def _months(today: date, n: int = 12) -> list[date]:
    """The first days of the N months before this one, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(date(y, m, 1))
    return out[::-1]


def _monthly(starts_on: date, ends_on: date, amount_fen: int) -> list[tuple[date, int]]:
    dues: list[date] = []
    y, m = starts_on.year, starts_on.month
    while date(y, m, 1) <= ends_on:
        dues.append(date(y, m, min(starts_on.day, 28)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    each = amount_fen // len(dues)
    out = [(d, each) for d in dues]
    out[-1] = (dues[-1], amount_fen - each * (len(dues) - 1))
    return out


def load(session: Session, ctx: Any) -> None:
    user_ids = getattr(ctx, "user_ids", {}) or {}
    department_ids = getattr(ctx, "department_ids", {}) or {}
    county = str(getattr(ctx, "county_code", "331123"))
    office = Actor(id=user_ids.get("xmb"), name="demo", permissions=frozenset({READ, MANAGE}))
    orgs: dict[str, int] = {}
    for n, (name, kind, dept, contact, phone, address, desc) in enumerate(ORGS, start=1):
        data = OrgIn(
            name=name,
            kind=kind,
            uscc=_credit_code(county, n),
            contact_name=contact,
            contact_phone=phone,
            address=address,
            description=desc,
            department_id=department_ids.get(dept) if dept else None,
        )
        orgs[name] = svc.create_org(session, actor=office, data=data).id
    phases = {ph.number: ph.id for ph in session.scalars(select(Phase))}
    resources = list(session.scalars(select(Resource.code).order_by(Resource.id).limit(3)))
    rng = random.Random(20251201)
    months = _months(county_today())
    for spec in PROJECTS:
        p = svc.create_project(
            session,
            actor=office,
            data=ProjectIn(
                code=spec["code"], name=spec["name"], kind=spec["kind"], phase_id=phases.get(spec["phase"]),
                modules=spec["modules"], device_classes=spec["device_classes"],
                data_resources=resources[: spec["resources"]], budget_fen=spec["budget"] * WAN,
                funding_model=spec["model"], department_id=department_ids.get(spec["department"]),
                operator_id=orgs[spec["operator"]], starts_on=spec["starts_on"], ends_on=spec["ends_on"],
                description=spec["description"],
            ),
        )  # fmt: skip
        for action in spec["actions"]:
            svc.act(session, actor=office, project_id=p.id, action=action)
        c_spec = CONTRACTS[spec["code"]]
        c = contracts.create(
            session,
            actor=office,
            data=ContractIn(
                code=c_spec["code"], title=c_spec["title"], project_id=p.id, party_id=orgs[c_spec["party"]],
                starts_on=c_spec["starts_on"], ends_on=c_spec["ends_on"], amount_fen=c_spec["amount"] * WAN,
                formula=c_spec["formula"],
            ),
        )  # fmt: skip
        if c_spec["schedule"] == "monthly":
            schedule = _monthly(c.starts_on, c.ends_on, c.amount_fen)
            label = "月度运营服务费"
        else:
            schedule = contracts.even_schedule(c.starts_on, c.ends_on, c.amount_fen, every_months=3)
            label = "季度运营服务费"
        for k, (due, amount) in enumerate(schedule, start=1):
            item = InstalmentIn(due_on=due, amount_fen=amount, label=f"第{k}期 {label}")
            contracts.add_instalment(session, actor=office, contract_id=c.id, data=item)
        # a year of monthly spend: the share of the budget spread unevenly over the months, the operation
        # months' part booked against the contract
        total = int(spec["budget"] * WAN * spec["spend"])
        weights = [0.6 + rng.random() for _ in months]
        scale = total / sum(weights)
        for month, wgt in zip(months, weights, strict=True):
            amount = max(100, int(wgt * scale) // 100 * 100)
            on_contract = month >= c.starts_on
            svc.add_spend(
                session,
                actor=office,
                project_id=p.id,
                data=SpendIn(
                    spent_on=date(month.year, month.month, 25), amount_fen=amount,
                    note=f"{month.year}年{month.month}月{'运营服务与运维' if on_contract else '建设'}支出",
                    contract_id=c.id if on_contract else None,
                ),
            )  # fmt: skip
    session.flush()
    if hasattr(ctx, "notes"):
        ctx.notes.append(
            "Programme (长效运营): 3 phases (/programme/roadmap), 5 projects with different funding models, "
            "8 organisations, 5 operation contracts assessed monthly — /programme "
            "(office xmb, finance czj, operator yygs)"
        )
