"""The cases part of the demonstration county: categories, limits, routing, an Open311 app key, and a
year of plausible case history — seasonal (summer litter and noise, winter ice), weekly (more on
Mondays, fewer at weekends), a few departments clearly slower than others, some rework — generated
with bulk inserts in seconds. Timestamps follow the working-time calendar, so the evaluation shows
what such a year would really look like. The last two weeks are still open, at every step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from countyos.cases import lifecycle
from countyos.cases.lifecycle import STATE_STEP, State
from countyos.cases.models import (
    Case,
    CaseEvent,
    Category,
    CategoryKind,
    Channel,
    DispatchRecord,
    Priority,
    Reporter,
    Step,
    TimeLimit,
)
from countyos.cases.service import categories, people, routing, timers
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DEMO_PASSWORD, DemoContext
from countyos.core.errors import CountyError
from countyos.core.workcal import TimeUnit, calendar
from countyos.org.service import audit, roles, tokens, users

SEED = 20261127
CASES_PER_YEAR = 6000
FRESH = 25
ACTOR = Actor(id=None, name="demo")

# (category kind, code, weight, season peak month or 0, responsible department)
MIX: list[tuple[CategoryKind, str, float, int]] = [
    (CategoryKind.MATTER, "06010", 9, 7),  # 暴露垃圾 — summer
    (CategoryKind.MATTER, "06042", 6, 8),  # 垃圾站（箱）满溢
    (CategoryKind.MATTER, "09006", 8, 5),  # 占道经营
    (CategoryKind.MATTER, "09009", 7, 0),  # 机动车乱停放
    (CategoryKind.MATTER, "06028", 4, 7),  # 噪声扰民
    (CategoryKind.MATTER, "07001", 5, 0),  # 非法小广告
    (CategoryKind.MATTER, "08004", 3, 4),  # 工地扬尘
    (CategoryKind.MATTER, "06013", 4, 3),  # 道路破损
    (CategoryKind.MATTER, "10001", 2, 1),  # 道路积雪、结冰 — winter
    (CategoryKind.COMPONENT, "01002", 5, 6),  # 污水井盖
    (CategoryKind.COMPONENT, "01003", 4, 6),  # 雨水井盖
    (CategoryKind.COMPONENT, "01001", 3, 0),  # 供水井盖
    (CategoryKind.COMPONENT, "01037", 6, 12),  # 路灯
    (CategoryKind.COMPONENT, "03005", 4, 8),  # 垃圾箱
    (CategoryKind.COMPONENT, "04001", 1, 0),  # 古树名木
]
COMPONENT_OF_MATTER = {
    "06010": "03005",
    "06042": "03005",
    "09006": "01037",
    "09009": "01037",
    "06028": "01002",
    "07001": "01037",
    "08004": "01037",
    "06013": "01037",
    "10001": "01037",
}

# group code → department; specific categories override
ROUTES: list[tuple[CategoryKind, str, str, list[str]]] = [
    (CategoryKind.COMPONENT, "01", "县住房和城乡建设局", []),
    (CategoryKind.COMPONENT, "01001", "县水利局", []),
    (CategoryKind.COMPONENT, "02", "县交通运输局", []),
    (CategoryKind.COMPONENT, "03", "县综合行政执法局", []),
    (CategoryKind.COMPONENT, "04", "县自然资源和规划局", []),
    (CategoryKind.MATTER, "01", "县住房和城乡建设局", []),
    (CategoryKind.MATTER, "06", "县综合行政执法局", ["县住房和城乡建设局"]),
    (CategoryKind.MATTER, "06013", "县交通运输局", []),
    (CategoryKind.MATTER, "07", "县综合行政执法局", []),
    (CategoryKind.MATTER, "08", "县住房和城乡建设局", ["县综合行政执法局"]),
    (CategoryKind.MATTER, "09", "县综合行政执法局", []),
    (CategoryKind.MATTER, "10", "县应急管理局", ["县交通运输局"]),
]
# how much slower than the limit each department works (1.0 = typical)
SLOWNESS = {"县自然资源和规划局": 1.9, "县交通运输局": 1.6, "县水利局": 1.2}
CONDITIONS = {
    "06010": ("暴露垃圾面积 ≥ 0.5 平方米或影响通行", "垃圾清理干净，地面无残留"),
    "01002": ("井盖缺失、破损、移位或高差 > 2 厘米", "井盖完好、复位，周边无安全隐患"),
    "10001": ("主次干道、人行道出现积雪结冰影响通行", "积雪清除，撒布融雪剂，路面可安全通行"),
}
HOTLINE_TAXONOMY = """code,name
01,城乡建设
0101,市容环卫
010101,垃圾清运
010102,占道经营
0102,市政设施
010201,路灯不亮
010202,井盖问题
02,交通出行
0201,道路交通
020101,违章停车
"""


@dataclass
class Sim:
    """One simulated case: its milestones (None = not reached), worked out on the calendar."""

    reported: datetime
    state: State
    events: list[tuple[str, datetime, str, str]]  # (action, at, from, to)
    values: dict[str, Any]


def _setup(session: Session, ctx: DemoContext) -> dict[str, Category]:
    categories.import_gb_directory(session, actor=ACTOR)
    categories.ensure_default_limits(session)
    categories.import_hotline_taxonomy(session, actor=ACTOR, data=HOTLINE_TAXONOMY.encode())
    cats: dict[str, Category] = {}
    for kind, code, *_ in MIX:
        cat = categories.get_by_code(session, kind=kind, code=code)
        assert cat is not None
        cats[code] = cat
    for code, (reg, close) in CONDITIONS.items():
        categories.update(
            session,
            actor=ACTOR,
            category_id=cats[code].id,
            changes={"register_condition": reg, "close_condition": close},
        )
    categories.update(session, actor=ACTOR, category_id=cats["10001"].id, changes={"default_priority": Priority.URGENT})
    categories.update(
        session,
        actor=ACTOR,
        category_id=cats["06010"].id,
        changes={
            "attributes": [
                {
                    "code": "AMOUNT",
                    "datatype": "singlevaluelist",
                    "required": False,
                    "description": "垃圾数量",
                    "values": [{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
                }
            ]
        },
    )
    # emergencies in natural hours; litter faster in the core area
    session.add_all(
        [
            TimeLimit(category_id=cats["10001"].id, area_class="*", step=Step.HANDLE, amount=4, unit=TimeUnit.HOURS),
            TimeLimit(
                category_id=cats["06010"].id, area_class="A", step=Step.HANDLE, amount=4, unit=TimeUnit.WORKING_HOURS
            ),
            TimeLimit(
                category_id=cats["01002"].id, area_class="A", step=Step.HANDLE, amount=4, unit=TimeUnit.WORKING_HOURS
            ),
        ]
    )
    for kind, code, dep_name, co in ROUTES:
        cat = categories.get_by_code(session, kind=kind, code=code)
        dep = ctx.department_ids.get(dep_name)
        if cat is None or dep is None:
            continue
        routing.save_rule(
            session,
            actor=ACTOR,
            category_id=cat.id,
            department_id=dep,
            co_department_ids=[ctx.department_ids[c] for c in co if c in ctx.department_ids],
        )
    if "大柘镇人民政府" in ctx.department_ids:
        m06 = categories.get_by_code(session, kind=CategoryKind.MATTER, code="06")
        town = _township_code(session, "大柘镇")
        if m06 is not None and town:
            routing.save_rule(
                session,
                actor=ACTOR,
                category_id=m06.id,
                township_code=town,
                department_id=ctx.department_ids["大柘镇人民政府"],
                note="乡镇属地处置",
            )
    session.flush()
    return cats


# The intake desk: a local category found by its pinyin initials (ljdf), stock phrases, and callers
# whose numbers bring up their past cases; two web messages wait to be accepted.
STOCK_PHRASES: list[tuple[str | None, str]] = [
    (None, "来电人要求尽快处理，处理后回复。"),
    (None, "来电人不愿透露姓名。"),
    (None, "来电人反映该问题已持续多日。"),
    ("06010", "现场垃圾较多，有异味，影响周边居民生活。"),
    ("09006", "早晚高峰占道经营，影响行人和车辆通行。"),
    ("01002", "井盖缺失或破损，存在安全隐患，请尽快处置。"),
]
DEMO_CALLERS = [("张伟", "13857812345", 3), ("李芳", "13905781234", 2)]
DEMO_MESSAGES: list[tuple[str, str | None, str, str]] = [
    ("赵敏", "13705785678", "06042", "小区门口的垃圾箱满了好几天，一直没人清运。"),
    ("钱多多", None, "09009", "学校门口早上总有车辆乱停，孩子进出很危险。"),
]


def _intake_desk(session: Session, ctx: DemoContext, cats: dict[str, Category]) -> None:
    from countyos.cases.models import DemandType, StockPhrase, WorkOrder
    from countyos.cases.service import cases as case_service

    dumped = categories.create(
        session,
        actor=ACTOR,
        kind=CategoryKind.LOCAL,
        code="001",
        name="垃圾堆放",
        keywords="乱倒垃圾 偷倒 建筑垃圾 装修垃圾",
        audit_it=False,
    )
    enforcement = ctx.department_ids.get("县综合行政执法局")
    if enforcement is not None:
        routing.save_rule(session, actor=ACTOR, category_id=dumped.id, department_id=enforcement)
    for position, (code, text_) in enumerate(STOCK_PHRASES):
        cat = cats.get(code) if code else None
        if code and cat is None:
            cat = categories.get_by_code(session, kind=CategoryKind.MATTER, code=code)
        session.add(StockPhrase(category_id=cat.id if cat else None, text=text_, position=position, updated_by="demo"))
    # callers: their earlier 12345 calls are cases of the year's history
    hotline = list(
        session.scalars(select(Case).where(Case.channel == Channel.HOTLINE).order_by(Case.reported_at.desc()).limit(40))
    )
    kinds = list(DemandType)
    used = 0
    for name, phone, n in DEMO_CALLERS:
        for case in hotline[used : used + n]:
            rep = session.scalar(select(Reporter).where(Reporter.case_id == case.id).limit(1))
            if rep is not None:
                rep.name = name
                rep.phone_enc = people.encrypt(phone)
                rep.phone_index = people.blind_index(phone)
            session.add(
                WorkOrder(
                    case_id=case.id,
                    order_no=case.external_id,
                    called_at=case.reported_at,
                    demand_type=kinds[used % 5],
                    callback_needed=used % 2 == 0,
                )
            )
            used += 1
    placed = session.execute(
        select(Case.lon, Case.lat).where(Case.lon.is_not(None), Case.channel == Channel.WEB).limit(len(DEMO_MESSAGES))
    ).all()
    for (sender, sender_phone, code, words), (lon, lat) in zip(DEMO_MESSAGES, placed, strict=False):
        cat = categories.get_by_code(session, kind=CategoryKind.MATTER, code=code)
        if cat is None:
            continue
        try:  # a point the county's own lookup refuses is left out
            with session.begin_nested():
                case_service.create(
                    session,
                    actor=Actor(id=None, name="citizen"),
                    new=case_service.NewCase(
                        channel=Channel.WEB,
                        category_id=cat.id,
                        description=words,
                        lon=lon,
                        lat=lat,
                        public_report=True,
                        reporter=case_service.ReporterIn(name=sender, phone=sender_phone),
                    ),
                )
        except CountyError:
            continue
    session.flush()
    ctx.notes.append(
        "Intake desk: /cases/intake (user intake); caller 13857812345 has past cases; try the category search ljdf."
    )


def _township_code(session: Session, name: str) -> str | None:
    from countyos.geo.models import Division, DivisionLevel

    return session.scalar(select(Division.code).where(Division.level == DivisionLevel.TOWNSHIP, Division.name == name))


def _open311_app(session: Session, ctx: DemoContext) -> None:
    roles.create(
        session,
        actor=ACTOR,
        code="open311_app",
        name="Open311 上报应用",
        name_en="Open311 reporting app",
        description="第三方上报应用（Open311 接口密钥）",
        permission_codes=["case.open311"],
    )
    app_user = users.create(
        session,
        actor=ACTOR,
        username="open311app",
        display_name="Open311 演示上报应用",
        password=DEMO_PASSWORD,
        is_machine=True,
        must_change_password=False,
    )
    users.set_roles(session, actor=ACTOR, user_id=app_user.id, role_codes=["open311_app"])
    _, plain = tokens.create(
        session, actor=ACTOR, name="demo Open311 app", user_id=app_user.id, scopes=["case.open311"]
    )
    ctx.notes.append(f"Open311 api_key for the demo reporting app: {plain}")
    ctx.notes.append(
        "  e.g. curl -d api_key=<key> -d service_code=M06010 -d lat=28.5925 -d long=119.2745 "
        f"-d description=test {ctx.public_url.rstrip('/')}/open311/v2/requests.json"
    )


def _grid_workers(session: Session, ctx: DemoContext) -> list[int]:
    out = [ctx.user_ids["grid"]] if "grid" in ctx.user_ids else []
    dep = ctx.department_ids.get("妙高街道办事处")
    for i, name in enumerate(("网格员 徐静", "网格员 马超", "网格员 胡兰", "网格员 林峰"), start=1):
        u = users.create(
            session,
            actor=ACTOR,
            username=f"grid{i}",
            display_name=name,
            password=DEMO_PASSWORD,
            department_id=dep,
            must_change_password=False,
        )
        users.set_roles(session, actor=ACTOR, user_id=u.id, role_codes=["inspector"])
        out.append(u.id)
    return out


def load(session: Session, ctx: DemoContext) -> None:
    cats = _setup(session, ctx)
    _open311_app(session, ctx)
    workers = _grid_workers(session, ctx)
    n = generate_history(session, ctx, cats, workers, end=utcnow())
    audit.record(session, actor=ACTOR, action="case.demo.history", detail={"cases": n})
    _intake_desk(session, ctx, cats)
    ctx.notes.append(f"Cases: {n} over the last year (console: /cases, evaluation: /cases/evaluation).")


def _points(session: Session) -> dict[str, list[tuple[float, float, str | None, str | None, str | None]]]:
    from countyos.geo.models import Component

    out: dict[str, list[tuple[float, float, str | None, str | None, str | None]]] = {}
    for cc, lon, lat, g, t, v in session.execute(
        select(
            Component.class_code,
            Component.lon,
            Component.lat,
            Component.grid_code,
            Component.township_code,
            Component.village_code,
        )
    ).all():
        out.setdefault(cc, []).append((lon, lat, g, t, v))
    return out


def generate_history(
    session: Session,
    ctx: DemoContext,
    cats: dict[str, Category],
    workers: list[int],
    *,
    end: datetime,
    per_year: int = CASES_PER_YEAR,
) -> int:
    from countyos.geo.models import Division, Grid

    rng = np.random.default_rng(SEED)
    cal = calendar()
    points = _points(session)
    if not points:
        return 0
    area = dict(session.execute(select(Grid.code, Grid.area_class)).all())
    names = dict(session.execute(select(Division.code, Division.name)).all())
    dep_names = {v: k for k, v in ctx.department_ids.items()}
    rules = {c.id: routing.suggest(session, category=c, township_code=None, grid_code=None) for c in cats.values()}
    town_rules: dict[tuple[int, str], Any] = {}
    start = end - timedelta(days=365)
    # days weighted by season per category and by weekday
    days = np.arange(365)
    next_id = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0) + 1
    cases_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    reporter_rows: list[dict[str, Any]] = []
    dispatch_rows: list[dict[str, Any]] = []
    weights = np.array([w for _, _, w, _ in MIX], dtype=float)
    weights /= weights.sum()
    picks = rng.choice(len(MIX), size=per_year, p=weights)
    channels = [Channel.GRID, Channel.HOTLINE, Channel.WEB, Channel.OPEN311, Channel.STAFF]
    ch_p = [0.55, 0.2, 0.1, 0.1, 0.05]
    limit_cache: dict[tuple[int, str, Step], tuple[float, TimeUnit]] = {}
    local_start = start.astimezone(cal.tz)
    wd = np.array([(local_start + timedelta(days=int(d))).weekday() for d in days])
    weekday = np.where(wd >= 5, 0.55, np.where(wd == 0, 1.25, 1.0))
    month = (local_start.month - 1) / 12.0 + days / 365.0
    day_p = []
    for _kind, _code, _w, peak in MIX:
        season = (
            np.ones(365) if peak == 0 else 0.35 + 0.65 * (0.5 + 0.5 * np.cos(2 * math.pi * (month - (peak - 1) / 12.0)))
        )
        p = season * weekday
        day_p.append(p / p.sum())

    def limit(cat: Category, area_class: str, step: Step) -> tuple[float, TimeUnit]:
        key = (cat.id, area_class, step)
        if key not in limit_cache:
            limit_cache[key] = categories.limit_for(session, category=cat, area_class=area_class, step=step)
        return limit_cache[key]

    def add(t: datetime, hours: float, unit: TimeUnit = TimeUnit.WORKING_HOURS) -> datetime:
        return cal.add(t, hours, unit) if unit is TimeUnit.HOURS else cal.add_working_time(t, timedelta(hours=hours))

    for i, pick in enumerate(picks):
        kind, code, _w, _peak = MIX[pick]
        cat = cats[code]
        day = int(rng.choice(days, p=day_p[pick]))
        minute = int(rng.normal(11 * 60, 150)) % (24 * 60)
        reported = (start + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            minutes=minute - 8 * 60
        )  # local 00:00 ≈ UTC 16:00 the day before
        if i >= len(picks) - FRESH:  # today's reports, still early in the workflow
            reported = end - timedelta(minutes=float(rng.uniform(5, 300)))
        if reported >= end:
            continue
        comp_code = code if kind is CategoryKind.COMPONENT else COMPONENT_OF_MATTER.get(code, "01037")
        pool = points.get(comp_code) or next(iter(points.values()))
        lon, lat, grid, town, village = pool[int(rng.integers(len(pool)))]
        if grid is None or town is None:
            continue
        area_class = str(area.get(grid) or "B")
        channel = channels[int(rng.choice(len(channels), p=ch_p))]
        case_id = next_id
        next_id += 1
        sug = rules.get(cat.id)
        if code.startswith("06") and kind is CategoryKind.MATTER:
            tk = (cat.id, town)
            if tk not in town_rules:
                town_rules[tk] = routing.suggest(session, category=cat, township_code=town, grid_code=grid)
            sug = town_rules[tk]
        dep_id = sug.department_id if sug else None
        slow = SLOWNESS.get(dep_names.get(dep_id or 0, ""), 1.0)
        sim = _simulate(rng, cal, add, limit, cat, area_class, reported, end, slow, channel)
        v = sim.values
        number = reported.astimezone(cal.tz).strftime("%Y%m%d") + f"{case_id:06d}"
        row = {
            "id": case_id,
            "number": number,
            "channel": channel,
            "category_id": cat.id,
            "priority": cat.default_priority,
            "title": f"{cat.name} · {names.get(village or '', '')}".strip(" ·"),
            "description": f"{cat.name}（演示数据）",
            "attributes": {},
            "address": None,
            "lon": lon,
            "lat": lat,
            "county_code": ctx.county_code,
            "township_code": town,
            "township_name": names.get(town),
            "village_code": village,
            "village_name": names.get(village or ""),
            "grid_code": grid,
            "area_class": area_class,
            "state": sim.state,
            "is_open": lifecycle.is_open(sim.state),
            "version": len(sim.events),
            "rework_count": v.get("rework", 0),
            "self_handled": v.get("self", False),
            "verified": None,
            "public_report": channel in (Channel.WEB, Channel.OPEN311, Channel.HOTLINE),
            "department_id": dep_id if v.get("dispatched_at") else None,
            "co_department_ids": list(sug.co_department_ids) if sug and v.get("dispatched_at") else [],
            "co_tags": None,
            "suggested_department_id": dep_id,
            "reporter_user_id": workers[int(rng.integers(len(workers)))]
            if channel is Channel.GRID and workers
            else None,
            "reported_at": reported,
            "created_at": reported,
            "updated_at": sim.events[-1][1],
            "resume_state": None,
            "assignee_id": None,
            "merged_into_id": None,
            "duplicate_of_id": None,
            "external_id": f"12345{number}" if channel is Channel.HOTLINE else None,
            "idempotency_key": None,
            "warn_level": 0,
            "step_extension_s": 0,
            "step_paused_s": 0,
            "paused_at": None,
        }
        for k in (
            "accepted_at",
            "registered_at",
            "register_deadline",
            "dispatched_at",
            "dispatch_deadline",
            "handle_deadline",
            "handled_at",
            "handled_in_time",
            "closed_at",
            "closed_in_time",
            "voided_at",
            "satisfaction",
            "rated_at",
        ):
            row[k] = v.get(k)
        row["satisfaction_comment"] = None
        row["assignee_id"] = row["reporter_user_id"] if sim.state in (State.CHECKING,) else None
        if row["co_department_ids"]:
            row["co_tags"] = "," + ",".join(str(d) for d in row["co_department_ids"]) + ","
        _clock(row, sim, cal, limit, cat, area_class, add)
        cases_rows.append(row)
        for seq, (action, at, frm, to) in enumerate(sim.events, start=1):
            event_rows.append(
                {
                    "case_id": case_id,
                    "seq": seq,
                    "at": at,
                    "actor_id": None,
                    "actor_name": "demo",
                    "role": None,
                    "action": action,
                    "from_state": frm or None,
                    "to_state": to,
                    "comment": None,
                    "internal": False,
                    "attachment_ids": [],
                    "context": {"demo": True},
                    "department_id": row["department_id"],
                    "deadline_before": None,
                    "deadline_after": None,
                }
            )
        reporter_rows.append(
            {
                "case_id": case_id,
                "original_case_id": case_id,
                "channel": channel,
                "user_id": row["reporter_user_id"],
                "name": None,
                "phone_enc": None,
                "phone_index": None,
                "email_enc": None,
                "device_id": None,
                "account_id": None,
                "public_token": people.public_token(),
                "created_at": reported,
            }
        )
        for j, at in enumerate(v.get("dispatches", [])):
            target = dep_id
            if j > 0 and v.get("redispatch_to"):
                target = ctx.department_ids.get(v["redispatch_to"], dep_id)
            if target is not None:
                dispatch_rows.append(
                    {
                        "case_id": case_id,
                        "at": at,
                        "actor_id": None,
                        "actor_name": "demo",
                        "rule_id": sug.rule_id if sug else None,
                        "suggested_department_id": dep_id,
                        "department_id": target,
                        "overridden": j > 0,
                        "reason": None,
                    }
                )
        if i % 2000 == 1999:
            _flush(session, cases_rows, event_rows, reporter_rows, dispatch_rows)
    _flush(session, cases_rows, event_rows, reporter_rows, dispatch_rows)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('case_case', 'id'), (SELECT MAX(id) FROM case_case))")
        )
    return next_id - 1 - (int(session.scalar(select(func.min(Case.id))) or 1) - 1)


def _flush(session: Session, *batches: list[dict[str, Any]]) -> None:
    cases_rows, event_rows, reporter_rows, dispatch_rows = batches
    conn = session.connection()  # Core executemany: no ORM bookkeeping per row
    for model, rows in (
        (Case, cases_rows),
        (CaseEvent, event_rows),
        (Reporter, reporter_rows),
        (DispatchRecord, dispatch_rows),
    ):
        if rows:
            conn.execute(insert(model), rows)
    for b in batches:
        b.clear()


def _simulate(
    rng: np.random.Generator,
    cal: Any,
    add: Any,
    limit: Any,
    cat: Category,
    area_class: str,
    reported: datetime,
    end: datetime,
    slow: float,
    channel: Channel,
) -> Sim:
    events: list[tuple[str, datetime, str, str]] = [("report", reported, "", State.REPORTED)]
    v: dict[str, Any] = {}
    state = State.REPORTED

    def step(action: str, at: datetime, to: State) -> bool:
        nonlocal state
        if at > end:
            return False
        events.append((action, at, state, to))
        state = to
        return True

    t = add(reported, float(rng.uniform(0.05, 0.9)))
    if channel is Channel.GRID and rng.random() < 0.05:
        if step("self_close", t, State.CLOSED):
            v.update(accepted_at=t, closed_at=t, closed_in_time=True, self=True)
        return Sim(reported, state, events, v)
    if rng.random() < 0.03:
        step("reject", t, State.REJECTED)
        return Sim(reported, state, events, v)
    if not step("accept", t, State.ACCEPTED):
        return Sim(reported, state, events, v)
    v["accepted_at"] = t
    reg_deadline = add(t, limit(cat, area_class, Step.REGISTER)[0])
    t = add(t, float(rng.gamma(2.0, 0.25)))
    if not step("register", t, State.REGISTERED):
        return Sim(reported, state, events, v)
    v.update(registered_at=t, register_deadline=reg_deadline)
    if rng.random() < 0.02:
        t2 = add(t, 0.3)
        if step("request_void", t2, State.VOID_REQUESTED) and step("approve_void", add(t2, 0.5), State.VOIDED):
            v["voided_at"] = add(t2, 0.5)
        return Sim(reported, state, events, v)
    disp_deadline = add(t, limit(cat, area_class, Step.DISPATCH)[0])
    t = add(t, float(rng.gamma(2.0, 0.2)))
    if not step("dispatch", t, State.DISPATCHED):
        return Sim(reported, state, events, v)
    v.update(dispatched_at=t, dispatch_deadline=disp_deadline, dispatches=[t])
    rework_p = 0.05 * slow
    cycles = 1 + int(rng.random() < rework_p) + int(rng.random() < rework_p * 0.2)
    amount, unit = limit(cat, area_class, Step.HANDLE)
    limit_h = amount * (24 if unit is TimeUnit.HOURS else (7.5 if unit is TimeUnit.WORKING_DAYS else 1))
    if rng.random() < 0.03:  # a wrong department: returned and re-dispatched
        t = add(t, 1.0)
        if not (
            step("request_return", t, State.RETURN_REQUESTED) and step("approve_return", add(t, 0.5), State.REGISTERED)
        ):
            return Sim(reported, state, events, v)
        t = add(t, 1.0)
        if not step("dispatch", t, State.DISPATCHED):
            return Sim(reported, state, events, v)
        v["dispatches"].append(t)
    for cycle in range(cycles):
        deadline = add(t, limit_h, TimeUnit.HOURS if unit is TimeUnit.HOURS else TimeUnit.WORKING_HOURS)
        v["handle_deadline"] = deadline
        t = add(t, float(rng.uniform(0.1, 1.0)))
        if not step("sign", t, State.HANDLING):
            return Sim(reported, state, events, v)
        took = limit_h * float(rng.lognormal(math.log(0.55 * slow), 0.45))
        t = add(t, took, TimeUnit.HOURS if unit is TimeUnit.HOURS else TimeUnit.WORKING_HOURS)
        if not step("feedback", t, State.FEEDBACK):
            return Sim(reported, state, events, v)
        v.update(handled_at=t, handled_in_time=t <= deadline)
        t = add(t, float(rng.uniform(0.2, 1.5)))
        if not step("send_check", t, State.CHECKING):
            return Sim(reported, state, events, v)
        check_deadline = add(
            t,
            limit(cat, area_class, Step.CHECK)[0]
            * (7.5 if limit(cat, area_class, Step.CHECK)[1] is TimeUnit.WORKING_DAYS else 1),
        )
        t = add(t, float(rng.gamma(2.0, 0.8)))
        if cycle < cycles - 1:
            if not step("check_fail", t, State.DISPATCHED):
                return Sim(reported, state, events, v)
            v["rework"] = v.get("rework", 0) + 1
            continue
        if not step("check_pass", t, State.CHECKED):
            return Sim(reported, state, events, v)
        _ = check_deadline
    close_deadline = add(t, 2.0)
    t = add(t, float(rng.uniform(0.1, 1.2)))
    if not step("close", t, State.CLOSED):
        return Sim(reported, state, events, v)
    v.update(closed_at=t, closed_in_time=bool(v.get("handled_in_time")) and t <= close_deadline)
    if channel in (Channel.WEB, Channel.OPEN311, Channel.HOTLINE) and rng.random() < 0.7:
        good = v["closed_in_time"] and not v.get("rework")
        p = [0.45, 0.35, 0.12, 0.06, 0.02] if good else [0.12, 0.28, 0.25, 0.23, 0.12]
        sat = ["very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied", "very_dissatisfied"][
            int(rng.choice(5, p=p))
        ]
        t = t + timedelta(hours=float(rng.uniform(2, 30)))
        if step("rate", t, State.EVALUATED):
            v.update(satisfaction=sat, rated_at=t)
    return Sim(reported, state, events, v)


def _clock(row: dict[str, Any], sim: Sim, cal: Any, limit: Any, cat: Category, area_class: str, add: Any) -> None:
    """The current step's clock for a case still open at the end of the history."""
    row.update(
        step=None,
        step_seq=len(sim.events),
        step_started_at=None,
        step_unit=None,
        step_limit_s=0,
        step_warn_at=None,
        step_deadline=None,
    )
    if not row["is_open"]:
        return
    step = STATE_STEP.get(State(sim.state))
    if step is None:
        return
    started = sim.events[-1][1]
    if step is Step.HANDLE:
        started = max(at for a, at, _f, _t in sim.events if a in ("dispatch", "check_fail"))
    amount, unit = limit(cat, area_class, step)
    row.update(step=step, step_started_at=started, step_unit=unit, step_limit_s=timers.limit_seconds(amount, unit))
    budget = row["step_limit_s"]
    if unit is TimeUnit.HOURS:
        row["step_deadline"] = started + timedelta(seconds=budget)
        row["step_warn_at"] = started + timedelta(seconds=0.8 * budget)
    else:
        row["step_deadline"] = cal.add_working_time(started, timedelta(seconds=budget))
        row["step_warn_at"] = cal.add_working_time(started, timedelta(seconds=0.8 * budget))
    row["warn_level"] = 0
