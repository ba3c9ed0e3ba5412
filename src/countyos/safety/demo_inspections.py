"""The demo county's hidden-danger inspections (隐患排查): the packaged checklists, about forty key places over
the townships (schools, markets, a few 危化品 firms and filling stations, 九小场所, a care home, a building
site) with their responsible persons, and a year of inspections (December 2025 to November 2026) at each
place's frequency by grade by aqjc and grid; about 15 % find hazards, each a case through the cases
service. Most were rectified and closed by a re-inspection (their cases closed with them), a few are open,
two are overdue and one open hazard is major.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.service import routing
from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.errors import CountyError
from countyos.geo.models import Division, DivisionLevel
from countyos.geo.service import divisions
from countyos.safety.models.inspections import Hazard, HazardLevel, HazardState, Outcome, Place, RiskGrade
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.schemas.inspections import AnswerIn, InspectionIn, PlaceIn, RectifyIn, ReinspectIn
from countyos.safety.service import inspections as places
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs

SEED = 20261204
FIRST = date(2025, 12, 1)
LAST = date(2026, 11, 30)
FINDING_SHARE = 0.15
KEEPER = Actor(id=None, name="demo", permissions=frozenset({INSPECT_MANAGE, INSPECT}))

# (name, kind, grade); townships are given in turn, so every township gets a mix
PLACES: list[tuple[str, str, str]] = [
    ("遂昌县实验小学", "school", "A"), ("妙高中学", "school", "B"), ("云峰小学", "school", "B"),
    ("北界镇中心小学", "school", "C"), ("大柘镇中心幼儿园", "school", "B"), ("遂昌县职业中专", "school", "B"),
    ("城北农贸市场", "market", "A"), ("云峰农贸市场", "market", "B"), ("大柘农贸市场", "market", "C"),
    ("浙西化工有限公司", "hazchem", "A"), ("金竹气体充装站", "hazchem", "A"), ("遂昌县民爆器材仓库", "hazchem", "A"),
    ("中石化妙高加油站", "gas_station", "A"), ("中石油北界加油站", "gas_station", "B"),
    ("县社会福利中心（养老院）", "care_home", "A"), ("大柘镇敬老院", "care_home", "B"),
    ("城东安置房二期工地", "building_site", "A"), ("遂昌万达广场", "crowded", "A"), ("县人民影剧院", "crowded", "B"),
    ("阿芳小吃店", "small_restaurant", "C"), ("老街面馆", "small_restaurant", "C"),
    ("湘味小炒", "small_restaurant", "C"),
    ("友谊便利店", "small_shop", "D"), ("百货小超市", "small_shop", "D"), ("农资小店", "small_shop", "C"),
    ("山水客栈", "small_hotel", "B"), ("车站旅社", "small_hotel", "B"), ("金曲KTV", "small_ktv", "B"),
    ("星空网吧", "small_netbar", "C"), ("极速网咖", "small_netbar", "C"), ("丽人美容院", "small_beauty", "C"),
    ("温泉足浴", "small_beauty", "C"), ("竹木加工厂", "small_workshop", "B"), ("茶叶加工作坊", "small_workshop", "C"),
    ("惠民诊所", "small_clinic", "C"), ("社区卫生服务站", "small_clinic", "D"), ("启航培训学校", "small_training", "C"),
    ("书香辅导班", "small_training", "D"), ("红星五金店", "small_shop", "D"), ("乡味小吃", "small_restaurant", "D"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = ["建国", "海燕", "丽华", "志强", "秀英", "伟", "芳", "军", "敏", "静", "小明", "红梅", "国平", "晓东"]
NOTES = {
    "fire": "灭火器压力不足，已超检验期",
    "exits": "疏散通道堆放货物",
    "electric": "电线私拉乱接，插线板串接使用",
    "gas": "燃气软管老化，未装报警器",
    "hazchem": "危化品储存台账与实物不符",
    "structure": "墙体出现裂缝，需鉴定",
    "records": "防火巡查记录缺失",
    "site": "临边防护缺失",
}


@dataclass
class Made:
    inspections: int = 0
    hazards: int = 0
    cases: int = 0


def _towns(session: Session) -> list[Division]:
    rows = session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP).order_by(Division.code))
    return [d for d in rows if d.geom is not None]


def _point_in(town: Division, rng: np.random.Generator) -> tuple[float, float]:
    geom = town.geom
    centre = geom.representative_point()
    for _ in range(30):
        x = float(centre.x + rng.uniform(-0.02, 0.02))
        y = float(centre.y + rng.uniform(-0.02, 0.02))
        if geom.contains(Point(x, y)):
            return round(x, 6), round(y, 6)
    return round(float(centre.x), 6), round(float(centre.y), 6)


def _person(rng: np.random.Generator) -> str:
    return SURNAMES[int(rng.integers(0, len(SURNAMES)))] + GIVEN[int(rng.integers(0, len(GIVEN)))]


def _places(session: Session, rng: np.random.Generator) -> list[Place]:
    towns = _towns(session)
    made = []
    for k, (name, kind, grade) in enumerate(PLACES):
        town = towns[k % len(towns)]
        lon, lat = _point_in(town, rng)
        data = PlaceIn(
            name=name, kind=kind, address=f"{town.name}{name}", lon=lon, lat=lat, responsible_name=_person(rng),
            responsible_phone=f"13{int(rng.integers(5, 10))}{int(rng.integers(10_000_000, 99_999_999))}",
            safety_manager=_person(rng), grade=RiskGrade(grade),
        )  # fmt: skip
        try:
            with session.begin_nested():
                made.append(places.create(session, actor=KEEPER, data=data, audited=False))
        except CountyError:
            continue
    return made


def _visits(grade: RiskGrade, rng: np.random.Generator, last: date) -> list[date]:
    months = places.every_months(grade)
    day = FIRST + timedelta(days=int(rng.integers(0, min(28, months * 28))))
    out = []
    while day <= last:
        out.append(day)
        day = places.add_months(day, months) + timedelta(days=int(rng.integers(-3, 4)))
    return out


def _at(day: date, rng: np.random.Generator) -> datetime:
    hour = float(rng.uniform(8.5, 16.5))  # local time; the county is UTC+8
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)


def _answers(items: list[dict[str, Any]], failed: set[str]) -> list[AnswerIn]:
    out = []
    for item in items:
        code = item["code"]
        if code in failed:
            out.append(AnswerIn(code=code, outcome=Outcome.FAIL, note=NOTES.get(item["category"], "不符合要求")))
        else:
            out.append(AnswerIn(code=code, outcome=Outcome.PASS))
    return out


def _follow_up(session: Session, h: Hazard, who: Actor, rng: np.random.Generator, today: date) -> None:
    """Rectified within the deadline and re-inspected; one in eight fails its first re-inspection."""
    span = max(2, (h.deadline_on - h.found_at.date()).days - 1)
    fixed = h.found_at + timedelta(days=float(rng.uniform(1, span)))
    if fixed.date() >= today:
        return
    hazards.rectify(session, actor=who, hazard_id=h.id, data=RectifyIn(note="已按要求整改完毕"), now=fixed)
    check = fixed + timedelta(days=float(rng.uniform(1, 4)))
    if check.date() >= today:
        return
    if rng.random() < 0.125:
        hazards.reinspect(session, actor=who, hazard_id=h.id, data=ReinspectIn(passed=False, note="整改不彻底"),
                          now=check)  # fmt: skip
        fixed = check + timedelta(days=float(rng.uniform(2, 6)))
        if fixed.date() >= today:
            return
        hazards.rectify(session, actor=who, hazard_id=h.id, data=RectifyIn(note="再次整改完毕"), now=fixed)
        check = fixed + timedelta(days=float(rng.uniform(1, 3)))
        if check.date() >= today:
            return
    hazards.reinspect(session, actor=who, hazard_id=h.id, data=ReinspectIn(passed=True, note="复查合格，予以销号"),
                      now=check)  # fmt: skip


def _inspect(
    session: Session,
    place: Place,
    items: list[dict[str, Any]],
    failed: set[str],
    who: Actor,
    at: datetime,
    made: Made,
) -> list[Hazard]:
    data = InspectionIn(place_id=place.id, answers=_answers(items, failed))
    insp = runs.record(session, actor=who, data=data, at=at)
    made.inspections += 1
    found = list(session.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)))
    made.hazards += len(found)
    made.cases += sum(1 for h in found if h.case_id is not None)
    return found


def load(session: Session, ctx: Any) -> None:
    if divisions.the_county(session) is None or session.scalar(select(Place.id).limit(1)) is not None:
        return
    rng = np.random.default_rng(SEED)
    checklists.load_packaged(session, actor=KEEPER)
    emergency = ctx.department_ids.get("县应急管理局")
    if emergency is not None:  # hidden dangers go to the emergency management bureau, which hands them on
        routing.save_rule(session, actor=KEEPER, category_id=runs.category_id(session, actor=KEEPER),
                          department_id=emergency, note="安全隐患由县应急管理局受理")  # fmt: skip
    made_places = _places(session, rng)
    if not made_places:
        return
    people = ctx.user_ids
    inspectors = [
        Actor(id=people.get(u), name=u, permissions=frozenset({INSPECT}))
        for u in ("aqjc", "grid")
        if people.get(u) is not None
    ] or [Actor(id=None, name="demo", permissions=frozenset({INSPECT}))]
    today = county_today()
    last = min(LAST, today - timedelta(days=1))
    made = Made()
    for k, place in enumerate(made_places):
        cl = checklists.current_for_kind(session, kind=place.kind)
        who = inspectors[k % len(inspectors)]
        for day in _visits(place.grade, rng, last):
            failed: set[str] = set()
            if rng.random() < FINDING_SHARE:
                codes = [i["code"] for i in cl.items]
                size = 1 + int(rng.random() < 0.3)
                failed = {codes[int(j)] for j in rng.choice(len(codes), size=size, replace=False)}
            for h in _inspect(session, place, cl.items, failed, who, _at(day, rng), made):
                _follow_up(session, h, who, rng, today)  # the recent ones stay open: their deadline has not come
    # two hazards left open past their deadline, and one major hazard found last week, still open
    small = [p for p in made_places if p.grade in (RiskGrade.C, RiskGrade.D)][:2]
    for n, place in enumerate(small):
        cl = checklists.current_for_kind(session, kind=place.kind)
        general = next(i["code"] for i in cl.items if i.get("level") == HazardLevel.GENERAL.value)
        _inspect(session, place, cl.items, {general}, inspectors[n % len(inspectors)],
                 _at(today - timedelta(days=40 + 9 * n), rng), made)  # fmt: skip
    big = next((p for p in made_places if p.grade is RiskGrade.A), made_places[0])
    cl = checklists.current_for_kind(session, kind=big.kind)
    major = next(i["code"] for i in cl.items if i.get("level") == HazardLevel.MAJOR.value)
    _inspect(session, big, cl.items, {major}, inspectors[0], _at(today - timedelta(days=5), rng), made)
    hazards.sweep_overdue(session, today=today)
    session.flush()
    still = session.scalars(select(Hazard.state).where(Hazard.state != HazardState.CLOSED)).all()
    ctx.notes.append(
        f"Safety inspections: {len(made_places)} key places, {made.inspections} inspections, {made.hazards} hidden "
        f"dangers ({made.cases} cases), {len(still)} not closed — /safety/places, /safety/hazards"
    )
