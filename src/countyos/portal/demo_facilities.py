"""The demo county's public service directory: 40 facilities of every kind over its townships and
villages — schools, 县人民医院 and 县中医院, 乡镇卫生院 and 村卫生室, pharmacies, 便民服务中心 and 村代办点,
public toilets, parking, bus stops, charging points, shelters, the sports centre, the library and
农家书屋, 文化礼堂 — each kept by the department that runs it, at a point inside its division.

The sensing demo has no parking sensor, so the car parks carry no live figure; the sports centre shows
the visitors counted by ``visitor_counter-01`` (近10分钟客流) when that device exists.

``load(session, ctx)`` runs after the org, geo, services and sensing demos (it needs their departments,
divisions and devices); departments it does not find are added.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.demo import DemoContext
from countyos.geo.models import Division, DivisionLevel
from countyos.org.models import DepartmentKind
from countyos.org.service import departments
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import FacilityIn
from countyos.portal.service import facilities
from countyos.sensing.service import streams

DEMO = Actor(id=None, name="demo")
K = FacilityKind
WEEKDAYS = "周一至周五 8:30-12:00，14:30-17:30（夏令时 15:00-18:00）"
ALWAYS = "全天开放"

KEEPERS = {
    "edu": "县教育局",
    "health": "县卫生健康局",
    "market": "县市场监督管理局",
    "centre": "县政务服务中心",
    "enforce": "县综合行政执法局",
    "transport": "县交通运输局",
    "emergency": "县应急管理局",
    "culture": "县文化和广电旅游体育局",
}


@dataclass(frozen=True)
class Spec:
    keeper: str  # a KEEPERS key, or "town" for the township's own government
    kind: FacilityKind
    name: str  # {town} and {village} are filled in with the division's short name
    where: str  # "seat" (the county seat), "town" (a township), "village"
    hours: str = ""
    phone: str = ""
    services: str = ""


SPECS = [
    Spec("edu", K.SCHOOL, "县实验小学", "seat", "周一至周五 7:30-17:00", "0578-8122101", "小学一至六年级"),
    Spec("edu", K.SCHOOL, "县第一中学", "seat", "周一至周五 7:00-17:30", "0578-8122102", "初中、高中"),
    Spec("edu", K.SCHOOL, "{town}中心小学", "town", "周一至周五 7:30-16:30", "", "小学、附设幼儿园"),
    Spec("edu", K.SCHOOL, "{town}中心幼儿园", "town", "周一至周五 7:40-16:30"),
    Spec(
        "health",
        K.HOSPITAL,
        "县人民医院",
        "seat",
        "门诊 8:00-17:00，急诊 24 小时",
        "0578-8121120",
        "急诊、门诊、住院、体检",
    ),
    Spec("health", K.HOSPITAL, "县中医院", "seat", "门诊 8:00-17:00", "0578-8123320", "中医、针灸推拿、康复"),
    Spec(
        "health",
        K.CLINIC,
        "{town}卫生院",
        "town",
        "门诊 8:00-17:00，急诊 24 小时",
        "0578-8151120",
        "常见病诊治、预防接种、慢病管理",
    ),
    Spec(
        "health",
        K.CLINIC,
        "{town}卫生院",
        "town",
        "门诊 8:00-17:00",
        "0578-8161120",
        "常见病诊治、预防接种、老年人体检",
    ),
    Spec("health", K.CLINIC, "{town}卫生院", "town", "门诊 8:00-17:00", "0578-8171120", "常见病诊治、妇幼保健"),
    Spec("health", K.CLINIC, "{village}卫生室", "village", "8:00-11:30，14:00-17:00", "", "常见病、配药、测血压血糖"),
    Spec("health", K.CLINIC, "{village}卫生室", "village", "8:00-11:30，14:00-17:00", "", "常见病、配药"),
    Spec("health", K.CLINIC, "{village}卫生室", "village", "每周一、三、五上午", "", "巡回诊疗、配药"),
    Spec("market", K.PHARMACY, "县百姓大药房", "seat", "7:30-21:30", "0578-8125566", "医保刷卡、中西药"),
    Spec("market", K.PHARMACY, "{town}惠民药店", "town", "8:00-20:00", "", "医保刷卡"),
    Spec(
        "centre",
        K.SERVICE_CENTRE,
        "县政务服务中心",
        "seat",
        WEEKDAYS + "，周六上午",
        "0578-8120000",
        "一站式办理各类政务服务事项",
    ),
    Spec(
        "town",
        K.SERVICE_CENTRE,
        "{town}便民服务中心",
        "town",
        WEEKDAYS,
        "",
        "社保、医保、民政、农业补贴、不动产登记代办",
    ),
    Spec("town", K.SERVICE_CENTRE, "{town}便民服务中心", "town", WEEKDAYS, "", "社保、医保、民政、计生"),
    Spec("town", K.SERVICE_CENTRE, "{town}便民服务中心", "town", WEEKDAYS, "", "社保、医保、民政"),
    Spec(
        "town",
        K.AGENT_POINT,
        "{village}代办点",
        "village",
        "周一至周五 9:00-11:30",
        "",
        "医保缴费、证明开具、代办事项受理",
    ),
    Spec("town", K.AGENT_POINT, "{village}代办点", "village", "周一、三、五 9:00-11:30", "", "代办事项受理"),
    Spec("town", K.AGENT_POINT, "{village}代办点", "village", "周二、四 14:00-16:30", "", "代办事项受理、邮政代收"),
    Spec("enforce", K.TOILET, "城东公厕", "seat", ALWAYS, "", "无障碍厕位、母婴室"),
    Spec("enforce", K.TOILET, "人民广场公厕", "seat", ALWAYS, "", "无障碍厕位"),
    Spec("enforce", K.TOILET, "{town}集镇公厕", "town", "6:00-22:00"),
    Spec("enforce", K.TOILET, "{village}旅游公厕", "village", "6:00-22:00"),
    Spec("enforce", K.PARKING, "人民广场地下停车场", "seat", ALWAYS, "0578-8128899", "320 个泊位，首小时免费"),
    Spec("enforce", K.PARKING, "{town}集镇停车场", "town", ALWAYS, "", "60 个泊位，免费"),
    Spec(
        "transport",
        K.BUS_STOP,
        "汽车站（公交总站）",
        "seat",
        "5:50-19:30",
        "0578-8122233",
        "城区公交 1、2、3 路，城乡公交",
    ),
    Spec("transport", K.BUS_STOP, "{town}公交站", "town", "6:20-18:30", "", "城乡公交"),
    Spec("transport", K.BUS_STOP, "{village}村口公交站", "village", "6:30-18:00", "", "城乡公交"),
    Spec("transport", K.CHARGING, "人民广场充电站", "seat", ALWAYS, "0578-8128800", "快充 8 个，慢充 12 个"),
    Spec("transport", K.CHARGING, "{town}集镇充电桩", "town", ALWAYS, "", "快充 2 个"),
    Spec(
        "emergency", K.SHELTER, "县体育中心应急避难场所", "seat", "启动应急响应时开放", "0578-8123110", "可容纳 2000 人"
    ),
    Spec("emergency", K.SHELTER, "{town}中心小学避灾安置点", "town", "启动应急响应时开放", "", "可容纳 300 人"),
    Spec("culture", K.SPORTS, "县全民健身中心", "seat", "9:00-21:00", "0578-8126600", "游泳馆、羽毛球、篮球、健身房"),
    Spec(
        "culture",
        K.LIBRARY,
        "县图书馆",
        "seat",
        "周二至周日 8:30-20:30",
        "0578-8124400",
        "借阅、自习、少儿阅览、电子阅览",
    ),
    Spec("culture", K.LIBRARY, "{village}农家书屋", "village", "周末 9:00-17:00", "", "图书借阅"),
    Spec("culture", K.LIBRARY, "{village}农家书屋", "village", "每天 14:00-17:00", "", "图书借阅"),
    Spec("culture", K.CULTURE_HALL, "{village}文化礼堂", "village", "活动时开放", "", "村晚、宣讲、婚丧喜事、老年活动"),
    Spec("culture", K.CULTURE_HALL, "{village}文化礼堂", "village", "活动时开放", "", "文艺演出、农民学校"),
]


def _short(name: str) -> str:
    for tail in ("村民委员会", "村委会", "居民委员会", "社区居委会"):
        if name.endswith(tail):
            return name[: -len(tail)] + ("村" if "村" in tail else "社区")
    return name


def _spot(geom: BaseGeometry, rng: random.Random) -> tuple[float, float]:
    """A point well inside the division (near its middle, never on its edge)."""
    inner = geom.buffer(-0.002) if geom.area > 1e-5 else geom
    shape = inner if not inner.is_empty else geom
    minx, miny, maxx, maxy = shape.bounds
    for _ in range(200):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if shape.contains(p):
            return round(p.x, 6), round(p.y, 6)
    p = geom.representative_point()
    return round(p.x, 6), round(p.y, 6)


def _keeper(session: Session, ctx: DemoContext, name: str, division_code: str | None, kind: DepartmentKind) -> Actor:
    dep = departments.get_by_name(session, name=name)
    if dep is None:
        dep = departments.create(session, actor=DEMO, name=name, kind=kind, division_code=division_code)
        ctx.department_ids[name] = dep.id
    return Actor(id=None, name="demo", permissions=frozenset({facilities.MANAGE}), department_id=dep.id)


def load(session: Session, ctx: DemoContext) -> None:
    if session.scalar(select(func.count()).select_from(Facility)):
        return
    county = session.scalars(select(Division).where(Division.level == DivisionLevel.COUNTY)).first()
    if county is None:
        return
    towns = list(session.scalars(select(Division).where(Division.parent_code == county.code).order_by(Division.code)))
    if not towns:
        return
    seat = next((t for t in towns if t.name in ("妙高街道", "妙高镇")), towns[0])
    others = [t for t in towns if t.code != seat.code] or towns
    village_rows = select(Division).where(Division.level == DivisionLevel.VILLAGE).order_by(Division.code)
    villages = list(session.scalars(village_rows.where(Division.parent_code.in_([t.code for t in others]))))
    villages = villages or list(session.scalars(village_rows))
    rng = random.Random(20261217)
    counters = {"town": 0, "village": 0}
    keepers: dict[str, Actor] = {}
    visitors = streams.by_key(session, "visitor_counter-01", "visitors")
    for spec in SPECS:
        if spec.where == "seat":
            division = seat
        else:
            pool = others if spec.where == "town" else (villages or others)
            division = pool[counters[spec.where] % len(pool)]
            counters[spec.where] += 1
        town = next((t for t in towns if t.code == division.code[:9]), seat)
        if spec.keeper == "town":
            key, name, kind = town.code, f"{town.name}人民政府", DepartmentKind.TOWNSHIP
            division_code: str | None = town.code
        else:
            key, name, kind, division_code = spec.keeper, KEEPERS[spec.keeper], DepartmentKind.DEPARTMENT, None
        if key not in keepers:
            keepers[key] = _keeper(session, ctx, name, division_code, kind)
        lon, lat = _spot(division.geom, rng)
        title = spec.name.format(town=town.name, village=_short(division.name))
        live = spec.kind is K.SPORTS and visitors is not None
        data = FacilityIn(
            kind=spec.kind,
            name=title,
            address=f"{town.name}{_short(division.name) if division.level == DivisionLevel.VILLAGE else ''}",
            lon=lon,
            lat=lat,
            phone=spec.phone,
            hours=spec.hours,
            services=spec.services,
            datastream_id=visitors.id if live and visitors is not None else None,
            live_label="近10分钟客流" if live else "",
        )
        facilities.create(session, actor=keepers[key], data=data)
    session.flush()
    ctx.notes.append(
        f"Portal: {len(SPECS)} public facilities at /portal/facilities (nearest first, search by pinyin initials); "
        "departments keep them at /portal/facilities/manage (notice publishers and data providers may)."
    )
