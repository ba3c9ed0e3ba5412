"""The modules part of the demonstration county: the programme's three phases (一期 急用先行 2025, 二期 2026,
三期 2027 planned) with their goals, every module placed on its phase with the day it went (or goes) live, and
every module on — each switched on by the system administrator on its go-live day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_zone
from countyos.programme.permissions import MANAGE, MODULES
from countyos.programme.schemas.modules import PhaseIn
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases

PHASES: tuple[dict[str, Any], ...] = (
    {
        "number": 1,
        "name": "一期 急用先行",
        "goal": "先建县里每天最急需的：一网统管的事件闭环、物联感知、政务服务和应急安全，"
        "统一账号、空间底图和城市运行总览同步上线，让全县运行先跑起来、用起来。",
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
    },
    {
        "number": 2,
        "name": "二期 扩面提质",
        "goal": "数据共享与开放、居民门户、智慧生态和数字乡村上线；成立本地运营公司，"
        "按考核结果付费，以真实使用量检验每个模块，避免盆景工程。",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 12, 31),
    },
    {
        "number": 3,
        "name": "三期 融合深化",
        "goal": "跨部门业务深度融合：预案、事件与数据产品联动，生态伙伴应用上架服务全县；"
        "按盆景指数调整投入，用得少的模块先整改再扩建。",
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 12, 31),
    },
)

# (module, phase number, go-live day, note) — in the order they went live
PLAN: tuple[tuple[str, int, date, str], ...] = (
    ("org", 1, date(2025, 1, 6), "统一账号与审计，平台基础"),
    ("geo", 1, date(2025, 1, 6), "行政区划、网格和底图"),
    ("cases", 1, date(2025, 3, 1), "急用先行：事件闭环与12345"),
    ("sensing", 1, date(2025, 4, 1), "急用先行：水位、气象等物联感知"),
    ("services", 1, date(2025, 5, 1), "急用先行：政务服务事项与好差评"),
    ("ioc", 1, date(2025, 6, 1), "城市运行总览"),
    ("safety", 1, date(2025, 9, 1), "急用先行：防汛预案与应急响应"),
    ("programme", 2, date(2026, 1, 15), "长效运营：项目、合同与按效付费"),
    ("data", 2, date(2026, 2, 1), "政务数据目录、共享与开放"),
    ("portal", 2, date(2026, 3, 1), "居民门户"),
    ("eco", 2, date(2026, 5, 1), "空气、水质、河长制和GEP核算"),
    ("village", 2, date(2026, 7, 1), "农事、合格证、产销和乡村旅游"),
)


def load(session: Session, ctx: Any) -> None:
    user_ids = getattr(ctx, "user_ids", {}) or {}
    office = Actor(id=user_ids.get("xmb"), name="demo", permissions=frozenset({MANAGE}))
    admin = Actor(id=user_ids.get("sysadmin"), name="demo", permissions=frozenset({MODULES}))
    by_number = {p["number"]: phases.create(session, actor=office, data=PhaseIn.model_validate(p)).id for p in PHASES}
    zone = county_zone()
    for code, number, live_on, note in PLAN:
        modules.plan(session, actor=admin, code=code, phase_id=by_number[number], planned_on=live_on, note=note)
        if code in modules.SWITCHABLE:
            row = modules.switch(session, actor=admin, code=code, on=True, note=note)
            row.switched_at = datetime.combine(live_on, time(9, 0), tzinfo=zone)  # switched on the go-live day
    session.flush()
